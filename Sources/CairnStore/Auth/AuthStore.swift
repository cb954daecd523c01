import CairnCore

/// A user with the hash their password is checked against: only authentication reads this.
public struct StoredUser: Sendable, Equatable {
    public var user: User
    public var passwordHash: String

    public init(user: User, passwordHash: String) {
        self.user = user
        self.passwordHash = passwordHash
    }
}

/// A personal access token as its owner sees it after creation: never the secret or its hash.
public struct AccessTokenInfo: Sendable, Equatable {
    public var id: String
    public var userID: Int64
    public var name: String
    public var creationTime: Int64
    public var lastUsedTime: Int64?
    public var revokedTime: Int64?

    public init(id: String, userID: Int64, name: String, creationTime: Int64, lastUsedTime: Int64?, revokedTime: Int64?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.creationTime = creationTime
        self.lastUsedTime = lastUsedTime
        self.revokedTime = revokedTime
    }
}

/// One line of the audit log: a write someone asked for, and how it ended.
public struct AuditEntry: Sendable, Equatable {
    public var id: String
    public var time: Int64
    /// Nil when the caller never authenticated (a refused login).
    public var username: String?
    public var address: String?
    public var method: String
    public var path: String
    /// The experiment, run or model the write named, when the authorizer knew it.
    public var resource: String?
    public var status: Int

    public init(
        id: String, time: Int64, username: String?, address: String?, method: String, path: String, resource: String?, status: Int
    ) {
        self.id = id
        self.time = time
        self.username = username
        self.address = address
        self.method = method
        self.path = path
        self.resource = resource
        self.status = status
    }
}

/// Users, their grants, their access tokens and the audit log, in the metadata database.
public protocol AuthStore: Sendable {
    /// Throws RESOURCE_ALREADY_EXISTS when the username is taken.
    func createUser(username: String, passwordHash: String, isAdmin: Bool, at time: Int64) async throws -> User
    func storedUser(username: String) async throws -> StoredUser?
    func user(id: Int64) async throws -> User?
    func listUsers() async throws -> [User]
    func userCount() async throws -> Int
    /// Throws RESOURCE_DOES_NOT_EXIST for an unknown user. Ends the user's UI sessions.
    func updatePassword(username: String, passwordHash: String) async throws
    func updateAdmin(username: String, isAdmin: Bool) async throws
    /// Deletes the user with their grants, tokens and sessions.
    func deleteUser(username: String) async throws

    /// Throws RESOURCE_ALREADY_EXISTS when the user has a grant on the resource already.
    func grant(userID: Int64, _ grant: PermissionGrant) async throws
    /// Creates or replaces the user's grant on the resource (the creator's MANAGE).
    func upsertGrant(userID: Int64, _ grant: PermissionGrant) async throws
    /// Throws RESOURCE_DOES_NOT_EXIST when there is no such grant.
    func updateGrant(userID: Int64, _ grant: PermissionGrant) async throws
    /// Throws RESOURCE_DOES_NOT_EXIST when there is no such grant.
    func revoke(userID: Int64, resourceType: AuthResourceType, resourceID: String) async throws
    func grants(userID: Int64) async throws -> [PermissionGrant]
    /// Drops every user's grants on a resource that no longer exists.
    func dropGrants(resourceType: AuthResourceType, resourceID: String) async throws
    /// Moves every grant on a renamed resource to its new id.
    func renameGrants(resourceType: AuthResourceType, from oldID: String, to newID: String) async throws

    func createToken(id: String, userID: Int64, name: String, tokenHash: String, at time: Int64) async throws -> AccessTokenInfo
    func tokens(userID: Int64) async throws -> [AccessTokenInfo]
    /// The owner of an unrevoked token with this hash, with the token's id.
    func tokenOwner(tokenHash: String) async throws -> (user: User, tokenID: String)?
    func touchToken(id: String, at time: Int64) async throws
    /// Throws RESOURCE_DOES_NOT_EXIST unless the user has an unrevoked token with this id.
    func revokeToken(id: String, userID: Int64, at time: Int64) async throws

    /// A UI session, by the hash of its cookie's secret, until `expires`.
    func createSession(hash: String, userID: Int64, at time: Int64, expires: Int64) async throws
    /// The owner of an unexpired session.
    func sessionOwner(hash: String, at time: Int64) async throws -> User?
    func deleteSession(hash: String) async throws

    /// A user's own grants and the grants of the roles they hold in the default workspace (the
    /// only one Cairn has), read together: what one decision needs.
    func accessGrants(userID: Int64) async throws -> (grants: [PermissionGrant], roleGrants: [RolePermission])

    /// Throws RESOURCE_ALREADY_EXISTS when the workspace has a role of that name.
    func createRole(name: String, workspace: String, description: String?) async throws -> Role
    /// The role with its grants; RESOURCE_DOES_NOT_EXIST for an unknown id (as every call
    /// naming a role or a role's grant below).
    func role(id: Int64) async throws -> Role
    /// The roles in these workspaces, or every role when nil.
    func roles(workspaces: [String]?) async throws -> [Role]
    /// Throws RESOURCE_ALREADY_EXISTS when the new name is another role's in the workspace.
    func updateRole(id: Int64, name: String?, description: String?) async throws -> Role
    /// Deletes the role with its grants and assignments.
    func deleteRole(id: Int64) async throws
    /// Throws RESOURCE_ALREADY_EXISTS when the role has a grant on that type and pattern.
    func addRolePermission(
        roleID: Int64, resourceType: RoleResourceType, resourcePattern: String, permission: Permission
    ) async throws -> RolePermission
    func rolePermission(id: Int64) async throws -> RolePermission
    func removeRolePermission(id: Int64) async throws
    func rolePermissions(roleID: Int64) async throws -> [RolePermission]
    func updateRolePermission(id: Int64, permission: Permission) async throws -> RolePermission
    /// Throws RESOURCE_ALREADY_EXISTS when the user holds the role already.
    func assignRole(userID: Int64, roleID: Int64) async throws -> RoleAssignment
    /// Throws RESOURCE_DOES_NOT_EXIST when the user does not hold the role.
    func unassignRole(userID: Int64, roleID: Int64) async throws
    func roles(ofUser userID: Int64) async throws -> [Role]
    func assignments(ofRole roleID: Int64) async throws -> [RoleAssignment]
    /// Every user's roles, for the user list.
    func rolesByUser() async throws -> [Int64: [Role]]
    /// The workspaces where the user holds a role, and those where a role of theirs manages
    /// the workspace (MLflow's workspace admins).
    func roleWorkspaces(userID: Int64) async throws -> (present: Set<String>, managed: Set<String>)

    func appendAudit(_ entries: [AuditEntry]) async throws
    /// Newest first.
    func audit(username: String?, since: Int64?, maxResults: Int) async throws -> [AuditEntry]

    /// The experiment a run belongs to, for deciding on the run by its experiment; nil for an
    /// unknown run.
    func experimentID(ofRun runID: String) async throws -> String?
    /// The experiment a logged model belongs to; nil for an unknown model.
    func experimentID(ofLoggedModel modelID: String) async throws -> String?
}
