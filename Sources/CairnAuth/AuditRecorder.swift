import CairnCore
import CairnStore
import Logging
import ServiceLifecycle
import Synchronization

/// Collects audit entries from requests and appends them to the store in batches, off the
/// request path: a write pays for an append to a buffer, not for a second transaction. The
/// buffer is flushed every `interval` and at shutdown, after the server has stopped taking
/// requests (services stop in reverse order), so an orderly stop loses none.
public final class AuditRecorder: Service {
    let store: any AuthStore
    let interval: Duration
    let logger: Logger
    let buffer = Mutex<[AuditEntry]>([])
    let sequence = Atomic<UInt64>(0)
    /// Made once per process: ids from two servers on one database never collide, and a write
    /// pays for a counter, not for a random id.
    let processTag = String(CairnID.make().prefix(8))

    public init(store: any AuthStore, interval: Duration = .milliseconds(200), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func record(_ entry: AuditEntry) {
        buffer.withLock { $0.append(entry) }
    }

    /// An id that sorts by time, then by the order this server recorded entries in the same
    /// millisecond, so the log reads back in the order things happened.
    public func nextID(time: Int64) -> String {
        let count = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let padded = { (value: UInt64, width: Int) in String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
        return padded(UInt64(max(0, time)), 15) + "-" + padded(count, 12) + "-" + processTag
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        await flush()
    }

    /// Writes what is buffered; on a failure the entries go back to the front of the buffer
    /// for the next flush.
    public func flush() async {
        let entries = buffer.withLock { buffer in
            let taken = buffer
            buffer.removeAll(keepingCapacity: true)
            return taken
        }
        guard !entries.isEmpty else { return }
        do {
            try await store.appendAudit(entries)
        } catch {
            logger.error("Audit log write failed; retrying", metadata: ["error": "\(error)", "entries": "\(entries.count)"])
            buffer.withLock { $0.insert(contentsOf: entries, at: 0) }
        }
    }
}
