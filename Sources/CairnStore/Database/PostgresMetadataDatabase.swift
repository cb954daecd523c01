import Logging
import PostgresKit
import PostgresNIO
import SQLKit
import ServiceLifecycle

/// PostgreSQL through PostgresNIO's connection pool. The pool runs as a service, so the
/// server's service group owns its lifetime.
public final class PostgresMetadataDatabase: MetadataDatabase, Service {
    public var kind: DatabaseKind { .postgres }

    public let client: PostgresClient

    public init(url: String, logger: Logger) throws {
        let sqlConfiguration = try SQLPostgresConfiguration(url: url)
        let core = sqlConfiguration.coreConfiguration
        guard let host = core.host else {
            throw CairnStoreError.configuration("PostgreSQL URL must name a host: \(url)")
        }
        let configuration = PostgresClient.Configuration(
            host: host, port: core.port ?? 5432, username: core.username, password: core.password,
            database: core.database, tls: .disable
        )
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    public func run() async throws {
        await client.run()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil))
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let database = connection.sql(queryLogLevel: nil)
            try await database.raw("BEGIN").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw UniqueViolation.mapped(error)
            }
        }
    }

    public func shutdown() async throws {}
}

public enum CairnStoreError: Error, CustomStringConvertible {
    case configuration(String)
    case migration(String)
    /// Derived tables (a series' metric blocks) disagree with what they are derived from.
    case inconsistent(String)

    public var description: String {
        switch self {
        case .configuration(let message), .migration(let message), .inconsistent(let message): message
        }
    }
}
