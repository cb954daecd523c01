import CairnCore
import CairnStore
import Crypto
import Foundation
import Synchronization

/// Who a request comes from, once its credentials checked out.
public struct AuthenticatedUser: Sendable, Equatable {
    public var user: User
    /// The access token the request presented; nil for a password.
    public var tokenID: String?
    /// The server's own calls to itself (the evaluation gate, pipeline stages): an admin that
    /// is no row in the user table.
    public var isInternal: Bool

    public init(user: User, tokenID: String? = nil, isInternal: Bool = false) {
        self.user = user
        self.tokenID = tokenID
        self.isInternal = isInternal
    }
}

/// Checks a request's `Authorization` header: HTTP Basic against the users' bcrypt hashes,
/// `Bearer` against the access tokens' SHA-256. Every failure answers the same
/// UNAUTHENTICATED, whether the user, the password or the token was wrong, after the same
/// bcrypt work. Failures are rate-limited per username and per address. A successful check is
/// remembered for `cacheTTL` (keyed by a SHA-256 of the credentials behind a secret made at start,
/// so the cache holds no password), which keeps bcrypt off the path of a client that logs a
/// metric every few milliseconds.
public final class Authenticator: Sendable {
    let store: any AuthStore
    let hasher: PasswordHasher
    let limiter: LoginRateLimiter
    let cacheTTL: Duration
    let now: WallClock
    /// The monotonic clock the remembered checks expire by; injected so tests can move it.
    let cacheNow: @Sendable () -> ContinuousClock.Instant
    /// The credential the server gives its own clients (gate, pipeline stages); random per start.
    let internalToken: String?

    struct CachedUser {
        var user: AuthenticatedUser
        var expires: ContinuousClock.Instant
        /// A request is checking the password again before the entry expires.
        var refreshing = false
        /// The stored bcrypt hash the password was verified against. While the user's stored
        /// hash is still this one the password still matches it, so a re-check reads the user
        /// and compares hashes instead of running bcrypt again.
        var verifiedHash: String? = nil
    }

    /// Prefixes every cached credential before hashing. The digests only key an in-memory table
    /// and never leave the process, so one salted SHA-256 does what an HMAC would, for half the
    /// hashing and none of HMAC's per-call key set-up (measurable on the logging path).
    let cacheSalt = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    let passwords = Mutex<[Data: CachedUser]>([:])
    let tokens = Mutex<[String: CachedUser]>([:])
    let sessions = Mutex<[String: CachedUser]>([:])
    /// How long a UI sign-in lasts.
    public static let sessionLifetime: Duration = .seconds(12 * 3600)
    static let cacheCapacity = 10_000

    public init(
        store: any AuthStore, hasher: PasswordHasher, limiter: LoginRateLimiter = LoginRateLimiter(), cacheTTL: Duration = .seconds(10),
        internalToken: String? = nil, now: @escaping WallClock = SystemClock.now,
        cacheNow: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.cacheNow = cacheNow
        self.store = store
        self.hasher = hasher
        self.limiter = limiter
        self.cacheTTL = cacheTTL
        self.internalToken = internalToken
        self.now = now
    }

    public static let internalUser = User(id: 0, username: "cairn-internal", isAdmin: true)

    static func unauthenticated() -> CairnError {
        CairnError(
            .unauthenticated,
            "You are not authenticated. Please set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.")
    }

    /// The user an `Authorization` header names, or UNAUTHENTICATED; REQUEST_LIMIT_EXCEEDED
    /// while the username or the address is locked out.
    public func authenticate(authorization: String?, address: String?) async throws -> AuthenticatedUser {
        guard let authorization else { throw Self.unauthenticated() }
        let (scheme, credentials) = Self.split(authorization)
        switch scheme.lowercased() {
        case "basic":
            guard let (username, password) = Self.decodeBasic(credentials) else { throw Self.unauthenticated() }
            return try await checkPassword(username: username, password: password, address: address)
        case "bearer":
            return try await checkToken(credentials, address: address)
        default:
            throw Self.unauthenticated()
        }
    }

    /// The scheme and the credentials of an `Authorization` header, around HTTP's optional
    /// whitespace (spaces and tabs). Plain character work: it runs on every request.
    static func split(_ header: String) -> (String, String) {
        let blank = { (character: Character) in character == " " || character == "\t" }
        var text = header[...]
        while let first = text.first, blank(first) { text.removeFirst() }
        while let last = text.last, blank(last) { text.removeLast() }
        guard let space = text.firstIndex(where: blank) else { return (String(text), "") }
        var credentials = text[text.index(after: space)...]
        while let first = credentials.first, blank(first) { credentials.removeFirst() }
        return (String(text[..<space]), String(credentials))
    }

    static func decodeBasic(_ credentials: String) -> (String, String)? {
        guard credentials.utf8.count <= 4096, let data = Data(base64Encoded: credentials),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    func rateKeys(username: String?, address: String?) -> [String] {
        [username.map { "user:" + $0 }, address.map { "address:" + $0 }].compactMap { $0 }
    }

    func checkPassword(username: String, password: String, address: String?) async throws -> AuthenticatedUser {
        var digest = SHA256()
        digest.update(data: cacheSalt)
        digest.update(data: Data((username + "\u{0}" + password).utf8))
        let key = Data(digest.finalize())
        let instant = cacheNow()
        let cacheTTL = cacheTTL
        // In the last quarter of an entry's life, one request checks the user again while the
        // others go on with the entry, so a busy client never has every connection waiting at
        // once when the entry runs out. An expired entry is checked again too; it is kept for
        // the hash it was verified against.
        let cached: (entry: CachedUser, fresh: Bool)? = passwords.withLock { cache in
            guard var entry = cache[key] else { return nil }
            guard entry.expires > instant else { return (entry, false) }
            guard !entry.refreshing, entry.expires - instant < cacheTTL / 4 else { return (entry, true) }
            entry.refreshing = true
            cache[key] = entry
            return (entry, false)
        }
        if let cached, cached.fresh { return cached.entry.user }
        let keys = rateKeys(username: username, address: address)
        if limiter.isLocked(keys) {
            throw CairnError(.requestLimitExceeded, "Too many failed logins; try again later.")
        }
        // No stored name or password holds a NUL (refused when set: PostgreSQL's text cannot hold
        // one, and bcrypt reads a password only up to it), so such a login is a wrong one. Refused
        // here, not looked up: on SQLite a NUL used to cut the name short, signing "admin\0x" in
        // as admin past admin's lockout.
        if username.utf8.contains(0) || password.utf8.contains(0) {
            limiter.recordFailure(keys)
            throw Self.unauthenticated()
        }
        let stored = try await store.storedUser(username: username)
        if let cached, let stored, let verified = cached.entry.verifiedHash, stored.passwordHash == verified {
            // Verified against this very hash before: bcrypt runs once per password, not once
            // per cache period, so it never sits on a logging client's path after its first call.
            return remember(AuthenticatedUser(user: stored.user), key: key, hash: verified)
        }
        guard try await hasher.verify(password, hash: stored?.passwordHash), let stored else {
            _ = passwords.withLock { $0.removeValue(forKey: key) }
            limiter.recordFailure(keys)
            throw Self.unauthenticated()
        }
        limiter.recordSuccess("user:" + username)
        return remember(AuthenticatedUser(user: stored.user), key: key, hash: stored.passwordHash)
    }

    func remember(_ user: AuthenticatedUser, key: Data, hash: String) -> AuthenticatedUser {
        passwords.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll() }
            cache[key] = CachedUser(user: user, expires: cacheNow() + cacheTTL, verifiedHash: hash)
        }
        return user
    }

    func checkToken(_ token: String, address: String?) async throws -> AuthenticatedUser {
        if let internalToken, token.utf8.count == internalToken.utf8.count, Self.constantTimeEqual(token, internalToken) {
            return AuthenticatedUser(user: Self.internalUser, isInternal: true)
        }
        let hash = AccessTokens.hash(token)
        if let cached = tokens.withLock({ $0[hash] }), cached.expires > cacheNow() { return cached.user }
        let keys = rateKeys(username: nil, address: address)
        if limiter.isLocked(keys) {
            throw CairnError(.requestLimitExceeded, "Too many failed logins; try again later.")
        }
        guard let owner = try await store.tokenOwner(tokenHash: hash) else {
            limiter.recordFailure(keys)
            throw Self.unauthenticated()
        }
        // Last use is recorded once per cache period, not on every request.
        try await store.touchToken(id: owner.tokenID, at: now())
        let user = AuthenticatedUser(user: owner.user, tokenID: owner.tokenID)
        tokens.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll() }
            cache[hash] = CachedUser(user: user, expires: cacheNow() + cacheTTL)
        }
        return user
    }

    /// Signs a browser in: the password is checked as a Basic login is (same answers, same
    /// limits), and the answer is a new session's secret for the cookie, stored only hashed.
    public func signIn(username: String, password: String, address: String?) async throws -> (user: User, session: String) {
        let user = try await checkPassword(username: username, password: password, address: address)
        let secret = AccessTokens.generate(prefix: "")
        let time = now()
        try await store.createSession(
            hash: AccessTokens.hash(secret), userID: user.user.id, at: time,
            expires: time + Self.sessionLifetime.components.seconds * 1000)
        return (user.user, secret)
    }

    /// The user a session cookie's secret belongs to, or UNAUTHENTICATED.
    public func authenticate(session secret: String) async throws -> AuthenticatedUser {
        let hash = AccessTokens.hash(secret)
        if let cached = sessions.withLock({ $0[hash] }), cached.expires > cacheNow() { return cached.user }
        guard let user = try await store.sessionOwner(hash: hash, at: now()) else { throw Self.unauthenticated() }
        let authenticated = AuthenticatedUser(user: user)
        sessions.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll() }
            cache[hash] = CachedUser(user: authenticated, expires: cacheNow() + cacheTTL)
        }
        return authenticated
    }

    public func signOut(session secret: String) async throws {
        let hash = AccessTokens.hash(secret)
        _ = sessions.withLock { $0.removeValue(forKey: hash) }
        try await store.deleteSession(hash: hash)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        zip(a.utf8, b.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Forgets every remembered check for `username`: a changed password, admin flag or a
    /// deletion takes effect on this server at once.
    public func invalidate(username: String) {
        passwords.withLock { cache in cache = cache.filter { $0.value.user.user.username != username } }
        tokens.withLock { cache in cache = cache.filter { $0.value.user.user.username != username } }
        sessions.withLock { cache in cache = cache.filter { $0.value.user.user.username != username } }
    }

    /// Forgets a revoked token.
    public func invalidate(tokenID: String) {
        tokens.withLock { cache in cache = cache.filter { $0.value.user.tokenID != tokenID } }
    }
}
