import CairnAuth
import CairnCore
import CairnStore
import Foundation
import Hummingbird

/// MLflow 3.17's role API (`mlflow/server/auth/routes.py`, the RBAC routes), so the role
/// methods of `mlflow.server.get_app_client("basic-auth", uri)` work against Cairn: roles
/// (create, get, list, update, delete), their grants (add, remove, list, update), assigning
/// and unassigning users, and listing a user's roles or a role's users.
///
/// Who may call what is MLflow's: admins everything; a user whose role manages a workspace
/// (`workspace`, `*`, MANAGE) manages that workspace's roles; a user holding any role in a
/// workspace reads that workspace's roles; everyone reads their own roles. A request naming a
/// role that does not exist is refused to a non-admin rather than answered with a 404, so its
/// existence does not leak.
struct RolesController<Context: CairnRequestContext>: Sendable {
    let auth: ServerAuth

    func addRoutes(to router: some RouterMethods<Context>) {
        for prefix in ["api/3.0/mlflow", "ajax-api/3.0/mlflow"] {
            let group = router.group(RouterPath(prefix))
            group.post("roles/create", use: mlflow(create))
            group.get("roles/get", use: mlflow(get))
            group.get("roles/list", use: mlflow(list))
            group.patch("roles/update", use: mlflow(update))
            group.delete("roles/delete", use: mlflow(delete))
            group.post("roles/permissions/add", use: mlflow(addPermission))
            group.delete("roles/permissions/remove", use: mlflow(removePermission))
            group.get("roles/permissions/list", use: mlflow(listPermissions))
            group.patch("roles/permissions/update", use: mlflow(updatePermission))
            group.post("roles/assign", use: mlflow(assign))
            group.delete("roles/unassign", use: mlflow(unassign))
            group.get("users/roles/list", use: mlflow(userRoles))
            group.get("roles/users/list", use: mlflow(roleUsers))
        }
    }

    // MARK: - Fields, as MLflow's handlers read them

    /// A field that must be present (`null` counts as present, as in MLflow's handlers).
    static func field(_ parameters: RequestParameters, _ name: String) throws -> JSONValue {
        guard let value = parameters.fields[name] else { throw CairnError.missingParameter(name) }
        return value
    }

    /// An integer field, given as a JSON number or a string of digits (query strings).
    static func integer(_ parameters: RequestParameters, _ name: String) throws -> Int64 {
        let value = try field(parameters, name)
        switch value {
        case .number(let number, let raw):
            if let exact = Int64(raw) { return exact }
            if number == number.rounded(), let converted = Int64(exactly: number) { return converted }
        case .string(let text):
            if let parsed = Int64(text.trimmingCharacters(in: .whitespaces)) { return parsed }
        default:
            break
        }
        var writer = JSONWriter()
        writer.value(value)
        let shown: String
        if case .string(let text) = value {
            shown = "'\(text.prefix(200))'"
        } else {
            shown = String(decoding: writer.bytes.prefix(200), as: UTF8.self)
        }
        throw CairnError.invalidParameter("Parameter '\(name)' must be an integer. Got: \(shown)")
    }

    static func text(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    static func nonBlank(_ text: String?) -> String? {
        guard let text, !text.allSatisfy(\.isWhitespace) else { return nil }
        return text
    }

    // MARK: - Who may

    static func identity(_ context: Context) throws -> RequestIdentity {
        guard let identity = context.identity else { throw CairnError(.unauthenticated, "You are not authenticated.") }
        return identity
    }

    static func denied() -> CairnError { CairnError(.permissionDenied, "Permission denied") }

    /// The workspace a request's role lives in, as MLflow finds it: by `role_id`, by
    /// `role_permission_id`, or by `workspace`; nil for a role or grant that does not exist.
    func workspace(of parameters: RequestParameters) async throws -> String? {
        do {
            if parameters.fields["role_id"] != nil {
                return try await auth.store.role(id: try Self.integer(parameters, "role_id")).workspace
            }
            if parameters.fields["role_permission_id"] != nil {
                let row = try await auth.store.rolePermission(id: try Self.integer(parameters, "role_permission_id"))
                return try await auth.store.role(id: row.roleID).workspace
            }
        } catch let error as CairnError where error.code == .resourceDoesNotExist {
            return nil
        }
        if let value = parameters.fields["workspace"] {
            guard let workspace = Self.nonBlank(Self.text(value)) else {
                throw CairnError.invalidParameter("Parameter 'workspace' must be a non-empty string.")
            }
            return workspace
        }
        throw CairnError.invalidParameter("Request must include one of: role_id, role_permission_id, workspace.")
    }

    /// Admins, and managers of the role's workspace.
    func requireManage(_ parameters: RequestParameters, _ context: Context) async throws {
        let identity = try Self.identity(context)
        if identity.isAdmin { return }
        guard let workspace = try await workspace(of: parameters),
            try await auth.store.roleWorkspaces(userID: identity.user.id).managed.contains(workspace)
        else { throw Self.denied() }
    }

    /// Admins, and holders of any role in the role's workspace.
    func requireView(_ parameters: RequestParameters, _ context: Context) async throws {
        let identity = try Self.identity(context)
        if identity.isAdmin { return }
        guard let workspace = try await workspace(of: parameters),
            try await auth.store.roleWorkspaces(userID: identity.user.id).present.contains(workspace)
        else { throw Self.denied() }
    }

    // MARK: - JSON

    static func write(_ role: Role, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.int(role.id)
        writer.key("name")
        writer.string(role.name)
        writer.key("workspace")
        writer.string(role.workspace)
        writer.key("description")
        if let description = role.description { writer.string(description) } else { writer.null() }
        writer.key("permissions")
        writer.beginArray()
        for permission in role.permissions { write(permission, to: &writer) }
        writer.endArray()
        writer.endObject()
    }

    static func write(_ permission: RolePermission, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.int(permission.id)
        writer.key("role_id")
        writer.int(permission.roleID)
        writer.key("resource_type")
        writer.string(permission.resourceType.rawValue)
        writer.key("resource_pattern")
        writer.string(permission.resourcePattern)
        writer.key("permission")
        writer.string(permission.permission.rawValue)
        writer.endObject()
    }

    static func roleBody(_ role: Role) -> JSONBody {
        .object {
            $0.key("role")
            write(role, to: &$0)
        }
    }

    static func rolesBody(_ roles: [Role]) -> JSONBody {
        .object { writer in
            writer.key("roles")
            writer.beginArray()
            for role in roles { write(role, to: &writer) }
            writer.endArray()
        }
    }

    static func permissionBody(_ permission: RolePermission) -> JSONBody {
        .object {
            $0.key("role_permission")
            write(permission, to: &$0)
        }
    }

    static func write(_ assignment: RoleAssignment, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.int(assignment.id)
        writer.key("user_id")
        writer.int(assignment.userID)
        writer.key("role_id")
        writer.int(assignment.roleID)
        writer.endObject()
    }

    // MARK: - Roles

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let name = try Self.field(parameters, "name")
        let workspace = try Self.field(parameters, "workspace")
        guard let name = Self.nonBlank(Self.text(name)) else { throw CairnError.invalidParameter("Role name cannot be empty.") }
        guard let workspace = Self.nonBlank(Self.text(workspace)) else { throw CairnError.invalidParameter("Workspace cannot be empty.") }
        var description: String?
        switch parameters.fields["description"] {
        case nil, .null?: description = nil
        case .string(let text)?: description = text
        default: throw CairnError.invalidParameter("Role description must be a string or null.")
        }
        try Role.validate(name: name)
        return Self.roleBody(try await auth.store.createRole(name: name, workspace: workspace, description: description))
    }

    @Sendable func get(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireView(parameters, context)
        return Self.roleBody(try await auth.store.role(id: try Self.integer(parameters, "role_id")))
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let requested = try parameters.strings("workspace")
        let identity = try Self.identity(context)
        if !identity.isAdmin {
            // Non-admins list only workspaces they hold a role in, each of them named.
            let named = Set(requested.compactMap(Self.nonBlank))
            guard !named.isEmpty, named.isSubset(of: try await auth.store.roleWorkspaces(userID: identity.user.id).present) else {
                throw Self.denied()
            }
        }
        guard requested.allSatisfy({ Self.nonBlank($0) != nil }) else {
            throw CairnError.invalidParameter("Parameter 'workspace' must be a non-empty string when provided.")
        }
        return Self.rolesBody(try await auth.store.roles(workspaces: requested.isEmpty ? nil : requested))
    }

    @Sendable func update(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let id = try Self.integer(parameters, "role_id")
        let name = parameters.fields["name"].flatMap { $0 == .null ? nil : $0 }
        let description = parameters.fields["description"].flatMap { $0 == .null ? nil : $0 }
        guard name != nil || description != nil else {
            throw CairnError.invalidParameter("At least one of 'name' or 'description' must be provided to update a role.")
        }
        var newName: String?
        if let name {
            guard let text = Self.nonBlank(Self.text(name)) else { throw CairnError.invalidParameter("Role name cannot be empty.") }
            try Role.validate(name: text)
            newName = text
        }
        var newDescription: String?
        if let description {
            guard let text = Self.text(description) else { throw CairnError.invalidParameter("Role description must be a string.") }
            newDescription = text
        }
        return Self.roleBody(try await auth.store.updateRole(id: id, name: newName, description: newDescription))
    }

    @Sendable func delete(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        try await auth.store.deleteRole(id: try Self.integer(parameters, "role_id"))
        auth.access.invalidate()
        return .empty
    }

    // MARK: - A role's grants

    @Sendable func addPermission(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let roleID = try Self.integer(parameters, "role_id")
        let type = try parameters.requiredString("resource_type")
        guard let pattern = try parameters.string("resource_pattern") else { throw CairnError.missingParameter("resource_pattern") }
        let level = try parameters.requiredString("permission")
        let (resourceType, permission) = try RolePermission.validate(type: type, pattern: pattern, permission: level)
        let row = try await auth.store.addRolePermission(
            roleID: roleID, resourceType: resourceType, resourcePattern: pattern, permission: permission)
        auth.access.invalidate()
        return Self.permissionBody(row)
    }

    @Sendable func removePermission(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        try await auth.store.removeRolePermission(id: try Self.integer(parameters, "role_permission_id"))
        auth.access.invalidate()
        return .empty
    }

    @Sendable func listPermissions(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireView(parameters, context)
        let rows = try await auth.store.rolePermissions(roleID: try Self.integer(parameters, "role_id"))
        return .object { writer in
            writer.key("role_permissions")
            writer.beginArray()
            for row in rows { Self.write(row, to: &writer) }
            writer.endArray()
        }
    }

    @Sendable func updatePermission(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let id = try Self.integer(parameters, "role_permission_id")
        let level = try parameters.requiredString("permission")
        let existing = try await auth.store.rolePermission(id: id)
        _ = try RolePermission.validate(type: existing.resourceType.rawValue, permission: level)
        let row = try await auth.store.updateRolePermission(id: id, permission: try Permission.parse(level, grant: false))
        auth.access.invalidate()
        return Self.permissionBody(row)
    }

    // MARK: - Who holds a role

    @Sendable func assign(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let username = try parameters.requiredString("username")
        let roleID = try Self.integer(parameters, "role_id")
        let user = try await auth.existingUser(named: username)
        let assignment = try await auth.store.assignRole(userID: user.id, roleID: roleID)
        auth.access.invalidate()
        return .object {
            $0.key("assignment")
            Self.write(assignment, to: &$0)
        }
    }

    @Sendable func unassign(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let username = try parameters.requiredString("username")
        let roleID = try Self.integer(parameters, "role_id")
        let user = try await auth.existingUser(named: username)
        try await auth.store.unassignRole(userID: user.id, roleID: roleID)
        auth.access.invalidate()
        return .empty
    }

    @Sendable func userRoles(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let identity = try Self.identity(context)
        let username = try parameters.requiredString("username")
        var managed: Set<String>?
        if !identity.isAdmin, identity.subject != username {
            // A workspace's manager sees the roles in the workspaces they manage of a user who
            // holds a role there; anyone else, nothing (an unknown user included).
            let mine = try await auth.store.roleWorkspaces(userID: identity.user.id).managed
            guard let target = try await auth.store.storedUser(username: username),
                !mine.isDisjoint(with: try await auth.store.roleWorkspaces(userID: target.user.id).present)
            else { throw Self.denied() }
            managed = mine
        }
        let user = try await auth.existingUser(named: username)
        var roles = try await auth.store.roles(ofUser: user.id)
        if let managed { roles = roles.filter { managed.contains($0.workspace) } }
        return Self.rolesBody(roles)
    }

    @Sendable func roleUsers(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await requireManage(parameters, context)
        let assignments = try await auth.store.assignments(ofRole: try Self.integer(parameters, "role_id"))
        return .object { writer in
            writer.key("assignments")
            writer.beginArray()
            for assignment in assignments { Self.write(assignment, to: &writer) }
            writer.endArray()
        }
    }
}
