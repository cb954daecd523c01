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

    /// Credentials in the URI's user information (`http://user:pw@host`) are taken out of it and
    /// sent as Basic auth, winning over `credentials`, as `requests` does under MLflow (it
    /// replaces the header MLflow sets with the URL's); the URI kept never holds them.
    public init(
        trackingURI: String?, credentials: Credentials? = nil, insecureTLS: Bool = false, retry: RetryPolicy = RetryPolicy(),
        timeout: Duration = .seconds(120), transferTimeout: Duration = .seconds(3600)
    ) {
        let split = trackingURI.flatMap { $0.isEmpty ? nil : $0 }.map(Self.splittingUserInfo)
        self.trackingURI = split.map { split in
            var uri = Substring(split.uri)
            while uri.hasSuffix("/") { uri = uri.dropLast() }
            return String(uri)
        }
        self.credentials = split?.credentials ?? credentials
        self.insecureTLS = insecureTLS
        self.retry = retry
        self.timeout = timeout
        self.transferTimeout = transferTimeout
    }

    /// `scheme://user:pw@host…` → the URI without `user:pw@` and, when a password is there,
    /// the percent-decoded pair (`requests`' `get_auth_from_url`: a user without a password
    /// sends nothing). Any scheme, so a database URI's password never reaches a message either.
    static func splittingUserInfo(_ uri: String) -> (uri: String, credentials: Credentials?) {
        guard let marker = uri.range(of: "://") else { return (uri, nil) }
        let rest = uri[marker.upperBound...]
        let authority = rest[..<(rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex)]
        guard let at = authority.lastIndex(of: "@") else { return (uri, nil) }
        let userInfo = authority[..<at]
        let stripped = String(uri[..<marker.upperBound]) + String(uri[authority.index(after: at)...])
        guard let colon = userInfo.firstIndex(of: ":") else { return (stripped, nil) }
        func decoded(_ text: Substring) -> String { String(text).removingPercentEncoding ?? String(text) }
        return (stripped, .basic(username: decoded(userInfo[..<colon]), password: decoded(userInfo[userInfo.index(after: colon)...])))
    }

    /// The URI as it may be printed: any user information replaced by `***`.
    public static func redacted(_ uri: String) -> String {
        let split = splittingUserInfo(uri)
        guard split.uri != uri, let marker = split.uri.range(of: "://") else { return uri }
        return String(split.uri[..<marker.upperBound]) + "***@" + String(split.uri[marker.upperBound...])
    }

    /// The configuration the environment gives, with `trackingURI` (a `--tracking-uri` flag)
    /// taking precedence over `MLFLOW_TRACKING_URI`. As in MLflow, a user name and password
    /// (both set) win over a token, and an empty value is no value.
    public static func fromEnvironment(
        trackingURI flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CairnError) -> ClientConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        // A CR or LF in a header value would be refused by the HTTP client on every call
        // with an error that names neither the variable nor what is wrong.
        for name in ["MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"] {
            if let text = value(name), !Self.isHeaderSafe(text) {
                throw CairnError.invalidParameter("\(name) holds a control character (a line break?): it cannot be sent in an HTTP header.")
            }
        }
        let credentials: Credentials? =
            if let username = value("MLFLOW_TRACKING_USERNAME"), let password = value("MLFLOW_TRACKING_PASSWORD") {
                .basic(username: username, password: password)
            } else if let token = value("MLFLOW_TRACKING_TOKEN") {
                .bearer(token)
            } else {
                nil
            }
        let configuration = ClientConfiguration(
            trackingURI: flag.flatMap { $0.isEmpty ? nil : $0 } ?? value("MLFLOW_TRACKING_URI"),
            credentials: credentials,
            insecureTLS: try Self.boolean("MLFLOW_TRACKING_INSECURE_TLS", environment) ?? false,
            retry: try RetryPolicy(environment: environment),
            timeout: .seconds(try Self.integer("MLFLOW_HTTP_REQUEST_TIMEOUT", environment, in: 1...86_400) ?? 120)
        )
        if case .basic(let username, let password)? = configuration.credentials, !Self.isHeaderSafe(username + password) {
            throw CairnError.invalidParameter(
                "The tracking URI's user name or password holds a control character (a line break?): it cannot be sent in an HTTP header.")
        }
        return configuration
    }

    /// Whether `text` can be an HTTP header value: no control character but tab.
    static func isHeaderSafe(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
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

    /// MLflow's whole-number variables. Set but empty is refused, as MLflow's `int("")` is
    /// (and as an empty boolean is): only an unset variable takes the default.
    static func integer(_ name: String, _ environment: [String: String], in range: ClosedRange<Int>) throws(CairnError) -> Int? {
        guard let text = environment[name] else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw CairnError.invalidParameter(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'.")
        }
        return number
    }
}
