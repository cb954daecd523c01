import CairnCore
import PostgresNIO

/// Unique-constraint violations of either database, as the domain error they mean.
///
/// Stores check for an existing row before they insert, with their own message; this catches
/// what such a check cannot see (two creates of one name racing on PostgreSQL, where the
/// check runs under READ COMMITTED) so the loser gets RESOURCE_ALREADY_EXISTS, not a 500.
/// Every `MetadataDatabase.transaction` passes its errors through here.
enum UniqueViolation {
    static func mapped(_ error: any Error) -> any Error {
        switch error {
        case let error as SQLiteDirectError:
            // Extended result codes are on: SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY.
            guard error.code == 2067 || error.code == 1555 else { return error }
            return CairnError.alreadyExists("Resource already exists: \(error.message)")
        case let error as PSQLError:
            // 23505 is unique_violation.
            guard error.serverInfo?[.sqlState] == "23505" else { return error }
            let detail = error.serverInfo?[.detail] ?? error.serverInfo?[.message] ?? "unique constraint violated"
            return CairnError.alreadyExists("Resource already exists: \(detail)")
        default:
            return error
        }
    }
}
