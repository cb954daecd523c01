import CairnCore
import SQLKit

/// Roles, their grants and who holds them (MLflow 3.17's RBAC), with MLflow's store errors.
extension SQLAuthStore {
    public func accessGrants(userID: Int64) async throws -> (grants: [PermissionGrant], roleGrants: [RolePermission]) {
        try await database.read { sql in
            let grants = try await Self.grants(sql, userID: userID)
            let rows = try await sql.raw(
                """
                SELECT p.* FROM cairn_role_permissions p JOIN cairn_user_roles a ON a.role_id = p.role_id
                JOIN cairn_roles r ON r.role_id = p.role_id
                WHERE a.user_id = \(bind: userID) AND r.workspace = \(bind: Role.defaultWorkspace)
                """
            ).all()
            return (grants, try rows.compactMap(Self.rolePermissionRow))
        }
    }

    /// A grant row; nil for one this version cannot read (a future type or level), which then
    /// grants nothing rather than failing every request.
    static func rolePermissionRow(_ row: any SQLRow) throws -> RolePermission? {
        guard let type = RoleResourceType(rawValue: try row.decode(column: "resource_type", as: String.self)),
            let permission = Permission(rawValue: try row.decode(column: "permission", as: String.self))
        else { return nil }
        return RolePermission(
            id: try row.decode(column: "role_permission_id", as: Int64.self), roleID: try row.decode(column: "role_id", as: Int64.self),
            resourceType: type, resourcePattern: try row.decode(column: "resource_pattern", as: String.self), permission: permission)
    }

    static func roleNotFound(_ id: Int64) -> CairnError { .notFound("Role with id=\(id) not found") }

    /// The roles with these ids (every role when nil), each with its grants, in id order.
    static func roles(_ sql: any SQLDatabase, where condition: SQLQueryString) async throws -> [Role] {
        var query: SQLQueryString = "SELECT role_id, name, workspace, description FROM cairn_roles WHERE "
        query += condition
        query += " ORDER BY role_id"
        var roles = try await sql.raw(query).all().map { row in
            Role(
                id: try row.decode(column: "role_id", as: Int64.self), name: try row.decode(column: "name", as: String.self),
                workspace: try row.decode(column: "workspace", as: String.self),
                description: try row.decode(column: "description", as: String?.self))
        }
        guard !roles.isEmpty else { return [] }
        var permissionsQuery: SQLQueryString = "SELECT * FROM cairn_role_permissions WHERE role_id IN ("
        for (index, role) in roles.enumerated() {
            if index > 0 { permissionsQuery.appendLiteral(", ") }
            permissionsQuery.appendInterpolation(bind: role.id)
        }
        permissionsQuery.appendLiteral(") ORDER BY role_permission_id")
        var byRole: [Int64: [RolePermission]] = [:]
        for row in try await sql.raw(permissionsQuery).all() {
            if let permission = try rolePermissionRow(row) { byRole[permission.roleID, default: []].append(permission) }
        }
        for index in roles.indices { roles[index].permissions = byRole[roles[index].id] ?? [] }
        return roles
    }

    static func existingRole(_ sql: any SQLDatabase, id: Int64) async throws -> Role {
        guard let role = try await roles(sql, where: "role_id = \(bind: id)").first else { throw roleNotFound(id) }
        return role
    }

    public func createRole(name: String, workspace: String, description: String?) async throws -> Role {
        let kind = database.kind
        return try await database.transaction { sql in
            if try await sql.raw("SELECT role_id FROM cairn_roles WHERE workspace = \(bind: workspace) AND name = \(bind: name)").first()
                != nil
            {
                throw CairnError.alreadyExists("Role (name=\(name), workspace=\(workspace)) already exists.")
            }
            let id = try await kind.nextID(sql, column: "role_id", table: "cairn_roles")
            try await sql.raw(
                """
                INSERT INTO cairn_roles (role_id, name, workspace, description)
                VALUES (\(bind: id), \(bind: name), \(bind: workspace), \(bind: description))
                """
            ).run()
            return Role(id: id, name: name, workspace: workspace, description: description)
        }
    }

    public func role(id: Int64) async throws -> Role {
        try await database.read { sql in try await Self.existingRole(sql, id: id) }
    }

    public func roles(workspaces: [String]?) async throws -> [Role] {
        try await database.read { sql in
            guard let workspaces else { return try await Self.roles(sql, where: "1 = 1") }
            guard !workspaces.isEmpty else { return [] }
            var condition: SQLQueryString = "workspace IN ("
            for (index, workspace) in workspaces.enumerated() {
                if index > 0 { condition.appendLiteral(", ") }
                condition.appendInterpolation(bind: workspace)
            }
            condition.appendLiteral(")")
            return try await Self.roles(sql, where: condition)
        }
    }

    public func updateRole(id: Int64, name: String?, description: String?) async throws -> Role {
        try await database.transaction { sql in
            var role = try await Self.existingRole(sql, id: id)
            if let name {
                let clash = try await sql.raw(
                    """
                    SELECT role_id FROM cairn_roles WHERE workspace = \(bind: role.workspace) AND name = \(bind: name)
                      AND role_id <> \(bind: id)
                    """
                ).first()
                if clash != nil { throw CairnError.alreadyExists("Role with name=\(name) already exists in workspace=\(role.workspace)") }
                try await sql.raw("UPDATE cairn_roles SET name = \(bind: name) WHERE role_id = \(bind: id)").run()
                role.name = name
            }
            if let description {
                try await sql.raw("UPDATE cairn_roles SET description = \(bind: description) WHERE role_id = \(bind: id)").run()
                role.description = description
            }
            return role
        }
    }

    public func deleteRole(id: Int64) async throws {
        try await database.transaction { sql in
            _ = try await Self.existingRole(sql, id: id)
            // Explicit deletes, as for users: a SQLite connection without foreign keys would
            // otherwise leave the role's grants in force for its holders.
            try await sql.raw("DELETE FROM cairn_user_roles WHERE role_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_role_permissions WHERE role_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_roles WHERE role_id = \(bind: id)").run()
        }
    }

    public func addRolePermission(
        roleID: Int64, resourceType: RoleResourceType, resourcePattern: String, permission: Permission
    ) async throws -> RolePermission {
        let kind = database.kind
        return try await database.transaction { sql in
            _ = try await Self.existingRole(sql, id: roleID)
            let clash = try await sql.raw(
                """
                SELECT role_permission_id FROM cairn_role_permissions WHERE role_id = \(bind: roleID)
                  AND resource_type = \(bind: resourceType.rawValue) AND resource_pattern = \(bind: resourcePattern)
                """
            ).first()
            if clash != nil {
                throw CairnError.alreadyExists(
                    "Role permission (role_id=\(roleID), resource_type=\(resourceType.rawValue), resource_pattern=\(resourcePattern)) already exists."
                )
            }
            let id = try await kind.nextID(sql, column: "role_permission_id", table: "cairn_role_permissions")
            try await sql.raw(
                """
                INSERT INTO cairn_role_permissions (role_permission_id, role_id, resource_type, resource_pattern, permission)
                VALUES (\(bind: id), \(bind: roleID), \(bind: resourceType.rawValue), \(bind: resourcePattern), \(bind: permission.rawValue))
                """
            ).run()
            return RolePermission(
                id: id, roleID: roleID, resourceType: resourceType, resourcePattern: resourcePattern, permission: permission)
        }
    }

    static func existingRolePermission(_ sql: any SQLDatabase, id: Int64) async throws -> RolePermission {
        guard let row = try await sql.raw("SELECT * FROM cairn_role_permissions WHERE role_permission_id = \(bind: id)").first(),
            let permission = try rolePermissionRow(row)
        else { throw CairnError.notFound("Role permission with id=\(id) not found") }
        return permission
    }

    public func rolePermission(id: Int64) async throws -> RolePermission {
        try await database.read { sql in try await Self.existingRolePermission(sql, id: id) }
    }

    public func removeRolePermission(id: Int64) async throws {
        try await database.transaction { sql in
            _ = try await Self.existingRolePermission(sql, id: id)
            try await sql.raw("DELETE FROM cairn_role_permissions WHERE role_permission_id = \(bind: id)").run()
        }
    }

    public func rolePermissions(roleID: Int64) async throws -> [RolePermission] {
        try await database.read { sql in try await Self.existingRole(sql, id: roleID).permissions }
    }

    public func updateRolePermission(id: Int64, permission: Permission) async throws -> RolePermission {
        try await database.transaction { sql in
            var row = try await Self.existingRolePermission(sql, id: id)
            try await sql.raw(
                "UPDATE cairn_role_permissions SET permission = \(bind: permission.rawValue) WHERE role_permission_id = \(bind: id)"
            ).run()
            row.permission = permission
            return row
        }
    }

    public func assignRole(userID: Int64, roleID: Int64) async throws -> RoleAssignment {
        let kind = database.kind
        return try await database.transaction { sql in
            guard try await sql.raw("SELECT user_id FROM cairn_users WHERE user_id = \(bind: userID)").first() != nil else {
                throw CairnError.notFound("User with id=\(userID) not found")
            }
            _ = try await Self.existingRole(sql, id: roleID)
            if try await sql.raw("SELECT assignment_id FROM cairn_user_roles WHERE user_id = \(bind: userID) AND role_id = \(bind: roleID)")
                .first() != nil
            {
                throw CairnError.alreadyExists("User role assignment (user_id=\(userID), role_id=\(roleID)) already exists")
            }
            let id = try await kind.nextID(sql, column: "assignment_id", table: "cairn_user_roles")
            try await sql.raw(
                "INSERT INTO cairn_user_roles (assignment_id, user_id, role_id) VALUES (\(bind: id), \(bind: userID), \(bind: roleID))"
            ).run()
            return RoleAssignment(id: id, userID: userID, roleID: roleID)
        }
    }

    public func unassignRole(userID: Int64, roleID: Int64) async throws {
        try await database.transaction { sql in
            if try await sql.raw("SELECT assignment_id FROM cairn_user_roles WHERE user_id = \(bind: userID) AND role_id = \(bind: roleID)")
                .first() == nil
            {
                throw CairnError.notFound("User role assignment (user_id=\(userID), role_id=\(roleID)) not found")
            }
            try await sql.raw("DELETE FROM cairn_user_roles WHERE user_id = \(bind: userID) AND role_id = \(bind: roleID)").run()
        }
    }

    public func roles(ofUser userID: Int64) async throws -> [Role] {
        try await database.read { sql in
            try await Self.roles(sql, where: "role_id IN (SELECT role_id FROM cairn_user_roles WHERE user_id = \(bind: userID))")
        }
    }

    public func assignments(ofRole roleID: Int64) async throws -> [RoleAssignment] {
        try await database.read { sql in
            _ = try await Self.existingRole(sql, id: roleID)
            return try await sql.raw(
                "SELECT assignment_id, user_id, role_id FROM cairn_user_roles WHERE role_id = \(bind: roleID) ORDER BY assignment_id"
            ).all().map { row in
                RoleAssignment(
                    id: try row.decode(column: "assignment_id", as: Int64.self), userID: try row.decode(column: "user_id", as: Int64.self),
                    roleID: try row.decode(column: "role_id", as: Int64.self))
            }
        }
    }

    public func rolesByUser() async throws -> [Int64: [Role]] {
        try await database.read { sql in
            let roles = Dictionary(uniqueKeysWithValues: try await Self.roles(sql, where: "1 = 1").map { ($0.id, $0) })
            var byUser: [Int64: [Role]] = [:]
            for row in try await sql.raw("SELECT user_id, role_id FROM cairn_user_roles ORDER BY role_id").all() {
                if let role = roles[try row.decode(column: "role_id", as: Int64.self)] {
                    byUser[try row.decode(column: "user_id", as: Int64.self), default: []].append(role)
                }
            }
            return byUser
        }
    }

    public func roleWorkspaces(userID: Int64) async throws -> (present: Set<String>, managed: Set<String>) {
        try await database.read { sql in
            var present: Set<String> = []
            var managed: Set<String> = []
            for row in try await sql.raw(
                """
                SELECT r.workspace, p.resource_type, p.resource_pattern, p.permission FROM cairn_user_roles a
                JOIN cairn_roles r ON r.role_id = a.role_id LEFT JOIN cairn_role_permissions p ON p.role_id = r.role_id
                WHERE a.user_id = \(bind: userID)
                """
            ).all() {
                let workspace = try row.decode(column: "workspace", as: String.self)
                present.insert(workspace)
                if try row.decode(column: "resource_type", as: String?.self) == RoleResourceType.workspace.rawValue,
                    try row.decode(column: "resource_pattern", as: String?.self) == "*",
                    try row.decode(column: "permission", as: String?.self) == Permission.manage.rawValue
                {
                    managed.insert(workspace)
                }
            }
            return (present, managed)
        }
    }
}
