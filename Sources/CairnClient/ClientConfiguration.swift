import CairnCore
import Foundation

/// How `CairnClient` reaches a tracking server, read from the variables the `mlflow` Python
/// client reads (`mlflow/utils/credentials.py`, `mlflow/environment_variables.py`), so one
/// environment configures both.
public struct ClientConfiguration: Sendable, Equatable {
    /// `http(s)://host:port[/prefix]` without a trailing slash; nil when neither the flag nor
    /// `MLFLOW_TRACKING_URI` gives one (a local model directory needs no server).
    public var trackingURI: String?
    public var credentials: Credentials?
    /// `MLFLOW_TRACKING_INSECURE_TLS`: accept any certificate (a self-signed test server).
    public var insecureTLS: Bool
    public var retry: RetryPolicy
    /// `MLFLOW_HTTP_REQUEST_TIMEOUT`: the longest one JSON call may take. Downloads and
    /// exports stream for as long as data keeps coming (`transferTimeout`).
    public var timeout: Duration
    public var transferTimeout: Duration

    /// Printed without the secret, so a logged configuration never leaks it.
    public enum Credentials: Sendable, Equatable, CustomStringConvertible {
        /// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`, both non-empty.
        case basic(username: String, password: String)
        /// `MLFLOW_TRACKING_TOKEN`.
        case bearer(String)

        public var description: String {
            switch self {
            case .basic(let username, _): "basic(username: \(username), password: <redacted>)"
            case .bearer: "bearer(<redacted>)"
            }
        }

        /// The `Authorization` header MLflow's `http_request` sends.
        public var authorization: String {
            switch self {
            case .basic(let username, let password): "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
            case .bearer(let token): "Bearer \(token)"
            }
        }
    }

    public init(
        trackingURI: String?, credentials: Credentials? = nil, insecureTLS: Bool = false, retry: RetryPolicy = RetryPolicy(),
        timeout: Duration = .seconds(120), transferTimeout: Duration = .seconds(3600)
    ) {
        self.trackingURI = trackingURI.flatMap { $0.isEmpty ? nil : $0 }.map { uri in
            var uri = Substring(uri)
            while uri.hasSuffix("/") { uri = uri.dropLast() }
            return String(uri)
        }
        self.credentials = credentials
        self.insecureTLS = insecureTLS
        self.retry = retry
        self.timeout = timeout
        self.transferTimeout = transferTimeout
    }

    /// The configuration the environment gives, with `trackingURI` (a `--tracking-uri` flag)
    /// taking precedence over `MLFLOW_TRACKING_URI`. As in MLflow, a user name and password
    /// (both set) win over a token, and an empty value is no value.
    public static func fromEnvironment(
        trackingURI flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CairnError) -> ClientConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let credentials: Credentials? =
            if let username = value("MLFLOW_TRACKING_USERNAME"), let password = value("MLFLOW_TRACKING_PASSWORD") {
                .basic(username: username, password: password)
            } else if let token = value("MLFLOW_TRACKING_TOKEN") {
                .bearer(token)
            } else {
                nil
            }
        return ClientConfiguration(
            trackingURI: flag.flatMap { $0.isEmpty ? nil : $0 } ?? value("MLFLOW_TRACKING_URI"),
            credentials: credentials,
            insecureTLS: try Self.boolean("MLFLOW_TRACKING_INSECURE_TLS", environment) ?? false,
            retry: try RetryPolicy(environment: environment),
            timeout: .seconds(try Self.integer("MLFLOW_HTTP_REQUEST_TIMEOUT", environment, in: 1...86_400) ?? 120)
        )
    }

    /// MLflow's boolean variables: true, false, 1 or 0 in any case; anything else is refused.
    static func boolean(_ name: String, _ environment: [String: String]) throws(CairnError) -> Bool? {
        guard let text = environment[name] else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw CairnError.invalidParameter("\(name) must be one of true, false, 1 or 0 (any case), not '\(text)'.")
        }
    }

    static func integer(_ name: String, _ environment: [String: String], in range: ClosedRange<Int>) throws(CairnError) -> Int? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw CairnError.invalidParameter("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'.")
        }
        return number
    }
}
