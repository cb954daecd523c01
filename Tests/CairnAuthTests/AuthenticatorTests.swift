import CairnCore
import CairnStore
import Foundation
import Logging
import NIOPosix
import Synchronization
import Testing

@testable import CairnAuth

/// A migrated SQLite database with an auth store, in a fresh temporary directory.
struct AuthFixture {
    let directory: URL
    let database: SQLiteMetadataDatabase
    let store: SQLAuthStore
    /// bcrypt's minimum cost: the tests check behaviour, not the hash's strength.
    static let hasher = PasswordHasher(cost: 4)

    static func with(_ body: (AuthFixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let fixture = AuthFixture(directory: directory, database: database, store: SQLAuthStore(database: database))
        do {
            try await body(fixture)
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    @discardableResult
    func user(_ name: String, password: String = "correct horse battery", admin: Bool = false) async throws -> User {
        try await store.createUser(username: name, passwordHash: try await Self.hasher.hash(password), isAdmin: admin, at: 1)
    }
}

func basic(_ username: String, _ password: String) -> String {
    "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
}

func expectCode(_ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code.rawValue), got success", sourceLocation: sourceLocation)
    } catch let error as CairnError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}

struct AuthenticatorTests {
    @Test func basicCredentialsAreCheckedAgainstTheBcryptHash() async throws {
        try await AuthFixture.with { fixture in
            let alice = try await fixture.user("alice")
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher)
            let found = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: "10.0.0.1")
            #expect(found.user == alice)
            #expect(found.tokenID == nil)
            // A wrong password, an unknown user, a malformed header and none at all: the same answer.
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "wrong"), address: nil)
            }
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: basic("mallory", "correct horse battery"), address: nil)
            }
            await expectCode(.unauthenticated) { _ = try await authenticator.authenticate(authorization: "Basic !!!", address: nil) }
            await expectCode(.unauthenticated) { _ = try await authenticator.authenticate(authorization: "Digest x", address: nil) }
            await expectCode(.unauthenticated) { _ = try await authenticator.authenticate(authorization: nil, address: nil) }
        }
    }

    @Test func aPasswordWithAColonAndAnEmptyPasswordAreTheirOwn() async throws {
        #expect(Authenticator.decodeBasic(Data("u:pa:ss".utf8).base64EncodedString()).map { [$0.0, $0.1] } == ["u", "pa:ss"])
        #expect(Authenticator.decodeBasic(Data("u:".utf8).base64EncodedString()).map { [$0.0, $0.1] } == ["u", ""])
        #expect(Authenticator.decodeBasic(Data("nocolon".utf8).base64EncodedString()) == nil)
        // The header's optional whitespace around the scheme and the credentials.
        #expect([Authenticator.split(" \tBasic  \t abc= ")].map { [$0.0, $0.1] } == [["Basic", "abc="]])
        #expect([Authenticator.split("Bearer")].map { [$0.0, $0.1] } == [["Bearer", ""]])
        #expect([Authenticator.split("")].map { [$0.0, $0.1] } == [["", ""]])
    }

    @Test func aChangedPasswordStopsWorkingOnceTheCacheIsInvalidated() async throws {
        try await AuthFixture.with { fixture in
            try await fixture.user("alice")
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher, cacheTTL: .seconds(60))
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            try await fixture.store.updatePassword(
                username: "alice", passwordHash: try await AuthFixture.hasher.hash("another long password"))
            // Still remembered until invalidated: the cache, not the store, answered.
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            authenticator.invalidate(username: "alice")
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            }
            _ = try await authenticator.authenticate(authorization: basic("alice", "another long password"), address: nil)
        }
    }

    @Test func anEntryNearItsEndIsCheckedAgainByOneRequest() async throws {
        try await AuthFixture.with { fixture in
            try await fixture.user("alice")
            // A clock the test moves: how long bcrypt takes on a busy machine does not matter.
            let clock = MovableClock()
            let authenticator = Authenticator(
                store: fixture.store, hasher: AuthFixture.hasher, cacheTTL: .milliseconds(800), cacheNow: { clock.now })
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            try await fixture.store.updatePassword(
                username: "alice", passwordHash: try await AuthFixture.hasher.hash("another long password"))
            // Early in the entry's life the cache answers.
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            clock.advance(by: .milliseconds(650))
            // In its last quarter one request checks the password again, and the change shows.
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            }
        }
    }

    /// bcrypt runs on a password's first check only: once the remembered check expires, the
    /// user's stored hash is compared with the one the password was verified against. The
    /// proof: the hasher's thread pool is gone, and the re-check still succeeds.
    @Test func bcryptRunsOncePerPasswordNotOncePerCachePeriod() async throws {
        try await AuthFixture.with { fixture in
            try await fixture.user("alice")
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            let clock = MovableClock()
            let authenticator = Authenticator(
                store: fixture.store, hasher: PasswordHasher(cost: 4, threadPool: pool), cacheTTL: .seconds(10), cacheNow: { clock.now })
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            try await pool.shutdownGracefully()
            clock.advance(by: .seconds(8)) // the last quarter: re-checked
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            clock.advance(by: .seconds(30)) // expired: re-checked
            let again = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            #expect(again.user.username == "alice")
            // A changed hash needs bcrypt again, which this pool can no longer run: never a pass.
            try await fixture.store.updatePassword(
                username: "alice", passwordHash: try await AuthFixture.hasher.hash("another long password"))
            clock.advance(by: .seconds(30))
            await #expect(throws: (any Error).self) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: nil)
            }
        }
    }

    @Test func failedLoginsAreLimitedPerUserAndPerAddress() async throws {
        try await AuthFixture.with { fixture in
            try await fixture.user("alice")
            try await fixture.user("bob")
            let limiter = LoginRateLimiter(limit: 3, window: .seconds(60), lockout: .seconds(60))
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher, limiter: limiter)
            for _ in 0..<3 {
                await expectCode(.unauthenticated) {
                    _ = try await authenticator.authenticate(authorization: basic("alice", "guess"), address: "10.0.0.1")
                }
            }
            // Locked: even the right password is refused, from any address.
            await expectCode(.requestLimitExceeded) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: "10.0.0.2")
            }
            // The address is locked too, for every user.
            await expectCode(.requestLimitExceeded) {
                _ = try await authenticator.authenticate(authorization: basic("bob", "correct horse battery"), address: "10.0.0.1")
            }
            // Another user from another address is untouched.
            _ = try await authenticator.authenticate(authorization: basic("bob", "correct horse battery"), address: "10.0.0.3")
        }
    }

    @Test func theLimiterForgetsFailuresOutsideItsWindowAndUnlocksAfterTheLockout() {
        let limiter = LoginRateLimiter(limit: 2, window: .seconds(10), lockout: .seconds(30))
        let start = ContinuousClock.now
        limiter.recordFailure(["k"], now: start)
        limiter.recordFailure(["k"], now: start + .seconds(11))
        #expect(!limiter.isLocked(["k"], now: start + .seconds(11)))
        limiter.recordFailure(["k"], now: start + .seconds(12))
        #expect(limiter.isLocked(["k"], now: start + .seconds(13)))
        #expect(!limiter.isLocked(["k"], now: start + .seconds(43)))
    }

    @Test func tokensAuthenticateUntilRevokedAndAreStoredOnlyAsTheirHash() async throws {
        try await AuthFixture.with { fixture in
            let alice = try await fixture.user("alice")
            let secret = AccessTokens.generate()
            #expect(secret.hasPrefix(AccessTokens.prefix) && secret.count == AccessTokens.prefix.count + 64)
            #expect(AccessTokens.hash(secret).count == 64 && AccessTokens.hash(secret) != secret)
            let info = try await fixture.store.createToken(
                id: "t", userID: alice.id, name: "ci", tokenHash: AccessTokens.hash(secret), at: 5)
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher, now: { 42 })
            let found = try await authenticator.authenticate(authorization: "Bearer " + secret, address: nil)
            #expect(found.user == alice && found.tokenID == info.id)
            #expect(try await fixture.store.tokens(userID: alice.id).first?.lastUsedTime == 42)
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: "Bearer cairn_pat_wrong", address: nil)
            }
            try await fixture.store.revokeToken(id: info.id, userID: alice.id, at: 6)
            authenticator.invalidate(tokenID: info.id)
            await expectCode(.unauthenticated) { _ = try await authenticator.authenticate(authorization: "Bearer " + secret, address: nil) }
        }
    }

    @Test func theInternalTokenIsAnAdminThatIsNoUser() async throws {
        try await AuthFixture.with { fixture in
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher, internalToken: "cairn_pat_internal")
            let found = try await authenticator.authenticate(authorization: "Bearer cairn_pat_internal", address: nil)
            #expect(found.isInternal && found.user.isAdmin)
            await expectCode(.unauthenticated) {
                _ = try await authenticator.authenticate(authorization: "Bearer cairn_pat_internaX", address: nil)
            }
        }
    }

    @Test func passwordsShorterThanMLflowsMinimumAreRefused() {
        #expect(throws: CairnError.self) { try PasswordHasher.validate(password: "short") }
        #expect(throws: Never.self) { try PasswordHasher.validate(password: "twelve chars") }
        // bcrypt would read it only up to the NUL.
        #expect(throws: CairnError.self) { try PasswordHasher.validate(password: "twelve chars\u{0}x") }
    }

    /// A NUL in the name or the password is a wrong login, counted as one, never a lookup of
    /// what comes before it (an outside tester signed in as "admin\0x" that way).
    @Test func aNulInTheNameOrPasswordIsAWrongLogin() async throws {
        try await AuthFixture.with { fixture in
            try await fixture.user("alice")
            let limiter = LoginRateLimiter(limit: 3, window: .seconds(60), lockout: .seconds(60))
            let authenticator = Authenticator(store: fixture.store, hasher: AuthFixture.hasher, limiter: limiter)
            for (name, password) in [("alice\u{0}x", "correct horse battery"), ("alice", "correct horse battery\u{0}"), ("\u{0}", "")] {
                await expectCode(.unauthenticated) {
                    _ = try await authenticator.authenticate(authorization: basic(name, password), address: "10.0.0.9")
                }
            }
            // Each counted against the address.
            await expectCode(.requestLimitExceeded) {
                _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: "10.0.0.9")
            }
            _ = try await authenticator.authenticate(authorization: basic("alice", "correct horse battery"), address: "10.0.0.10")
        }
    }
}

struct AccessTests {
    @Test func grantsWinOverTheDefaultAndAdminsBypass() {
        let user = User(id: 2, username: "u", isAdmin: false)
        let access = UserAccess(
            user: user, isAdmin: false,
            grants: [
                PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .edit),
                PermissionGrant(resourceType: .experiment, resourceID: "2", permission: .deny),
                PermissionGrant(resourceType: .registeredModel, resourceID: "m", permission: .manage),
            ], defaultPermission: .read)
        #expect(access.can(.update, .experiment, "1") && !access.can(.delete, .experiment, "1"))
        #expect(!access.can(.read, .experiment, "2"))
        #expect(access.can(.read, .experiment, "3") && !access.can(.update, .experiment, "3"))
        #expect(access.can(.manage, .registeredModel, "m"))
        #expect(!access.readsEverything)
        let admin = UserAccess(user: user, isAdmin: true, grants: [], defaultPermission: .noPermissions)
        #expect(admin.can(.delete, .experiment, "2") && admin.readsEverything)
        let none = UserAccess(user: user, isAdmin: false, grants: [], defaultPermission: .noPermissions)
        #expect(!none.can(.read, .experiment, "1") && !none.readsEverything)
    }

    static func row(_ id: Int64, _ type: RoleResourceType, _ pattern: String, _ permission: Permission) -> RolePermission {
        RolePermission(id: id, roleID: 1, resourceType: type, resourcePattern: pattern, permission: permission)
    }

    @Test func rolesFoldWithOwnGrantsAsMLflowDoes() {
        let user = User(id: 2, username: "u", isAdmin: false)
        let access = UserAccess(
            user: user, isAdmin: false,
            grants: [
                PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .read),
                PermissionGrant(resourceType: .experiment, resourceID: "4", permission: .manage),
            ],
            roleGrants: [
                Self.row(1, .experiment, "*", .use), Self.row(2, .experiment, "1", .edit), Self.row(3, .experiment, "2", .deny),
                Self.row(4, .registeredModel, "m", .manage), Self.row(5, .workspace, "*", .use),
            ], defaultPermission: .read)
        #expect(access.permission(.experiment, "1") == .edit) // the highest of the user's READ and the role's EDIT
        #expect(access.permission(.experiment, "2") == .deny) // a DENY beats the role's USE on every experiment
        #expect(access.permission(.experiment, "3") == .use) // the role's wildcard
        #expect(access.permission(.experiment, "4") == .manage)
        #expect(access.permission(.registeredModel, "m") == .manage)
        #expect(access.permission(.registeredModel, "n") == .read) // the default; a workspace USE is no resource grant
        #expect(!access.readsEverything)
        // A positive grant never resolves below the default (MLflow 3.17's floor); a DENY stays.
        let floor = UserAccess(
            user: user, isAdmin: false,
            grants: [
                PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .read),
                PermissionGrant(resourceType: .experiment, resourceID: "2", permission: .deny),
            ], defaultPermission: .edit)
        #expect(floor.permission(.experiment, "1") == .edit && floor.permission(.experiment, "2") == .deny)
        // A role that manages the workspace manages everything in it.
        let manager = UserAccess(
            user: user, isAdmin: false, grants: [], roleGrants: [Self.row(6, .workspace, "*", .manage)], defaultPermission: .noPermissions)
        #expect(manager.can(.delete, .experiment, "9") && manager.can(.manage, .registeredModel, "x") && manager.readsEverything)
        let member = UserAccess(
            user: user, isAdmin: false, grants: [], roleGrants: [Self.row(7, .workspace, "*", .use)], defaultPermission: .noPermissions)
        #expect(!member.can(.read, .experiment, "9"))
    }

    @Test func roleGrantsAreCheckedAsMLflowChecksThem() throws {
        #expect(throws: CairnError.self) { _ = try RolePermission.validate(type: "workspace", pattern: "*", permission: "READ") }
        #expect(throws: CairnError.self) { _ = try RolePermission.validate(type: "workspace", pattern: "w", permission: "MANAGE") }
        #expect(throws: CairnError.self) { _ = try RolePermission.validate(type: "experiment", pattern: "1", permission: "NO_PERMISSIONS") }
        #expect(throws: CairnError.self) { _ = try RolePermission.validate(type: "prompt", pattern: "*", permission: "READ") }
        #expect(throws: CairnError.self) { _ = try RolePermission.validate(type: "experiment", pattern: "*", permission: "OWNER") }
        let parsed = try RolePermission.validate(type: "registered_model", pattern: "m", permission: "DENY")
        #expect(parsed.0 == .registeredModel && parsed.1 == .deny)
        #expect(throws: CairnError.self) { try Role.validate(name: "__user_7__") }
        #expect(throws: CairnError.self) { try Role.validate(name: "  ") }
    }

    /// A user's access is read once and remembered: a change made through the server drops
    /// it at once (`invalidate`), any other change is seen when the entry expires.
    @Test func accessIsRememberedUntilInvalidatedOrExpired() async throws {
        try await AuthFixture.with { fixture in
            let alice = try await fixture.user("alice")
            let clock = Mutex(ContinuousClock.now)
            let control = AccessControl(
                store: fixture.store, policy: AccessPolicy(defaultPermission: .noPermissions), cacheTTL: .seconds(10),
                cacheNow: { clock.withLock { $0 } })
            let caller = AuthenticatedUser(user: alice)
            #expect(try await control.access(for: caller).permission(.experiment, "1") == .noPermissions)
            try await fixture.store.grant(userID: alice.id, PermissionGrant(resourceType: .experiment, resourceID: "1", permission: .edit))
            #expect(try await control.access(for: caller).permission(.experiment, "1") == .noPermissions)
            control.invalidate()
            #expect(try await control.access(for: caller).permission(.experiment, "1") == .edit)
            let role = try await fixture.store.createRole(name: "r", workspace: Role.defaultWorkspace, description: nil)
            _ = try await fixture.store.addRolePermission(
                roleID: role.id, resourceType: .experiment, resourcePattern: "*", permission: .read)
            _ = try await fixture.store.assignRole(userID: alice.id, roleID: role.id)
            #expect(try await control.access(for: caller).permission(.experiment, "2") == .noPermissions)
            clock.withLock { $0 = $0.advanced(by: .seconds(11)) }
            #expect(try await control.access(for: caller).permission(.experiment, "2") == .read)
        }
    }

    @Test func levelsFollowMLflowsMeanings() throws {
        #expect(Permission.read.allows(.read) && !Permission.read.allows(.use))
        #expect(Permission.use.allows(.use) && !Permission.use.allows(.update))
        #expect(Permission.edit.allows(.update) && !Permission.edit.allows(.delete))
        #expect(Permission.manage.allows(.manage))
        #expect(!Permission.deny.allows(.read) && !Permission.noPermissions.allows(.read))
        #expect(throws: CairnError.self) { try Permission.parse("NO_PERMISSIONS", grant: true) }
        #expect(throws: CairnError.self) { try Permission.parse("OWNER", grant: false) }
        #expect(try Permission.parse("DENY", grant: true) == .deny)
    }
}

struct AdminBootstrapTests {
    /// Replicas started together on an empty store each try to create the admin; all start.
    @Test func startsTogetherMakeOneAdminAndAllSucceed() async throws {
        try await AuthFixture.with { fixture in
            let store = fixture.store
            let settings = AdminBootstrap.Settings(username: "admin", password: "a long admin password")
            let created = try await withThrowingTaskGroup(of: User?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await AdminBootstrap.ensureAdmin(
                            store: store, hasher: AuthFixture.hasher, settings: settings, logger: Logger(label: "test"), now: 1)
                    }
                }
                return try await group.reduce(into: [User?]()) { $0.append($1) }
            }
            #expect(created.compactMap { $0 }.count == 1)
            #expect(try await store.listUsers().filter(\.isAdmin).map(\.username) == ["admin"])
        }
    }

    @Test func theFirstAdminComesFromTheEnvironmentAndThereIsNoDefault() async throws {
        try await AuthFixture.with { fixture in
            let logger = Logger(label: "test")
            await expectCode(.invalidParameterValue) {
                try await AdminBootstrap.ensureAdmin(
                    store: fixture.store, hasher: AuthFixture.hasher, settings: .init(username: "admin", password: nil), logger: logger,
                    now: 1)
            }
            #expect(try await fixture.store.userCount() == 0)
            await expectCode(.invalidParameterValue) {
                try await AdminBootstrap.ensureAdmin(
                    store: fixture.store, hasher: AuthFixture.hasher, settings: .init(username: "admin", password: "short"), logger: logger,
                    now: 1)
            }
            let settings = AdminBootstrap.Settings.fromEnvironment(["CAIRN_ADMIN_PASSWORD": "a long admin password"])
            #expect(settings.username == "admin")
            let created = try await AdminBootstrap.ensureAdmin(
                store: fixture.store, hasher: AuthFixture.hasher, settings: settings, logger: logger, now: 1)
            #expect(created?.isAdmin == true)
            // Once there is an admin, later starts need no password and change nothing.
            #expect(
                try await AdminBootstrap.ensureAdmin(
                    store: fixture.store, hasher: AuthFixture.hasher, settings: .init(username: "admin", password: nil), logger: logger,
                    now: 2)
                    == nil)
            let stored = try #require(try await fixture.store.storedUser(username: "admin"))
            #expect(try await AuthFixture.hasher.verify("a long admin password", hash: stored.passwordHash))
            #expect(
                AdminBootstrap.Settings.fromEnvironment([
                    "MLFLOW_AUTH_ADMIN_USERNAME": "root", "MLFLOW_AUTH_ADMIN_PASSWORD": "p1", "CAIRN_ADMIN_PASSWORD": "p2",
                ]).password == "p1")
        }
    }

    @Test func theAuditRecorderWritesWhatItBuffered() async throws {
        try await AuthFixture.with { fixture async throws in
            let recorder = AuditRecorder(store: fixture.store, logger: Logger(label: "test"))
            recorder.record(
                AuditEntry(id: "a", time: 1, username: "u", address: nil, method: "POST", path: "/x", resource: nil, status: 200))
            #expect(try await fixture.store.audit(username: nil, since: nil, maxResults: 10).isEmpty)
            await recorder.flush()
            #expect(try await fixture.store.audit(username: nil, since: nil, maxResults: 10).map(\.id) == ["a"])
        }
    }
}

/// A monotonic clock that moves only when told to.
final class MovableClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}
