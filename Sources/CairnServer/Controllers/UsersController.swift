import CairnAuth
import CairnCore
import CairnStore
import Hummingbird

/// MLflow's basic-auth API (`mlflow/server/auth/routes.py`), so
/// `mlflow.server.get_app_client("basic-auth", uri)` works against Cairn: users (create, get,
/// current, list, update-password, update-admin, delete) and per-user grants on experiments and
/// registered models, both MLflow 3.17's (`/api/3.0/mlflow/users/permissions/grant|revoke|get|list`)
/// and MLflow 2's per-resource endpoints (`experiments/permissions/*`,
/// `registered-models/permissions/*`). Who may call what is MLflow's: admins manage users;
/// a user reads and changes their own account; MANAGE on a resource manages its grants.
struct UsersController<Context: CairnRequestContext>: Sendable {
    let auth: ServerAuth

    func addRoutes(to router: some RouterMethods<Context>) {
        for prefix in ["api/2.0/mlflow", "ajax-api/2.0/mlflow"] {
            let group = router.group(RouterPath(prefix))
            group.post("users/create", use: mlflow(create))
            group.get("users/get", use: mlflow(get))
            group.get("users/current", use: mlflow(current))
            group.get("users/list", use: mlflow(list))
            group.patch("users/update-password", use: mlflow(updatePassword))
            group.patch("users/update-admin", use: mlflow(updateAdmin))
            group.delete("users/delete", use: mlflow(delete))
            for type in AuthResourceType.allCases {
                let base = type == .experiment ? "experiments/permissions" : "registered-models/permissions"
                group.post(RouterPath(base + "/create"), use: mlflow { try await legacyCreate(type, $0, $1) })
                group.get(RouterPath(base + "/get"), use: mlflow { try await legacyGet(type, $0, $1) })
                group.patch(RouterPath(base + "/update"), use: mlflow { try await legacyUpdate(type, $0, $1) })
                group.delete(RouterPath(base + "/delete"), use: mlflow { try await legacyDelete(type, $0, $1) })
            }
        }
        for prefix in ["api/3.0/mlflow", "ajax-api/3.0/mlflow"] {
            let group = router.group(RouterPath(prefix))
            group.get("users/current/permissions", use: mlflow(currentPermissions))
            group.get("users/permissions/list", use: mlflow(listPermissions))
            group.post("users/permissions/grant", use: mlflow(grant))
            group.post("users/permissions/revoke", use: mlflow(revoke))
            group.get("users/permissions/get", use: mlflow(getPermission))
        }
    }

    // MARK: - Who may

    static func identity(_ context: Context) throws -> RequestIdentity {
        guard let identity = context.identity else {
            throw CairnError(.unauthenticated, "You are not authenticated.")
        }
        return identity
    }

    static func requireAdmin(_ context: Context) throws {
        guard try identity(context).isAdmin else { throw CairnError(.permissionDenied, "Permission denied") }
    }

    static func requireSelfOrAdmin(_ username: String, _ context: Context) throws {
        let identity = try Self.identity(context)
        guard identity.isAdmin || identity.subject == username else { throw CairnError(.permissionDenied, "Permission denied") }
    }

    static func requireManage(_ type: AuthResourceType, _ id: String, _ context: Context) throws {
        guard try identity(context).access.can(.manage, type, id) else { throw CairnError(.permissionDenied, "Permission denied") }
    }

    // MARK: - Users

    static func write(_ user: User, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.int(user.id)
        writer.key("username")
        writer.string(user.username)
        writer.key("is_admin")
        writer.bool(user.isAdmin)
        writer.endObject()
    }

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try Self.requireAdmin(context)
        let username = try parameters.string("username") ?? ""
        let password = try parameters.string("password") ?? ""
        guard !username.isEmpty, !password.isEmpty else { throw CairnError.invalidParameter("Username and password cannot be empty.") }
        // A name is stored whole or refused: PostgreSQL's text cannot hold a NUL.
        try TrackingValidation.validateText(username, name: "username")
        try PasswordHasher.validate(password: password)
        if try await auth.store.storedUser(username: username) != nil {
            throw CairnError.alreadyExists("User (username=\(username)) already exists.")
        }
        let user = try await auth.store.createUser(
            username: username, passwordHash: try await auth.hasher.hash(password), isAdmin: false, at: auth.now())
        return .object {
            $0.key("user")
            Self.write(user, to: &$0)
        }
    }

    @Sendable func get(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let username = try parameters.requiredString("username")
        try Self.requireSelfOrAdmin(username, context)
        let user = try await auth.existingUser(named: username)
        return .object {
            $0.key("user")
            Self.write(user, to: &$0)
        }
    }

    @Sendable func current(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let user = try Self.identity(context).user
        return .object {
            $0.key("user")
            Self.write(user, to: &$0)
            $0.key("is_basic_auth")
            $0.bool(true)
        }
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try Self.requireAdmin(context)
        let users = try await auth.store.listUsers()
        let roles = try await auth.store.rolesByUser()
        return .object { writer in
            writer.key("users")
            writer.beginArray()
            for user in users {
                writer.beginObject()
                writer.key("id")
                writer.int(user.id)
                writer.key("username")
                writer.string(user.username)
                writer.key("is_admin")
                writer.bool(user.isAdmin)
                writer.key("roles")
                writer.beginArray()
                for role in roles[user.id] ?? [] { RolesController<Context>.write(role, to: &writer) }
                writer.endArray()
                writer.endObject()
            }
            writer.endArray()
        }
    }

    @Sendable func updatePassword(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let username = try parameters.requiredString("username")
        let password = try parameters.string("password") ?? ""
        try Self.requireSelfOrAdmin(username, context)
        let identity = try Self.identity(context)
        if identity.subject == username {
            // Changing one's own password re-asserts the current one, so a stolen session or
            // token cannot take the account over (MLflow's rule).
            guard let current = try parameters.string("current_password"), !current.isEmpty else {
                throw CairnError.invalidParameter("Current password is required when changing your own password.")
            }
            let stored = try await auth.store.storedUser(username: username)
            guard try await auth.hasher.verify(current, hash: stored?.passwordHash) else {
                throw CairnError.invalidParameter("Current password does not match.")
            }
            guard password != current else { throw CairnError.invalidParameter("New password must differ from the current password.") }
        }
        try PasswordHasher.validate(password: password)
        _ = try await auth.existingUser(named: username)
        try await auth.store.updatePassword(username: username, passwordHash: try await auth.hasher.hash(password))
        auth.authenticator.invalidate(username: username)
        return .empty
    }

    @Sendable func updateAdmin(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try Self.requireAdmin(context)
        let username = try parameters.requiredString("username")
        guard let isAdmin = try parameters.bool("is_admin") else { throw CairnError.missingParameter("is_admin") }
        try await auth.store.updateAdmin(username: username, isAdmin: isAdmin)
        auth.authenticator.invalidate(username: username)
        auth.access.invalidate()
        return .empty
    }

    @Sendable func delete(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try Self.requireAdmin(context)
        let username = try parameters.requiredString("username")
        guard try username != Self.identity(context).subject else {
            throw CairnError(.badRequest, "Users cannot delete their own account. Ask another admin to delete this user instead.")
        }
        try await auth.store.deleteUser(username: username)
        auth.authenticator.invalidate(username: username)
        auth.access.invalidate()
        return .empty
    }

    // MARK: - MLflow 3.17's per-user grants

    func grantTarget(_ parameters: RequestParameters) throws -> (username: String, type: AuthResourceType, id: String) {
        let username = try parameters.requiredString("username")
        let type = try AuthResourceType.parse(try parameters.requiredString("resource_type"))
        return (username, type, try parameters.requiredString("resource_id"))
    }

    @Sendable func grant(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let target = try grantTarget(parameters)
        try Self.requireManage(target.type, target.id, context)
        let permission = try Permission.parse(try parameters.requiredString("permission"), grant: true)
        let user = try await auth.existingUser(named: target.username)
        try await auth.store.grant(
            userID: user.id, PermissionGrant(resourceType: target.type, resourceID: target.id, permission: permission))
        auth.access.invalidate()
        return .empty
    }

    @Sendable func revoke(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let target = try grantTarget(parameters)
        try Self.requireManage(target.type, target.id, context)
        let user = try await auth.existingUser(named: target.username)
        try await auth.store.revoke(userID: user.id, resourceType: target.type, resourceID: target.id)
        auth.access.invalidate()
        return .empty
    }

    @Sendable func getPermission(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let target = try grantTarget(parameters)
        try Self.requireSelfOrAdmin(target.username, context)
        let user = try await auth.existingUser(named: target.username)
        let permission = try await auth.access.access(for: AuthenticatedUser(user: user)).permission(target.type, target.id)
        return .object { writer in
            // `allowed` is MLflow's `can_use`: the regular access tier, not reading alone.
            writer.key("allowed")
            writer.bool(permission.allows(.use))
            writer.key("permission")
            writer.string(permission.rawValue)
        }
    }

    @Sendable func currentPermissions(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await permissions(of: try Self.identity(context).user)
    }

    @Sendable func listPermissions(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let username = try parameters.requiredString("username")
        try Self.requireSelfOrAdmin(username, context)
        return try await permissions(of: try await auth.existingUser(named: username))
    }

    /// MLflow lists a user's grants as rows of their roles: the grants of each role they hold,
    /// and their own grants, which MLflow keeps on the user's synthetic role `__user_<id>__`
    /// (Cairn keeps them apart and shows them so, with role id 0).
    func permissions(of user: User) async throws -> JSONBody {
        let isInternal = user.id == Authenticator.internalUser.id
        let grants = isInternal ? [] : try await auth.store.grants(userID: user.id)
        let roles = isInternal ? [] : try await auth.store.roles(ofUser: user.id)
        return .object { writer in
            func row(roleID: Int64, roleName: String, workspace: String, type: String, pattern: String, permission: Permission) {
                writer.beginObject()
                writer.key("role_id")
                writer.int(roleID)
                writer.key("role_name")
                writer.string(roleName)
                writer.key("workspace")
                writer.string(workspace)
                writer.key("resource_type")
                writer.string(type)
                writer.key("resource_pattern")
                writer.string(pattern)
                writer.key("permission")
                writer.string(permission.rawValue)
                writer.endObject()
            }
            writer.key("is_admin")
            writer.bool(user.isAdmin)
            writer.key("permissions")
            writer.beginArray()
            for grant in grants {
                row(
                    roleID: 0, roleName: "__user_\(user.id)__", workspace: Role.defaultWorkspace, type: grant.resourceType.rawValue,
                    pattern: grant.resourceID, permission: grant.permission)
            }
            for role in roles {
                for grant in role.permissions {
                    row(
                        roleID: role.id, roleName: role.name, workspace: role.workspace, type: grant.resourceType.rawValue,
                        pattern: grant.resourcePattern, permission: grant.permission)
                }
            }
            writer.endArray()
        }
    }

    // MARK: - MLflow 2's per-resource grants

    static func resourceField(_ type: AuthResourceType) -> String { type == .experiment ? "experiment_id" : "name" }
    static func responseKey(_ type: AuthResourceType) -> String {
        type == .experiment ? "experiment_permission" : "registered_model_permission"
    }

    func legacyTarget(_ type: AuthResourceType, _ parameters: RequestParameters, _ context: Context) async throws -> (User, String) {
        let id = try parameters.requiredString(Self.resourceField(type))
        try Self.requireManage(type, id, context)
        return (try await auth.existingUser(named: try parameters.requiredString("username")), id)
    }

    func legacyBody(_ type: AuthResourceType, id: String, user: User, permission: Permission) -> JSONBody {
        .object { writer in
            writer.key(Self.responseKey(type))
            writer.beginObject()
            writer.key(Self.resourceField(type))
            writer.string(id)
            writer.key("user_id")
            writer.int(user.id)
            writer.key("permission")
            writer.string(permission.rawValue)
            writer.endObject()
        }
    }

    func legacyCreate(_ type: AuthResourceType, _ parameters: RequestParameters, _ context: Context) async throws -> JSONBody {
        let (user, id) = try await legacyTarget(type, parameters, context)
        let permission = try Permission.parse(try parameters.requiredString("permission"), grant: false)
        try await auth.store.grant(userID: user.id, PermissionGrant(resourceType: type, resourceID: id, permission: permission))
        auth.access.invalidate()
        return legacyBody(type, id: id, user: user, permission: permission)
    }

    func legacyGet(_ type: AuthResourceType, _ parameters: RequestParameters, _ context: Context) async throws -> JSONBody {
        let (user, id) = try await legacyTarget(type, parameters, context)
        guard let grant = try await auth.store.grants(userID: user.id).first(where: { $0.resourceType == type && $0.resourceID == id })
        else {
            throw CairnError.notFound(
                "\(type == .experiment ? "Experiment" : "Registered model") permission with \(Self.resourceField(type))=\(id) and username=\(user.username) not found"
            )
        }
        return legacyBody(type, id: id, user: user, permission: grant.permission)
    }

    func legacyUpdate(_ type: AuthResourceType, _ parameters: RequestParameters, _ context: Context) async throws -> JSONBody {
        let (user, id) = try await legacyTarget(type, parameters, context)
        let permission = try Permission.parse(try parameters.requiredString("permission"), grant: false)
        try await auth.store.updateGrant(userID: user.id, PermissionGrant(resourceType: type, resourceID: id, permission: permission))
        auth.access.invalidate()
        return .empty
    }

    func legacyDelete(_ type: AuthResourceType, _ parameters: RequestParameters, _ context: Context) async throws -> JSONBody {
        let (user, id) = try await legacyTarget(type, parameters, context)
        try await auth.store.revoke(userID: user.id, resourceType: type, resourceID: id)
        auth.access.invalidate()
        return .empty
    }
}
