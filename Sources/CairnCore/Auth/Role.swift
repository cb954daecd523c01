/// A named set of permissions that users are assigned to (MLflow 3.17's RBAC roles). A role
/// lives in a workspace; Cairn has one workspace, MLflow's `default`, and only roles there take
/// part in decisions, as in MLflow with workspaces off. Roles in other workspaces are kept and
/// listed, so a client that names one gets what MLflow's store gives it.
public struct Role: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var workspace: String
    public var description: String?
    public var permissions: [RolePermission]

    /// The workspace every Cairn resource lives in (MLflow's `DEFAULT_WORKSPACE_NAME`).
    public static let defaultWorkspace = "default"
    /// Names MLflow keeps for each user's own grants (`__user_<id>__`): a role named so could
    /// pass for another user's grants, so no role may take the prefix.
    public static let reservedPrefix = "__user_"

    public init(id: Int64, name: String, workspace: String, description: String?, permissions: [RolePermission] = []) {
        self.id = id
        self.name = name
        self.workspace = workspace
        self.description = description
        self.permissions = permissions
    }

    /// MLflow's check of a role name on create and rename.
    public static func validate(name: String) throws(CairnError) {
        guard !name.allSatisfy(\.isWhitespace) else { throw .invalidParameter("Role name cannot be empty.") }
        if name.hasPrefix(reservedPrefix) {
            throw .invalidParameter(
                "Role name '\(name)' uses the reserved '__user_' prefix, which is held for the per-user permission representation. Choose a different name."
            )
        }
    }
}

/// What a role grants: a level on one resource, or on every resource of a type (`*`). A
/// `workspace` row (`*` only, USE or MANAGE) is workspace-wide; MANAGE there makes the role's
/// holders managers of everything in the workspace, as MLflow's workspace admins are.
public struct RolePermission: Sendable, Equatable {
    public var id: Int64
    public var roleID: Int64
    public var resourceType: RoleResourceType
    public var resourcePattern: String
    public var permission: Permission

    public init(id: Int64, roleID: Int64, resourceType: RoleResourceType, resourcePattern: String, permission: Permission) {
        self.id = id
        self.roleID = roleID
        self.resourceType = resourceType
        self.resourcePattern = resourcePattern
        self.permission = permission
    }

    /// Whether this row speaks about one resource.
    public func matches(_ type: AuthResourceType, _ id: String) -> Bool {
        resourceType.resourceType == type && (resourcePattern == "*" || resourcePattern == id)
    }

    /// Whether this row makes its holders managers of the whole workspace.
    public var managesWorkspace: Bool { resourceType == .workspace && resourcePattern == "*" && permission == .manage }

    /// MLflow's checks of a role's grant, in MLflow's order and words: a known level, a type
    /// Cairn enforces, a level that type takes, then the pattern's grain.
    public static func validate(type text: String, pattern: String, permission level: String) throws(CairnError) -> (
        RoleResourceType, Permission
    ) {
        let type = try validate(type: text, permission: level)
        if pattern != "*", type == .workspace {
            throw .invalidParameter(
                "Invalid resource_pattern '\(pattern)' for resource_type='\(type.rawValue)'. This resource type supports only wildcard ('*') grants."
            )
        }
        return (type, try Permission.parse(level, grant: false))
    }

    /// The level checks alone, for changing the level of an existing row.
    public static func validate(type text: String, permission level: String) throws(CairnError) -> RoleResourceType {
        let permission = try Permission.parse(level, grant: false)
        guard let type = RoleResourceType(rawValue: text) else {
            // MLflow names more types (prompts, scorers, gateway objects, sub-resource tiers):
            // Cairn has none of them, and a grant it would store but never consult is refused.
            let valid = RoleResourceType.allCases.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            throw .invalidParameter("Invalid resource type '\(text)'. Valid resource types are: (\(valid))")
        }
        if type == .workspace {
            guard permission == .use || permission == .manage else {
                throw .invalidParameter(
                    "Invalid permission '\(level)' for resource_type='workspace'. Workspace-wide grants accept only: ('MANAGE', 'USE').")
            }
        } else if !Permission.grantable.contains(permission) {
            let valid = Permission.grantable.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            throw .invalidParameter(
                "Invalid permission '\(level)' for resource_type='\(type.rawValue)'. Resource-level grants accept only: (\(valid)).")
        }
        return type
    }
}

/// The resource types a role's grant may name: the two kinds of resource Cairn decides on,
/// and the workspace as a whole.
public enum RoleResourceType: String, Sendable, CaseIterable {
    case workspace
    case experiment
    case registeredModel = "registered_model"

    /// The resource kind a row decides on; nil for the workspace-wide row.
    public var resourceType: AuthResourceType? {
        switch self {
        case .workspace: nil
        case .experiment: .experiment
        case .registeredModel: .registeredModel
        }
    }
}

/// A user holding a role.
public struct RoleAssignment: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var roleID: Int64

    public init(id: Int64, userID: Int64, roleID: Int64) {
        self.id = id
        self.userID = userID
        self.roleID = roleID
    }
}

extension Permission {
    /// MLflow's `PERMISSION_PRIORITY`: DENY lowest, then no permissions, READ … MANAGE.
    public var rank: Int {
        switch self {
        case .deny: -1
        case .noPermissions: 0
        case .read: 1
        case .use: 2
        case .edit: 3
        case .manage: 4
        }
    }

    /// A positive grant never resolves below the server's default (MLflow 3.17's
    /// `floor_positive_permission`); DENY and NO_PERMISSIONS are vetoes and stay as they are.
    public func floored(at defaultPermission: Permission) -> Permission {
        if self == .deny || self == .noPermissions { return self }
        return defaultPermission.rank > rank ? defaultPermission : self
    }
}
