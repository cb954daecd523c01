import CairnAuth
import CairnCore
import CairnStore
import Logging

/// Everything `cairn server --auth` adds to the server: who is asking (`authenticator`), what
/// they may do (`access`), the record of what they wrote (`audit`), and the credential the
/// server's own clients (the evaluation gate, pipeline stages) use to call it.
public struct ServerAuth: Sendable {
    public let store: any AuthStore
    public let hasher: PasswordHasher
    public let authenticator: Authenticator
    public let access: AccessControl
    public let audit: AuditRecorder
    public let internalToken: String
    public let now: WallClock

    public init(
        store: any AuthStore, policy: AccessPolicy, hasher: PasswordHasher, limiter: LoginRateLimiter = LoginRateLimiter(),
        cacheTTL: Duration = .seconds(10), logger: Logger, now: @escaping WallClock = SystemClock.now
    ) {
        self.store = store
        self.hasher = hasher
        self.now = now
        internalToken = AccessTokens.generate()
        authenticator = Authenticator(
            store: store, hasher: hasher, limiter: limiter, cacheTTL: cacheTTL, internalToken: internalToken, now: now)
        access = AccessControl(store: store, policy: policy, cacheTTL: cacheTTL)
        audit = AuditRecorder(store: store, logger: logger)
    }

    public var policy: AccessPolicy { access.policy }
}

extension ServerAuth {
    /// The user named `username`; MLflow's RESOURCE_DOES_NOT_EXIST when there is none.
    func existingUser(named username: String) async throws -> User {
        guard let stored = try await store.storedUser(username: username) else {
            throw CairnError.notFound("User with username=\(username) not found")
        }
        return stored.user
    }
}
