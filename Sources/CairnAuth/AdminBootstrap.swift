import CairnCore
import CairnStore
import Logging

/// The first admin, as `mlflow server --app-name basic-auth` makes it: on a user store with no
/// admin, the admin user is created from the password the environment gives. There is no
/// default password: with no admin and no password the server refuses to start.
public enum AdminBootstrap {
    public struct Settings: Sendable {
        public var username: String
        public var password: String?

        public init(username: String, password: String?) {
            self.username = username
            self.password = password
        }

        /// `MLFLOW_AUTH_ADMIN_USERNAME`, else the file's `admin_username` (default `admin`);
        /// `MLFLOW_AUTH_ADMIN_PASSWORD`, else `CAIRN_ADMIN_PASSWORD`, else the file's
        /// `admin_password`: the environment overrides the file, as in MLflow.
        public static func fromEnvironment(_ environment: [String: String], file: AuthConfigFile = AuthConfigFile()) -> Settings {
            // As MLflow's `read_auth_config`: a variable that is set wins even when empty, so an
            // empty injected secret refuses the start instead of falling back to the file.
            func first(_ names: [String]) -> String?? {
                for name in names { if let value = environment[name] { return .some(value.isEmpty ? nil : value) } }
                return .none
            }
            let username = first(["MLFLOW_AUTH_ADMIN_USERNAME"]).map { $0 ?? "" } ?? file.adminUsername ?? "admin"
            let password = first(["MLFLOW_AUTH_ADMIN_PASSWORD", "CAIRN_ADMIN_PASSWORD"]) ?? file.adminPassword
            return Settings(username: username, password: password)
        }
    }

    /// Makes sure an admin exists; returns the one it created, if any.
    @discardableResult
    public static func ensureAdmin(
        store: any AuthStore, hasher: PasswordHasher, settings: Settings, logger: Logger, now: Int64
    ) async throws -> User? {
        if try await store.listUsers().contains(where: \.isAdmin) { return nil }
        guard let password = settings.password else {
            throw CairnError.invalidParameter(
                "--auth is on and the user store has no admin: set MLFLOW_AUTH_ADMIN_PASSWORD (or CAIRN_ADMIN_PASSWORD) to create "
                    + "the admin '\(settings.username)' on this start. There is no default password.")
        }
        try PasswordHasher.validate(password: password)
        guard !settings.username.isEmpty else { throw CairnError.invalidParameter("Username cannot be empty.") }
        if try await store.storedUser(username: settings.username) != nil {
            // The named user exists but is not an admin: promoting it from a password in the
            // environment would let whoever sets the variable take over an account.
            throw CairnError.invalidParameter(
                "--auth is on, no user is an admin, and '\(settings.username)' is an existing non-admin user: set "
                    + "MLFLOW_AUTH_ADMIN_USERNAME to a new name to create an admin.")
        }
        let user: User
        do {
            user = try await store.createUser(
                username: settings.username, passwordHash: try await hasher.hash(password), isAdmin: true, at: now)
        } catch let error as CairnError where error.code == .resourceAlreadyExists {
            // Replicas started together on an empty store all find no admin, and one creates it
            // first: the others go on with that admin rather than fail their start.
            if try await store.listUsers().contains(where: \.isAdmin) { return nil }
            throw error
        }
        logger.notice("Created the admin user", metadata: ["username": "\(user.username)"])
        return user
    }
}
