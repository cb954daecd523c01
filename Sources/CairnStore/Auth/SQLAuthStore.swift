import CairnCore
import SQLKit

/// `AuthStore` on any `MetadataDatabase`. User ids are MLflow's small integers, the next one
/// taken inside the creating transaction (two creates racing on PostgreSQL collide on the
/// primary key and the loser is told RESOURCE_ALREADY_EXISTS, never given a shared id).
public struct SQLAuthStore: AuthStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    public func createUser(username: String, passwordHash: String, isAdmin: Bool, at time: Int64) async throws -> User {
        let kind = database.kind
        return try await database.transaction { sql in
            try await kind.takeTurns(sql, on: "cairn.cairn_users/user_id")
            if try await sql.raw("SELECT user_id FROM cairn_users WHERE username = \(bind: username)").first() != nil {
                throw CairnError.alreadyExists("User (username=\(username)) already exists.")
            }
            let id = try await kind.nextID(sql, column: "user_id", table: "cairn_users")
            try await sql.raw(
                """
                INSERT INTO cairn_users (user_id, username, password_hash, is_admin, creation_time)
                VALUES (\(bind: id), \(bind: username), \(bind: passwordHash), \(bind: isAdmin), \(bind: time))
                """
            ).run()
            return User(id: id, username: username, isAdmin: isAdmin)
        }
    }

    static func user(_ row: any SQLRow) throws -> User {
        User(
            id: try row.decode(column: "user_id", as: Int64.self),
            username: try row.decode(column: "username", as: String.self),
            isAdmin: try row.decode(column: "is_admin", as: Bool.self))
    }

    public func storedUser(username: String) async throws -> StoredUser? {
        try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM cairn_users WHERE username = \(bind: username)").first() else { return nil }
            return StoredUser(user: try Self.user(row), passwordHash: try row.decode(column: "password_hash", as: String.self))
        }
    }

    public func user(id: Int64) async throws -> User? {
        try await database.read { sql in
            try await sql.raw("SELECT user_id, username, is_admin FROM cairn_users WHERE user_id = \(bind: id)").first().map(Self.user)
        }
    }

    public func listUsers() async throws -> [User] {
        try await database.read { sql in
            try await sql.raw("SELECT user_id, username, is_admin FROM cairn_users ORDER BY user_id").all().map(Self.user)
        }
    }

    public func userCount() async throws -> Int {
        try await database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM cairn_users").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    static func userID(_ sql: any SQLDatabase, username: String) async throws -> Int64 {
        guard let row = try await sql.raw("SELECT user_id FROM cairn_users WHERE username = \(bind: username)").first() else {
            throw CairnError.notFound("User with username=\(username) not found")
        }
        return try row.decode(column: "user_id", as: Int64.self)
    }

    public func updatePassword(username: String, passwordHash: String) async throws {
        try await database.transaction { sql in
            let id = try await Self.userID(sql, username: username)
            try await sql.raw("UPDATE cairn_users SET password_hash = \(bind: passwordHash) WHERE user_id = \(bind: id)").run()
            // A signed-in browser must sign in again with the new password.
            try await sql.raw("DELETE FROM cairn_sessions WHERE user_id = \(bind: id)").run()
        }
    }

    public func updateAdmin(username: String, isAdmin: Bool) async throws {
        try await database.transaction { sql in
            let id = try await Self.userID(sql, username: username)
            try await sql.raw("UPDATE cairn_users SET is_admin = \(bind: isAdmin) WHERE user_id = \(bind: id)").run()
        }
    }

    public func deleteUser(username: String) async throws {
        try await database.transaction { sql in
            let id = try await Self.userID(sql, username: username)
            // Explicit deletes rather than trusting ON DELETE CASCADE alone: a SQLite connection
            // opened without foreign keys would otherwise leave a deleted user's tokens valid.
            try await sql.raw("DELETE FROM cairn_access_tokens WHERE user_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_sessions WHERE user_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_user_permissions WHERE user_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_user_roles WHERE user_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_users WHERE user_id = \(bind: id)").run()
        }
    }

    static func grantMessage(_ userID: Int64, _ type: AuthResourceType, _ id: String, _ tail: String) -> String {
        "Permission for user_id=\(userID) on resource_type=\(type.rawValue), resource_id=\(id) \(tail)."
    }

    public func grant(userID: Int64, _ grant: PermissionGrant) async throws {
        try await database.transaction { sql in
            if try await Self.grantRow(sql, userID: userID, type: grant.resourceType, id: grant.resourceID) != nil {
                throw CairnError.alreadyExists(Self.grantMessage(userID, grant.resourceType, grant.resourceID, "already exists"))
            }
            try await Self.insertGrant(sql, userID: userID, grant)
        }
    }

    public func upsertGrant(userID: Int64, _ grant: PermissionGrant) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                DELETE FROM cairn_user_permissions WHERE user_id = \(bind: userID)
                  AND resource_type = \(bind: grant.resourceType.rawValue) AND resource_id = \(bind: grant.resourceID)
                """
            ).run()
            try await Self.insertGrant(sql, userID: userID, grant)
        }
    }

    public func updateGrant(userID: Int64, _ grant: PermissionGrant) async throws {
        try await database.transaction { sql in
            guard try await Self.grantRow(sql, userID: userID, type: grant.resourceType, id: grant.resourceID) != nil else {
                throw CairnError.notFound(Self.grantMessage(userID, grant.resourceType, grant.resourceID, "not found"))
            }
            try await sql.raw(
                """
                UPDATE cairn_user_permissions SET permission = \(bind: grant.permission.rawValue)
                WHERE user_id = \(bind: userID) AND resource_type = \(bind: grant.resourceType.rawValue)
                  AND resource_id = \(bind: grant.resourceID)
                """
            ).run()
        }
    }

    public func revoke(userID: Int64, resourceType: AuthResourceType, resourceID: String) async throws {
        try await database.transaction { sql in
            guard try await Self.grantRow(sql, userID: userID, type: resourceType, id: resourceID) != nil else {
                throw CairnError.notFound(Self.grantMessage(userID, resourceType, resourceID, "not found"))
            }
            try await sql.raw(
                """
                DELETE FROM cairn_user_permissions WHERE user_id = \(bind: userID)
                  AND resource_type = \(bind: resourceType.rawValue) AND resource_id = \(bind: resourceID)
                """
            ).run()
        }
    }

    static func grantRow(_ sql: any SQLDatabase, userID: Int64, type: AuthResourceType, id: String) async throws -> (any SQLRow)? {
        try await sql.raw(
            """
            SELECT permission FROM cairn_user_permissions
            WHERE user_id = \(bind: userID) AND resource_type = \(bind: type.rawValue) AND resource_id = \(bind: id)
            """
        ).first()
    }

    static func insertGrant(_ sql: any SQLDatabase, userID: Int64, _ grant: PermissionGrant) async throws {
        try await sql.raw(
            """
            INSERT INTO cairn_user_permissions (user_id, resource_type, resource_id, permission)
            VALUES (\(bind: userID), \(bind: grant.resourceType.rawValue), \(bind: grant.resourceID), \(bind: grant.permission.rawValue))
            """
        ).run()
    }

    public func grants(userID: Int64) async throws -> [PermissionGrant] {
        try await database.read { sql in try await Self.grants(sql, userID: userID) }
    }

    static func grants(_ sql: any SQLDatabase, userID: Int64) async throws -> [PermissionGrant] {
        try await sql.raw(
            """
            SELECT resource_type, resource_id, permission FROM cairn_user_permissions WHERE user_id = \(bind: userID)
            ORDER BY resource_type, resource_id
            """
        ).all().compactMap { row -> PermissionGrant? in
            // A row this version cannot read (a future level) grants nothing rather than failing every request.
            guard let type = AuthResourceType(rawValue: try row.decode(column: "resource_type", as: String.self)),
                let permission = Permission(rawValue: try row.decode(column: "permission", as: String.self))
            else { return nil }
            return PermissionGrant(
                resourceType: type, resourceID: try row.decode(column: "resource_id", as: String.self), permission: permission)
        }
    }

    public func dropGrants(resourceType: AuthResourceType, resourceID: String) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                DELETE FROM cairn_user_permissions WHERE resource_type = \(bind: resourceType.rawValue) AND resource_id = \(bind: resourceID)
                """
            ).run()
        }
    }

    public func renameGrants(resourceType: AuthResourceType, from oldID: String, to newID: String) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_user_permissions SET resource_id = \(bind: newID)
                WHERE resource_type = \(bind: resourceType.rawValue) AND resource_id = \(bind: oldID)
                """
            ).run()
        }
    }

    static func token(_ row: any SQLRow) throws -> AccessTokenInfo {
        AccessTokenInfo(
            id: try row.decode(column: "token_id", as: String.self),
            userID: try row.decode(column: "user_id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            creationTime: try row.decode(column: "creation_time", as: Int64.self),
            lastUsedTime: try row.decode(column: "last_used_time", as: Int64?.self),
            revokedTime: try row.decode(column: "revoked_time", as: Int64?.self))
    }

    public func createToken(id: String, userID: Int64, name: String, tokenHash: String, at time: Int64) async throws -> AccessTokenInfo {
        try await database.transaction { sql in
            guard try await sql.raw("SELECT user_id FROM cairn_users WHERE user_id = \(bind: userID)").first() != nil else {
                throw CairnError.notFound("User with user_id=\(userID) not found")
            }
            try await sql.raw(
                """
                INSERT INTO cairn_access_tokens (token_id, user_id, name, token_hash, creation_time, last_used_time, revoked_time)
                VALUES (\(bind: id), \(bind: userID), \(bind: name), \(bind: tokenHash), \(bind: time), NULL, NULL)
                """
            ).run()
            return AccessTokenInfo(id: id, userID: userID, name: name, creationTime: time, lastUsedTime: nil, revokedTime: nil)
        }
    }

    public func tokens(userID: Int64) async throws -> [AccessTokenInfo] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT token_id, user_id, name, creation_time, last_used_time, revoked_time FROM cairn_access_tokens
                WHERE user_id = \(bind: userID) ORDER BY creation_time DESC, token_id
                """
            ).all().map(Self.token)
        }
    }

    public func tokenOwner(tokenHash: String) async throws -> (user: User, tokenID: String)? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT t.token_id, u.user_id, u.username, u.is_admin FROM cairn_access_tokens t
                    JOIN cairn_users u ON u.user_id = t.user_id
                    WHERE t.token_hash = \(bind: tokenHash) AND t.revoked_time IS NULL
                    """
                ).first()
            else { return nil }
            return (try Self.user(row), try row.decode(column: "token_id", as: String.self))
        }
    }

    public func touchToken(id: String, at time: Int64) async throws {
        try await database.transaction { sql in
            try await sql.raw("UPDATE cairn_access_tokens SET last_used_time = \(bind: time) WHERE token_id = \(bind: id)").run()
        }
    }

    public func revokeToken(id: String, userID: Int64, at time: Int64) async throws {
        try await database.transaction { sql in
            guard
                try await sql.raw(
                    """
                    SELECT token_id FROM cairn_access_tokens
                    WHERE token_id = \(bind: id) AND user_id = \(bind: userID) AND revoked_time IS NULL
                    """
                ).first() != nil
            else {
                throw CairnError.notFound("Access token \(id) not found.")
            }
            try await sql.raw("UPDATE cairn_access_tokens SET revoked_time = \(bind: time) WHERE token_id = \(bind: id)").run()
        }
    }

    public func createSession(hash: String, userID: Int64, at time: Int64, expires: Int64) async throws {
        try await database.transaction { sql in
            // Expired sessions go as new ones come, so the table holds only live ones.
            try await sql.raw("DELETE FROM cairn_sessions WHERE expiry_time <= \(bind: time)").run()
            try await sql.raw(
                """
                INSERT INTO cairn_sessions (session_hash, user_id, creation_time, expiry_time)
                VALUES (\(bind: hash), \(bind: userID), \(bind: time), \(bind: expires))
                """
            ).run()
        }
    }

    public func sessionOwner(hash: String, at time: Int64) async throws -> User? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT u.user_id, u.username, u.is_admin FROM cairn_sessions s JOIN cairn_users u ON u.user_id = s.user_id
                WHERE s.session_hash = \(bind: hash) AND s.expiry_time > \(bind: time)
                """
            ).first().map(Self.user)
        }
    }

    public func deleteSession(hash: String) async throws {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM cairn_sessions WHERE session_hash = \(bind: hash)").run()
        }
    }

    /// One multi-row INSERT per hundred entries (eight binds a row stays far below both
    /// databases' parameter caps): a flush of a busy second's writes is a few statements in the
    /// writer's queue, not one per request in front of the requests behind it.
    public func appendAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await database.transaction { sql in
            for start in stride(from: 0, to: entries.count, by: 100) {
                var query: SQLQueryString =
                    "INSERT INTO cairn_audit_log (audit_id, time, username, address, method, path, resource, status) VALUES"
                for (index, entry) in entries[start..<min(start + 100, entries.count)].enumerated() {
                    query.appendLiteral(index > 0 ? ", (" : " (")
                    query.appendInterpolation(bind: entry.id)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.time)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.username)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.address)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.method)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.path)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.resource)
                    query.appendLiteral(", ")
                    query.appendInterpolation(bind: entry.status)
                    query.appendLiteral(")")
                }
                try await sql.raw(query).run()
            }
        }
    }

    public func audit(username: String?, since: Int64?, maxResults: Int) async throws -> [AuditEntry] {
        try await database.read { sql in
            var query = SQLQueryString("SELECT * FROM cairn_audit_log WHERE 1 = 1")
            if let username { query += " AND username = \(bind: username)" }
            if let since { query += " AND time >= \(bind: since)" }
            query += " ORDER BY time DESC, audit_id DESC LIMIT \(bind: maxResults)"
            return try await sql.raw(query).all().map { row in
                AuditEntry(
                    id: try row.decode(column: "audit_id", as: String.self),
                    time: try row.decode(column: "time", as: Int64.self),
                    username: try row.decode(column: "username", as: String?.self),
                    address: try row.decode(column: "address", as: String?.self),
                    method: try row.decode(column: "method", as: String.self),
                    path: try row.decode(column: "path", as: String.self),
                    resource: try row.decode(column: "resource", as: String?.self),
                    status: try row.decode(column: "status", as: Int.self))
            }
        }
    }

    public func experimentID(ofRun runID: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT experiment_id FROM runs WHERE run_uuid = \(bind: runID)").first()
                .map { String(try $0.decode(column: "experiment_id", as: Int64.self)) }
        }
    }

    public func experimentID(ofLoggedModel modelID: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT experiment_id FROM logged_models WHERE model_id = \(bind: modelID)").first()
                .map { String(try $0.decode(column: "experiment_id", as: Int64.self)) }
        }
    }
}
