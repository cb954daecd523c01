import ArgumentParser
import CairnAuth
import CairnCore
import CairnPipelines
import CairnServer
import Foundation
import Hummingbird
import Logging

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the tracking server (MLflow-compatible REST API)."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 5000

    @Option(help: "Directory for the embedded database and artifacts.")
    var dataDir = "./cairn-data"

    @Option(help: "Metadata store: sqlite:///path.db or postgresql://user:pass@host:port/db.")
    var backendStoreUri: String?

    @Option(
        help:
            "Where proxied artifacts are stored: a directory, or s3://bucket/prefix (credentials, region and MLFLOW_S3_ENDPOINT_URL from the AWS environment)."
    )
    var artifactsDestination: String?

    @Option(help: "Comma-separated host names the server answers to besides loopback ('*' for any).")
    var allowedHosts: String?

    @Option(
        help:
            "Directory of the inference log that `cairn serve --inference-log` writes and monitors read (default: <data-dir>/inference-log)."
    )
    var inferenceLogDir: String?

    @Option(
        help:
            "Ray head dashboard address (http://host:8265) that runs pipeline stages with `executor: ray` (default: $CAIRN_RAY_ADDRESS)."
    )
    var rayAddress: String?

    @Option(help: "File holding the Ray head's auth token (default: $RAY_AUTH_TOKEN, else the file $RAY_AUTH_TOKEN_PATH names).")
    var rayTokenFile: String?

    @Option(
        help:
            "Path prefix every route (UI, API, assets) is served under, behind a proxy: '/sub' (default: $MLFLOW_STATIC_PREFIX, as mlflow server)."
    )
    var staticPrefix: String?

    @Flag(
        help: """
            Require users and permissions, as `mlflow server --app-name basic-auth`: HTTP Basic or MLFLOW_TRACKING_TOKEN. \
            On a store with no admin, the admin is created from MLFLOW_AUTH_ADMIN_PASSWORD (or CAIRN_ADMIN_PASSWORD), \
            named MLFLOW_AUTH_ADMIN_USERNAME (default: admin).
            """)
    var auth = false

    @Option(
        help:
            "With --auth, what users may do with resources they hold no grant on: READ, USE, EDIT, MANAGE or NO_PERMISSIONS (default: READ)."
    )
    var authDefaultPermission: String?

    @Option(help: "With --auth, comma-separated aliases whose moves and deletions need MANAGE on the model (default: champion).")
    var protectedAliases: String?

    @Option(
        help: """
            Users and permissions from MLflow's basic-auth file (basic_auth.ini: default_permission, admin_username, \
            admin_password, and Cairn's protected_aliases); turns --auth on. With --auth alone, MLFLOW_AUTH_CONFIG_PATH \
            names it. Flags and MLFLOW_AUTH_ADMIN_* variables override the file.
            """)
    var authConfig: String?

    @Option(
        help: """
            With a PostgreSQL store (replicas behind a load balancer): seconds the leader's lease lasts. One replica, the \
            leader, runs monitor schedules, webhook deliveries, pipeline triggers and upload sweeps; another takes over \
            within about this long after it dies.
            """)
    var leaderLeaseSeconds: Double = 8

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    func validate() throws {
        try validateListenAddress(host: host, port: port)
        _ = try resolvedStaticPrefix()
        _ = try authSettings()
        guard leaderLeaseSeconds >= 1, leaderLeaseSeconds <= 3600 else {
            throw ValidationError("--leader-lease-seconds must be between 1 and 3600.")
        }
    }

    /// The `--auth` settings, nil without the flag (or `--auth-config`), and the settings of
    /// MLflow's file that mean nothing here. Levels are MLflow's names. Precedence: the flags,
    /// then the environment, then the file, then MLflow's defaults.
    func authSettings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (
        configuration: AuthConfiguration, ignoredFileSettings: [String]
    )? {
        guard auth || authConfig != nil else {
            // An operator who sets how permissions work but forgets --auth would otherwise get
            // a server open to everyone, believing it locked.
            if authDefaultPermission != nil || protectedAliases != nil {
                throw ValidationError("--auth-default-permission and --protected-aliases apply only with --auth: add --auth, or drop them.")
            }
            return nil
        }
        var file = AuthConfigFile()
        if let path = authConfig ?? environment["MLFLOW_AUTH_CONFIG_PATH"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("The auth configuration file \(path) cannot be read.")
            }
            do {
                file = try AuthConfigFile.parse(String(decoding: data, as: UTF8.self), path: path)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let permission: Permission
        if let authDefaultPermission {
            guard let level = Permission(rawValue: authDefaultPermission.uppercased()), level != .deny else {
                throw ValidationError("--auth-default-permission must be one of READ, USE, EDIT, MANAGE, NO_PERMISSIONS.")
            }
            permission = level
        } else {
            permission = file.defaultPermission ?? .read
        }
        let aliases =
            protectedAliases.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            ?? file.protectedAliases ?? ["champion"]
        let configuration = AuthConfiguration(
            defaultPermission: permission, protectedAliases: Set(aliases), admin: .fromEnvironment(environment, file: file))
        return (configuration, file.ignoredKeys)
    }

    /// The flag, else `MLFLOW_STATIC_PREFIX`, checked as `mlflow server` checks it.
    func resolvedStaticPrefix(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let value = staticPrefix ?? environment["MLFLOW_STATIC_PREFIX"], !value.isEmpty else { return "" }
        guard value.hasPrefix("/") else { throw ValidationError("--static-prefix must begin with a '/'.") }
        guard !value.hasSuffix("/") else { throw ValidationError("--static-prefix should not end with a '/'.") }
        // Route patterns read braces and colons; a prefix is plain path segments.
        let allowed = value.split(separator: "/", omittingEmptySubsequences: false).dropFirst().allSatisfy { segment in
            !segment.isEmpty && segment.allSatisfy { $0.isLetter || $0.isNumber || "-._~".contains($0) }
        }
        guard allowed else {
            throw ValidationError("--static-prefix must be path segments of letters, digits, '-', '.', '_' or '~' (e.g. /mlflow).")
        }
        return value
    }

    func run() async throws {
        AllocatorPolicy.apply()
        bootstrapLogging(logLevel)
        let logger = Logger(label: "cairn")
        let auth = try authSettings()
        let configuration = ServerConfiguration(
            host: host, port: port, dataDirectory: dataDir,
            backendStoreURI: backendStoreUri, artifactsDestination: artifactsDestination,
            allowedHosts: allowedHosts.map { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } } ?? [],
            inferenceLogDirectory: inferenceLogDir, ray: try rayConfiguration(), staticPrefix: try resolvedStaticPrefix(),
            auth: auth?.configuration, leaderLeaseSeconds: leaderLeaseSeconds
        )
        if let ignored = auth?.ignoredFileSettings, !ignored.isEmpty {
            logger.notice(
                "Settings of the auth configuration file that Cairn does not use (users live in the metadata database)",
                metadata: ["settings": "\(ignored.joined(separator: ", "))"])
        }
        let app = try await buildApplication(configuration, logger: logger)
        try await app.runService()
    }
}

extension ServerCommand {
    /// The Ray head from the flags or the environment, with its token read as Ray's clients
    /// read it; nil when no address is given.
    func rayConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RayJobsExecutor.Configuration? {
        guard let address = rayAddress ?? environment["CAIRN_RAY_ADDRESS"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            if rayTokenFile != nil { throw ValidationError("--ray-token-file needs --ray-address (or CAIRN_RAY_ADDRESS).") }
            return nil
        }
        var token: String?
        if let rayTokenFile {
            guard let data = FileManager.default.contents(atPath: rayTokenFile) else {
                throw ValidationError("--ray-token-file \(rayTokenFile) cannot be read.")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        do {
            return RayJobsExecutor.Configuration(
                address: address, token: try RayJobsExecutor.Configuration.resolveToken(token, environment: environment))
        } catch let error as StageExecutionError {
            throw ValidationError(error.reason)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Only `main` bootstraps logging: to standard error, at the level asked for.
func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// A port outside 0…65535 is a usage error, reported before anything starts.
func validateListenAddress(host: String, port: Int) throws {
    do {
        _ = try ListenAddress(host: host, port: port)
    } catch {
        throw ValidationError(error.message)
    }
}
