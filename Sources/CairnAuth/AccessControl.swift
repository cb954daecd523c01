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

/// One user's permissions: their own grants, the grants of the roles they hold in the default
/// workspace, and the default for the rest. Decisions on it are synchronous, so a search can
/// filter a page of results without a query per row.
///
/// A decision folds every grant that speaks about the resource, as MLflow 3.17 does (a user's
/// own grants are, in MLflow, the rows of their private role): any DENY wins; otherwise the
/// highest positive level, never below the default; with no grant, the default. A role that
/// manages the workspace makes its holders managers of everything, and admins bypass it all.
public struct UserAccess: Sendable {
    public let user: User
    public let isAdmin: Bool
    let grants: [AuthResourceType: [String: Permission]]
    /// Role grants by type: those on every resource (`*`), and those on one.
    let roleWildcards: [AuthResourceType: [Permission]]
    let roleGrants: [AuthResourceType: [String: [Permission]]]
    let managesWorkspace: Bool
    let defaultPermission: Permission

    public init(
        user: User, isAdmin: Bool, grants: [PermissionGrant], roleGrants: [RolePermission] = [], defaultPermission: Permission
    ) {
        self.user = user
        self.isAdmin = isAdmin
        var byType: [AuthResourceType: [String: Permission]] = [:]
        for grant in grants { byType[grant.resourceType, default: [:]][grant.resourceID] = grant.permission }
        self.grants = byType
        var wildcards: [AuthResourceType: [Permission]] = [:]
        var byID: [AuthResourceType: [String: [Permission]]] = [:]
        var manages = false
        for row in roleGrants {
            if row.managesWorkspace { manages = true }
            guard let type = row.resourceType.resourceType else { continue }
            if row.resourcePattern == "*" {
                wildcards[type, default: []].append(row.permission)
            } else {
                byID[type, default: [:]][row.resourcePattern, default: []].append(row.permission)
            }
        }
        roleWildcards = wildcards
        self.roleGrants = byID
        managesWorkspace = manages
        self.defaultPermission = defaultPermission
    }

    /// The user's effective level on a resource.
    public func permission(_ type: AuthResourceType, _ id: String) -> Permission {
        if isAdmin || managesWorkspace { return .manage }
        var denied = false
        var best: Permission?
        func fold(_ level: Permission) {
            if level == .deny {
                denied = true
            } else if best.map({ level.rank > $0.rank }) ?? true {
                best = level
            }
        }
        if let own = grants[type]?[id] { fold(own) }
        for level in roleWildcards[type] ?? [] { fold(level) }
        for level in roleGrants[type]?[id] ?? [] { fold(level) }
        if denied { return .deny }
        return best?.floored(at: defaultPermission) ?? defaultPermission
    }

    public func can(_ action: AuthAction, _ type: AuthResourceType, _ id: String) -> Bool {
        permission(type, id).allows(action)
    }

    /// Whether the user can read everything a resource-blind page may show: an admin or a
    /// workspace manager, or a default of at least READ with no grant that withholds reading
    /// anything (positive grants never fall below the default, so only vetoes can).
    public var readsEverything: Bool {
        if isAdmin || managesWorkspace { return true }
        guard defaultPermission.allows(.read) else { return false }
        let vetoes = { (level: Permission) in level == .deny || level == .noPermissions }
        return !grants.values.contains { $0.values.contains(where: vetoes) }
            && !roleWildcards.values.contains { $0.contains(where: vetoes) }
            && !roleGrants.values.contains { $0.values.contains { $0.contains(where: vetoes) } }
    }
}

/// Loads users' access and finds the experiment a run or logged model belongs to. A run
/// never changes experiments, so those answers are remembered (bounded). A user's access is
/// remembered for `cacheTTL` too, so the logging path reads no grants per request: every
/// change of grants, roles or users made through this server calls `invalidate()`, which drops
/// all of it at once (such changes are rare); a change made through another replica is seen
/// once the entry expires, as a changed password is by the `Authenticator`.
public final class AccessControl: Sendable {
    public let store: any AuthStore
    public let policy: AccessPolicy
    let cacheTTL: Duration
    let cacheNow: @Sendable () -> ContinuousClock.Instant
    let experimentOfRun = Mutex<[String: String]>([:])
    let experimentOfModel = Mutex<[String: String]>([:])
    let accessCache = Mutex<AccessCache>(AccessCache())
    static let capacity = 100_000
    static let accessCapacity = 10_000

    struct AccessCache {
        var entries: [Int64: (access: UserAccess, expires: ContinuousClock.Instant)] = [:]
        /// Bumped by every invalidation: a load that began before one is not stored.
        var generation: UInt64 = 0
    }

    public init(
        store: any AuthStore, policy: AccessPolicy, cacheTTL: Duration = .seconds(10),
        cacheNow: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.store = store
        self.policy = policy
        self.cacheTTL = cacheTTL
        self.cacheNow = cacheNow
    }

    public func access(for authenticated: AuthenticatedUser) async throws -> UserAccess {
        let user = authenticated.user
        if user.isAdmin || authenticated.isInternal {
            return UserAccess(user: user, isAdmin: true, grants: [], defaultPermission: .manage)
        }
        let instant = cacheNow()
        let (cached, generation) = accessCache.withLock { cache in
            (cache.entries[user.id].flatMap { $0.expires > instant && $0.access.user == user ? $0.access : nil }, cache.generation)
        }
        if let cached { return cached }
        let loaded = try await store.accessGrants(userID: user.id)
        let access = UserAccess(
            user: user, isAdmin: false, grants: loaded.grants, roleGrants: loaded.roleGrants, defaultPermission: policy.defaultPermission)
        let expires = cacheNow() + cacheTTL
        accessCache.withLock { cache in
            guard cache.generation == generation else { return }
            if cache.entries.count >= Self.accessCapacity { cache.entries.removeAll() }
            cache.entries[user.id] = (access, expires)
        }
        return access
    }

    /// Forgets every remembered access: grants, roles, role assignments or a user changed.
    public func invalidate() {
        accessCache.withLock { cache in
            cache.generation &+= 1
            cache.entries.removeAll()
        }
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
