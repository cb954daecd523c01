import CairnCore
import CairnStore
import Synchronization

/// Server-wide settings of the permission model.
public struct AccessPolicy: Sendable {
    /// What a user may do with a resource they hold no grant on (MLflow's `default_permission`).
    public var defaultPermission: Permission
    /// Aliases whose moves and deletions need MANAGE on the model, not EDIT.
    public var protectedAliases: Set<String>

    public init(defaultPermission: Permission = .read, protectedAliases: Set<String> = ["champion"]) {
        self.defaultPermission = defaultPermission
        self.protectedAliases = protectedAliases
    }
}

/// One user's permissions, loaded once per request: their grants and the default for the
/// rest. Decisions on it are synchronous, so a search can filter a page of results without a
/// query per row.
public struct UserAccess: Sendable {
    public let user: User
    public let isAdmin: Bool
    let grants: [AuthResourceType: [String: Permission]]
    let defaultPermission: Permission

    public init(user: User, isAdmin: Bool, grants: [PermissionGrant], defaultPermission: Permission) {
        self.user = user
        self.isAdmin = isAdmin
        var byType: [AuthResourceType: [String: Permission]] = [:]
        for grant in grants { byType[grant.resourceType, default: [:]][grant.resourceID] = grant.permission }
        self.grants = byType
        self.defaultPermission = defaultPermission
    }

    /// The user's effective level on a resource: MANAGE for admins, their grant (DENY
    /// included), else the default.
    public func permission(_ type: AuthResourceType, _ id: String) -> Permission {
        if isAdmin { return .manage }
        return grants[type]?[id] ?? defaultPermission
    }

    public func can(_ action: AuthAction, _ type: AuthResourceType, _ id: String) -> Bool {
        permission(type, id).allows(action)
    }

    /// Whether the user can read everything a resource-blind page may show: an admin, or a
    /// default of at least READ with no grant that withholds reading anything.
    public var readsEverything: Bool {
        if isAdmin { return true }
        guard defaultPermission.allows(.read) else { return false }
        return grants.values.allSatisfy { $0.values.allSatisfy { $0.allows(.read) } }
    }
}

/// Loads users' access and finds the experiment a run or logged model belongs to. A run
/// never changes experiments, so those answers are remembered (bounded), which keeps
/// authorization of the logging path to one grants read per request.
public final class AccessControl: Sendable {
    public let store: any AuthStore
    public let policy: AccessPolicy
    let experimentOfRun = Mutex<[String: String]>([:])
    let experimentOfModel = Mutex<[String: String]>([:])
    static let capacity = 100_000

    public init(store: any AuthStore, policy: AccessPolicy) {
        self.store = store
        self.policy = policy
    }

    public func access(for authenticated: AuthenticatedUser) async throws -> UserAccess {
        let user = authenticated.user
        if user.isAdmin || authenticated.isInternal {
            return UserAccess(user: user, isAdmin: true, grants: [], defaultPermission: .manage)
        }
        return UserAccess(
            user: user, isAdmin: false, grants: try await store.grants(userID: user.id), defaultPermission: policy.defaultPermission)
    }

    public func experimentID(ofRun runID: String) async throws -> String? {
        if let known = experimentOfRun.withLock({ $0[runID] }) { return known }
        guard let id = try await store.experimentID(ofRun: runID) else { return nil }
        experimentOfRun.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[runID] = id
        }
        return id
    }

    public func experimentID(ofLoggedModel modelID: String) async throws -> String? {
        if let known = experimentOfModel.withLock({ $0[modelID] }) { return known }
        guard let id = try await store.experimentID(ofLoggedModel: modelID) else { return nil }
        experimentOfModel.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[modelID] = id
        }
        return id
    }
}
