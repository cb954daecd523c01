import CairnArtifacts
import CairnCore
import Foundation

/// Where an S3 artifact destination is and how to reach it: the bucket and key prefix from
/// `s3://bucket/prefix`, the endpoint, addressing style, region and credentials from the
/// standard AWS variables and shared files, as boto3 (and so MLflow) resolves them.
public struct S3Configuration: Sendable {
    /// How the bucket appears in a URL.
    public enum Addressing: String, Sendable {
        /// `https://endpoint/bucket/key`: S3-compatible stores (MinIO, moto, Ceph).
        case path
        /// `https://bucket.endpoint/key`: AWS's own.
        case virtualHosted = "virtual"
    }

    /// An endpoint's scheme, host and port, e.g. `http://127.0.0.1:9000`.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var secure: Bool
        public var host: String
        public var port: Int?

        public init(secure: Bool, host: String, port: Int? = nil) {
            self.secure = secure
            self.host = host
            self.port = port
        }

        /// Parses `http(s)://host[:port][/]`.
        public init(url: String) throws(CairnError) {
            let refused = CairnError.invalidParameter(
                "The S3 endpoint URL '\(url)' is not http(s)://host[:port] (MLFLOW_S3_ENDPOINT_URL or AWS_ENDPOINT_URL)")
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
                components.path.isEmpty || components.path == "/", components.query == nil, components.user == nil
            else { throw refused }
            if let port = components.port, !(1...65_535).contains(port) { throw refused }
            self.init(secure: scheme == "https", host: host, port: components.port)
        }

        /// `host` or `host:port` when the port is not the scheme's default: the `Host` header.
        public var authority: String {
            let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            guard let port, port != (secure ? 443 : 80) else { return shownHost }
            return "\(shownHost):\(port)"
        }

        public var description: String { "\(secure ? "https" : "http")://\(authority)" }
    }

    public var bucket: String
    /// Key prefix without leading or trailing `/`; `""` for the bucket's root.
    public var prefix: String
    public var endpoint: Endpoint
    public var addressing: Addressing
    public var region: String
    public var credentials: AWSCredentials
    /// Bytes per multipart part, and the most an upload buffers at once (twice this while
    /// one part is sent and the next is gathered). Bodies up to this size are one PutObject.
    public var partSize: Int
    /// Lifetime in seconds of the part URLs handed to clients (boto3's default, an hour).
    public var presignedURLLifetime: Int
    /// Bound on a request without a large body (list, head, delete, complete).
    public var requestTimeout: Duration
    /// Bound on the silence between two reads of a transfer (no byte for this long fails it).
    public var idleTimeout: Duration

    public init(
        bucket: String, prefix: String = "", endpoint: Endpoint, addressing: Addressing = .path, region: String = "us-east-1",
        credentials: AWSCredentials, partSize: Int = 8 << 20, presignedURLLifetime: Int = 3600, requestTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60)
    ) {
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.endpoint = endpoint
        self.addressing = addressing
        self.region = region
        self.credentials = credentials
        // S3 refuses parts under 5 MiB (but the last).
        self.partSize = max(partSize, 5 << 20)
        self.presignedURLLifetime = presignedURLLifetime
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }

    /// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
    public static func parse(uri: String) throws(CairnError) -> (bucket: String, prefix: String) {
        guard uri.hasPrefix("s3://") else { throw CairnError.invalidParameter("'\(uri)' is not an s3://bucket/prefix URI") }
        let rest = uri.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        // S3's bucket naming rules: 3-63 of lower-case letters, digits, `.` and `-`.
        guard (3...63).contains(bucket.utf8.count),
            bucket.utf8.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
            })
        else {
            throw CairnError.invalidParameter(
                "'\(uri)' does not name a valid S3 bucket (3 to 63 lower-case letters, digits, '.' and '-')")
        }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        // The prefix is joined with artifact paths into keys, so it obeys their rules.
        guard (try? ArtifactPath(prefix))?.description == prefix else {
            throw CairnError.invalidParameter("'\(uri)' has a key prefix that is not a valid artifact path")
        }
        return (bucket, prefix)
    }

    /// The configuration for `uri` from the environment and the shared files, as boto3 reads
    /// them: credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
    /// else the profile (`AWS_PROFILE`, default `default`) in `AWS_SHARED_CREDENTIALS_FILE`
    /// (`~/.aws/credentials`) and then `AWS_CONFIG_FILE` (`~/.aws/config`); the region from
    /// `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's `region`; the endpoint from
    /// `MLFLOW_S3_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` or the profile's
    /// `endpoint_url`, else AWS's regional endpoint. Addressing is path-style with an endpoint
    /// URL and virtual-hosted on AWS, unless the profile's `s3.addressing_style` says otherwise.
    /// - Parameter readFile: the contents of a file, `nil` when it cannot be read. Blocking;
    ///   this runs once at start-up.
    public static func resolve(uri: String, environment: [String: String], readFile: (String) -> String?) throws(CairnError)
        -> S3Configuration
    {
        let (bucket, prefix) = try parse(uri: uri)
        func variable(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let home = variable("HOME") ?? "~"
        let profile = variable("AWS_PROFILE") ?? variable("AWS_DEFAULT_PROFILE") ?? "default"
        let credentialsPath = variable("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
        let configPath = variable("AWS_CONFIG_FILE") ?? home + "/.aws/config"
        let credentialsFile = readFile(credentialsPath).map(AWSSharedConfig.init(parsing:)) ?? AWSSharedConfig()
        let configFile = readFile(configPath).map(AWSSharedConfig.init(parsing:)) ?? AWSSharedConfig()
        let fromCredentials = credentialsFile.credentialsProfile(profile) ?? [:]
        let fromConfig = configFile.configProfile(profile) ?? [:]
        let explicitProfile = variable("AWS_PROFILE") != nil || variable("AWS_DEFAULT_PROFILE") != nil
        if explicitProfile, credentialsFile.credentialsProfile(profile) == nil, configFile.configProfile(profile) == nil {
            throw CairnError.invalidParameter(
                "The AWS profile '\(profile)' (AWS_PROFILE) is in neither \(credentialsPath) nor \(configPath)")
        }

        let credentials: AWSCredentials
        if let key = variable("AWS_ACCESS_KEY_ID"), let secret = variable("AWS_SECRET_ACCESS_KEY") {
            credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN"))
        } else if let found = Self.credentials(in: fromCredentials) ?? Self.credentials(in: fromConfig) {
            credentials = found
        } else {
            throw CairnError.invalidParameter(
                "No AWS credentials for \(uri): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in "
                    + "\(credentialsPath) or \(configPath)")
        }

        let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") ?? fromConfig["region"] ?? "us-east-1"
        let endpointURL =
            variable("MLFLOW_S3_ENDPOINT_URL") ?? variable("AWS_ENDPOINT_URL_S3") ?? variable("AWS_ENDPOINT_URL")
            ?? fromConfig["s3.endpoint_url"] ?? fromConfig["endpoint_url"]
        var endpoint: Endpoint?
        if let endpointURL { endpoint = try Endpoint(url: endpointURL) }
        var addressing: Addressing = endpoint == nil ? .virtualHosted : .path
        if let style = fromConfig["s3.addressing_style"]?.lowercased() {
            switch style {
            case "path": addressing = .path
            case "virtual": addressing = .virtualHosted
            case "auto": break
            default:
                throw CairnError.invalidParameter("s3.addressing_style '\(style)' in \(configPath) is not path, virtual or auto")
            }
        }
        // A bucket name with dots cannot be a host name under AWS's certificate.
        if addressing == .virtualHosted, endpoint == nil, bucket.contains(".") { addressing = .path }
        return S3Configuration(
            bucket: bucket, prefix: prefix,
            endpoint: endpoint ?? Endpoint(secure: true, host: "s3.\(region).amazonaws.com"),
            addressing: addressing, region: region, credentials: credentials)
    }

    private static func credentials(in keys: [String: String]) -> AWSCredentials? {
        guard let key = keys["aws_access_key_id"], !key.isEmpty, let secret = keys["aws_secret_access_key"], !secret.isEmpty else {
            return nil
        }
        let token = keys["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }

    /// The bucket's host (`Host` header) and the path of `key` under it, URI-encoded, for a
    /// request; `key` `nil` addresses the bucket itself.
    func location(of key: String?) -> (authority: String, path: String) {
        let encodedKey = key.map { SigV4Signer.uriEncode($0, keepSlash: true) }
        switch addressing {
        case .path:
            return (endpoint.authority, "/\(bucket)" + (encodedKey.map { "/" + $0 } ?? ""))
        case .virtualHosted:
            var host = endpoint
            host.host = "\(bucket).\(endpoint.host)"
            return (host.authority, "/" + (encodedKey ?? ""))
        }
    }

    /// `scheme://authority`.
    func origin(_ authority: String) -> String {
        "\(endpoint.secure ? "https" : "http")://\(authority)"
    }

    /// `s3://bucket/prefix`, for messages.
    public var uri: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}
