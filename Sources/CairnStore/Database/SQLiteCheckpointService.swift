import Logging
import ServiceLifecycle

/// Runs SQLite WAL checkpoints in the background while the server runs, so the writer
/// never pays for them (see `SQLiteMetadataDatabase.open`).
public struct SQLiteCheckpointService: Service {
    let database: SQLiteMetadataDatabase
    let interval: Duration

    public func run() async throws {
        // Stops at graceful shutdown; `shutdown()` does the final, truncating checkpoint.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                try? await database.checkpoint()
            }
        }
    }
}
