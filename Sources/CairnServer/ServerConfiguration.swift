import CairnAuth
import CairnCore
import CairnPipelines
import CairnStore

/// Everything `cairn server` can be told on its command line.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Holds `cairn.db` and `artifacts/` unless the two locations below say otherwise.
    public var dataDirectory: String
    /// `sqlite:///path/to/file.db` or `postgresql://user:pass@host:port/db`; nil means the
    /// SQLite file in the data directory.
    public var backendStoreURI: String?
    /// Root for proxied artifacts: a directory, or `s3://bucket/prefix`; nil means
    /// `<data dir>/artifacts`.
    public var artifactsDestination: String?
    /// Extra host names the server answers to (`*` for any), as MLflow's `--allowed-hosts`.
    public var allowedHosts: [String]
    /// Where `cairn serve --inference-log` writes the log that monitors read; nil means
    /// `<data dir>/inference-log`.
    public var inferenceLogDirectory: String?
    /// The Ray head that runs `executor: ray` stages; nil leaves pipelines on the local executor.
    public var ray: RayJobsExecutor.Configuration?
    /// The path every route is served under (`/sub` behind a proxy), as MLflow's
    /// `--static-prefix`; `""` for the root.
    public var staticPrefix: String
    /// Users and permissions (`--auth`); nil serves everyone, as `mlflow server` without an app.
    public var auth: AuthConfiguration?
    /// With PostgreSQL (replicas on one database): how long the leader's lease lasts
    /// (`--leader-lease-seconds`); a dead leader is replaced within about this long.
    public var leaderLeaseSeconds: Double

    public init(
        host: String = "127.0.0.1", port: Int = 5000, dataDirectory: String = "./cairn-data",
        backendStoreURI: String? = nil, artifactsDestination: String? = nil, allowedHosts: [String] = [],
        inferenceLogDirectory: String? = nil, ray: RayJobsExecutor.Configuration? = nil, staticPrefix: String = "",
        auth: AuthConfiguration? = nil, leaderLeaseSeconds: Double = 8
    ) {
        self.leaderLeaseSeconds = leaderLeaseSeconds
        self.auth = auth
        self.staticPrefix = staticPrefix
        self.inferenceLogDirectory = inferenceLogDirectory
        self.ray = ray
        self.allowedHosts = allowedHosts
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.backendStoreURI = backendStoreURI
        self.artifactsDestination = artifactsDestination
    }

    public var resolvedArtifactsDestination: String {
        artifactsDestination ?? dataDirectory + "/artifacts"
    }

    /// Where the server reaches itself (the evaluation gate downloads models through its own
    /// API): a wildcard bind is reached on loopback, an IPv6 literal in brackets.
    public var selfURI: String {
        let reachable =
            switch host {
            case "0.0.0.0", "": "127.0.0.1"
            case "::", "[::]": "[::1]"
            default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            }
        return "http://\(reachable):\(port)\(staticPrefix)"
    }

    /// The election's timing for `leaderLeaseSeconds`: renewed four times per lease, work
    /// stopped an eighth of a lease before its end.
    public var leaderTiming: LeaderElection.Timing {
        let lease = Duration.milliseconds(Int64(leaderLeaseSeconds * 1000))
        return LeaderElection.Timing(leaseDuration: lease, renewInterval: lease / 4, stopMargin: lease / 8)
    }

    public var resolvedInferenceLogDirectory: String {
        inferenceLogDirectory ?? dataDirectory + "/inference-log"
    }
}

/// `cairn server --auth`: how users are checked and what they may do without a grant.
public struct AuthConfiguration: Sendable {
    /// What a user may do with a resource they hold no grant on (`--auth-default-permission`).
    public var defaultPermission: Permission
    /// Aliases whose moves and deletions need MANAGE (`--protected-aliases`).
    public var protectedAliases: Set<String>
    /// The first admin, from the environment.
    public var admin: AdminBootstrap.Settings
    /// bcrypt's cost for new passwords.
    public var bcryptCost: UInt8

    public init(
        defaultPermission: Permission = .read, protectedAliases: Set<String> = ["champion"], admin: AdminBootstrap.Settings,
        bcryptCost: UInt8 = 12
    ) {
        self.defaultPermission = defaultPermission
        self.protectedAliases = protectedAliases
        self.admin = admin
        self.bcryptCost = bcryptCost
    }
}
