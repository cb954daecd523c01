import CairnCore
import HummingbirdBcrypt
import NIOPosix

/// bcrypt (hummingbird-auth's) for passwords. Hashing and checking take tens to hundreds of
/// milliseconds of CPU by design, so both run on the injected thread pool, never on the
/// concurrency pool where they would stall every other request.
public struct PasswordHasher: Sendable {
    /// log2 of bcrypt's rounds: 12 (about 250 ms here) for servers; tests pass the minimum, 4.
    public let cost: UInt8
    let threadPool: NIOThreadPool
    /// A hash of a password nobody has, checked when the username is unknown so that a wrong
    /// user costs what a wrong password costs and the two cannot be told apart by time.
    let dummyHash: String

    public static let minimumPasswordLength = 12

    public init(cost: UInt8 = 12, threadPool: NIOThreadPool = .singleton) {
        precondition((4...31).contains(cost), "bcrypt's cost is between 4 and 31")
        self.cost = cost
        self.threadPool = threadPool
        // One hash at start-up, before the server takes requests; every later one is on the pool.
        dummyHash = Bcrypt.hash(CairnID.make(), cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (an unknown user) it checks the dummy
    /// hash and answers false, in the same time.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? dummyHash
        let matches = try await threadPool.runIfActive { Bcrypt.verify(password, hash: target) }
        return hash != nil && matches
    }

    /// MLflow's rule (`_validate_password`), with its message.
    public static func validate(password: String) throws(CairnError) {
        // bcrypt reads a password only up to a NUL: "secret\0anything" would be "secret".
        try TrackingValidation.validateText(password, name: "password")
        guard password.count >= minimumPasswordLength else {
            throw .invalidParameter("Password must be at least \(minimumPasswordLength) characters.")
        }
    }
}
