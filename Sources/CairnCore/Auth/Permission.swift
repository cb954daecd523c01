/// MLflow's permission levels (`mlflow.server.auth.permissions`): what a user may do with one
/// experiment or registered model. `DENY` is an explicit refusal that outranks the default;
/// `NO_PERMISSIONS` is what a user has without a grant when the default is that.
public enum Permission: String, Sendable, CaseIterable, Codable {
    case deny = "DENY"
    case noPermissions = "NO_PERMISSIONS"
    case read = "READ"
    case use = "USE"
    case edit = "EDIT"
    case manage = "MANAGE"

    /// The levels a grant on a resource may take (MLflow 3.17 refuses NO_PERMISSIONS there:
    /// an absent grant with the default already says it).
    public static let grantable: [Permission] = [.read, .use, .edit, .manage, .deny]

    public func allows(_ action: AuthAction) -> Bool {
        switch action {
        case .read: self == .read || self == .use || self == .edit || self == .manage
        case .use: self == .use || self == .edit || self == .manage
        case .update: self == .edit || self == .manage
        case .delete, .manage: self == .manage
        }
    }

    /// Parses a level as MLflow's API spells it, with MLflow's message for anything else.
    public static func parse(_ text: String, grant: Bool) throws(CairnError) -> Permission {
        guard let permission = Permission(rawValue: text) else {
            let valid = Permission.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw .invalidParameter("Invalid permission '\(text)'. Valid permissions are: (\(valid))")
        }
        if grant, !grantable.contains(permission) {
            let valid = grantable.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            throw .invalidParameter(
                "Invalid permission '\(text)' for a resource-level grant. Resource-level grants accept only: (\(valid)).")
        }
        return permission
    }
}

/// What a request does to a resource, as MLflow's validators name it: reading needs READ,
/// using (scoring, evaluating) USE, writing EDIT, deleting and managing permissions MANAGE.
public enum AuthAction: String, Sendable {
    case read, use, update, delete, manage
}

/// The kinds of resource a user can be granted a permission on.
public enum AuthResourceType: String, Sendable, CaseIterable, Codable {
    case experiment
    case registeredModel = "registered_model"

    public static func parse(_ text: String) throws(CairnError) -> AuthResourceType {
        guard let type = AuthResourceType(rawValue: text) else {
            let valid = allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw .invalidParameter("Invalid resource type '\(text)'. Valid resource types are: (\(valid))")
        }
        return type
    }
}

/// One user's grant on one resource.
public struct PermissionGrant: Sendable, Equatable, Hashable {
    public var resourceType: AuthResourceType
    public var resourceID: String
    public var permission: Permission

    public init(resourceType: AuthResourceType, resourceID: String, permission: Permission) {
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.permission = permission
    }
}

/// A user as the API shows one: never the password hash.
public struct User: Sendable, Equatable {
    public var id: Int64
    public var username: String
    public var isAdmin: Bool

    public init(id: Int64, username: String, isAdmin: Bool) {
        self.id = id
        self.username = username
        self.isAdmin = isAdmin
    }
}
