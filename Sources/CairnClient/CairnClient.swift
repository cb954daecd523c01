import AsyncHTTPClient
import CairnCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One client of a tracking server's REST API, Cairn's or MLflow's: the registry and run
/// calls that resolve `models:/` and `runs:/` URIs, the proxied artifact store, and Cairn's
/// own monitoring API. Configured from MLflow's variables (`ClientConfiguration`); sends
/// MLflow's `Authorization` header; decodes MLflow's error body into `APIError`; retries what
/// `RetryPolicy` allows.
public struct CairnClient: Sendable {
    public let configuration: ClientConfiguration
    /// `configuration.trackingURI`, known to be http(s).
    public let trackingURI: String
    /// Checks the server accepts connections before a command's first call (`checkReachable`).
    public var probe = TrackingServerProbe()
    let http: HTTPClient
    let logger: Logger

    public init(_ configuration: ClientConfiguration, logger: Logger = Logger(label: "cairn"), httpClient: HTTPClient? = nil)
        throws(CairnError)
    {
        guard let trackingURI = configuration.trackingURI else {
            throw CairnError(
                .invalidParameterValue, "A tracking server is needed: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
        }
        try Self.checkTrackingURI(trackingURI)
        if let credentials = configuration.credentials {
            let text =
                switch credentials {
                case .basic(let username, let password): username + password
                case .bearer(let token): token
                }
            guard ClientConfiguration.isHeaderSafe(text) else {
                throw CairnError.invalidParameter(
                    "The tracking server's credentials hold a control character (a line break?): they cannot be sent in an HTTP header.")
            }
        }
        self.configuration = configuration
        self.trackingURI = trackingURI
        self.http = httpClient ?? (configuration.insecureTLS ? Self.insecureHTTPClient : Self.verifyingHTTPClient)
        self.logger = logger
    }

    /// AsyncHTTPClient's shared configuration, without certificate checks when `insecureTLS`,
    /// and without its own retries of failed connection attempts: those would wait out the
    /// connect timeout in silence, where `RetryPolicy` retries only reads, with backoff and a
    /// log line each, and fails a TLS error at once.
    public static func httpConfiguration(insecureTLS: Bool) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(30)
        // The only limit on an answer is the call's own (MLFLOW_HTTP_REQUEST_TIMEOUT, or the
        // transfer timeout): a shorter read timeout here would cut it short, unnamed.
        configuration.timeout.read = nil
        if insecureTLS {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            configuration.tlsConfiguration = tls
        }
        return configuration
    }

    /// Whether this client's connections skip certificate verification.
    public var skipsCertificateVerification: Bool { http === Self.insecureHTTPClient }

    /// Like `HTTPClient.shared`, never shut down: they live as long as the process.
    static let verifyingHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration(insecureTLS: false))
    static let insecureHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration(insecureTLS: true))

    /// Refuses a tracking URI that is set but cannot be a tracking server's, saying what is
    /// wrong with it (a missing scheme, a database, Databricks, a bad port).
    static func checkTrackingURI(_ uri: String) throws(CairnError) {
        let shown = "The tracking URI '\(ClientConfiguration.redacted(uri))'"
        let lowered = uri.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            let scheme =
                lowered.range(of: "://").map { String(lowered[..<$0.lowerBound]) } ?? lowered.split(separator: ":").first.map(String.init)
                ?? ""
            let why: String
            if lowered == "databricks" || scheme.hasPrefix("databricks") {
                why = "names Databricks; cairn talks to a cairn or MLflow tracking server at http(s)://host:port"
            } else if ["sqlite", "file", "mysql", "postgresql", "postgres", "mssql"].contains(where: {
                scheme == $0 || scheme.hasPrefix($0 + "+")
            }) || lowered.hasPrefix("/") {
                why =
                    "is a store, not a server: run `cairn server --backend-store-uri <it>` (or mlflow server) and pass its http(s)://host:port"
            } else if uri.range(of: #"^[A-Za-z0-9.\-]+:[0-9]+$"#, options: .regularExpression) != nil {
                why = "has no scheme: use http://\(uri)"
            } else {
                why = "is not an http(s) URL: pass the tracking server as http(s)://host:port"
            }
            throw CairnError.invalidParameter("\(shown) \(why) (--tracking-uri or MLFLOW_TRACKING_URI).")
        }
        guard let components = URLComponents(string: uri), let host = components.host, !host.isEmpty else {
            throw CairnError.invalidParameter(
                "\(shown) is not a valid URL with a host: pass http(s)://host:port (--tracking-uri or MLFLOW_TRACKING_URI).")
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw CairnError.invalidParameter("\(shown) has port \(port): a port is from 1 to 65535.")
        }
    }

    /// Waits (briefly, logging each retry) for the server to accept connections, else throws
    /// naming its URL: without this a server that is down holds a command for a request's
    /// whole timeout.
    public func checkReachable() async throws {
        try await probe.waitUntilReachable(trackingURI, logger: logger)
    }

    // MARK: - Calls

    /// A GET whose answer is JSON.
    public func get(_ path: String, _ query: [String: String] = [:]) async throws -> JSONValue {
        try await json(.GET, path, query, body: nil, contentType: nil, idempotent: true)
    }

    /// A POST of a JSON body whose answer is JSON; `idempotent` for reads sent as POST
    /// (searches, get-latest-versions), which may then be retried.
    public func post(_ path: String, _ query: [String: String] = [:], json body: JSONValue, idempotent: Bool) async throws -> JSONValue {
        var writer = JSONWriter()
        writer.value(body)
        return try await json(.POST, path, query, body: writer.bytes, contentType: "application/json", idempotent: idempotent)
    }

    /// A POST of any body whose answer is JSON; never retried.
    public func post(_ path: String, _ query: [String: String] = [:], body: [UInt8], contentType: String) async throws -> JSONValue {
        try await json(.POST, path, query, body: body, contentType: contentType, idempotent: false)
    }

    /// What a download must be, checked on the answer's head before its body is read: a
    /// proxy or single sign-on page in front of the server answers 200 with HTML (or any
    /// JSON), which must not pass for an export or report.
    public struct Expected: Sendable {
        /// The media types accepted (`Content-Type` without its parameters, any case).
        public var mediaTypes: Set<String>
        /// What was asked for, in a few words ("the inference log as CSV").
        public var what: String

        public init(_ mediaTypes: Set<String>, _ what: String) {
            self.mediaTypes = Set(mediaTypes.map { $0.lowercased() })
            self.what = what
        }
    }

    /// The whole body of a GET, up to `limit` bytes.
    public func bytes(_ path: String, _ query: [String: String] = [:], limit: Int = 1 << 30, expecting expected: Expected? = nil)
        async throws -> [UInt8]
    {
        let url = url(path, query)
        let response = try await send(.GET, url, body: nil, contentType: nil, idempotent: true, timeout: configuration.transferTimeout)
        try Self.check(response, url: url, expected)
        do {
            return Array(try await response.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw Self.userFacing(error, url: url, timeout: configuration.transferTimeout)
        }
    }

    /// The body of a GET handed to `consume` chunk by chunk as it arrives, in constant memory
    /// (an export written to a file or standard output).
    public func stream(
        _ path: String, _ query: [String: String] = [:], expecting expected: Expected? = nil,
        into consume: (ByteBuffer) async throws -> Void
    ) async throws {
        let url = url(path, query)
        let response = try await send(.GET, url, body: nil, contentType: nil, idempotent: true, timeout: configuration.transferTimeout)
        try Self.check(response, url: url, expected)
        var iterator = response.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                throw Self.userFacing(error, url: url, timeout: configuration.transferTimeout)
            }
            guard let chunk else { return }
            try await consume(chunk)
        }
    }

    /// Throws naming the URL when the answer's content type is not what `expected` says.
    static func check(_ response: HTTPClientResponse, url: String, _ expected: Expected?) throws(CairnError) {
        guard let expected else { return }
        let given = response.headers.first(name: "Content-Type") ?? ""
        let mediaType = given.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard expected.mediaTypes.contains(mediaType) else {
            let sent = given.isEmpty ? "no content type" : "'\(given)'"
            throw CairnError(
                .internalError,
                "Tracking server answered \(url) with \(sent), not \(expected.what): is the tracking URI a cairn server (and not a login page or proxy in front of it)?"
            )
        }
    }

    func json(_ method: HTTPMethod, _ path: String, _ query: [String: String], body: [UInt8]?, contentType: String?, idempotent: Bool)
        async throws -> JSONValue
    {
        let url = url(path, query)
        let response = try await send(
            method, url, body: body, contentType: contentType, idempotent: idempotent, timeout: configuration.timeout)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw Self.userFacing(error, url: url, timeout: configuration.timeout)
        }
        guard let document = try? JSONValue.parse(bytes.readableBytesView) else {
            throw CairnError(.internalError, "Tracking server sent a body that is not JSON for \(url).")
        }
        return document
    }

    /// `trackingURI/path?query`, each query value percent-encoded, in a stable order.
    public func url(_ path: String, _ query: [String: String] = [:]) -> String {
        var url = trackingURI + "/" + path
        if !query.isEmpty {
            url += "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.encode($0.value))" }.joined(separator: "&")
        }
        return url
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a
    /// query value).
    public static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    // MARK: - Sending

    /// Sends the request with the configured credentials and returns a 2xx answer, its body
    /// unread; any other answer is thrown as an `APIError`. Idempotent calls are retried as
    /// `RetryPolicy` says, each retry logged.
    func send(_ method: HTTPMethod, _ url: String, body: [UInt8]?, contentType: String?, idempotent: Bool, timeout: Duration) async throws
        -> HTTPClientResponse
    {
        // MLFLOW_HTTP_REQUEST_TIMEOUT bounds the wait for an answer even to a long transfer
        // (an export or report), whose body may then take up to `timeout`.
        let headTimeout = min(timeout, configuration.timeout)
        let policy = idempotent ? configuration.retry : .none
        var retry = 0
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: "cairn/\(CairnVersion.current)")
            if let credentials = configuration.credentials {
                request.headers.add(name: "Authorization", value: credentials.authorization)
            }
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }

            let reason: String
            var retryAfter: Int?
            do {
                let response = try await execute(request, timeout: timeout, headTimeout: headTimeout)
                let status = Int(response.status.code)
                if status < 300 { return response }
                let errorBody = try await response.body.collect(upTo: 1 << 20)
                guard RetryPolicy.retryableStatuses.contains(status), retry < policy.maxRetries else {
                    throw APIError(status: status, body: errorBody.readableBytesView, url: url)
                }
                reason = "it answered \(status)"
                retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            } catch let error where retry < policy.maxRetries && Self.isConnectionFailure(error) {
                reason = Self.failure(error, timeout: headTimeout) ?? "\(error)"
            } catch {
                throw Self.userFacing(error, url: url, timeout: headTimeout)
            }
            retry += 1
            // urllib3's backoff: the first retry follows at once, later ones wait.
            let delay = policy.delay(beforeRetry: retry, retryAfter: retryAfter)
            let when = delay == .zero ? "now" : "in \(Self.seconds(delay)) s"
            logger.warning("Retrying \(method) \(url) (\(reason)) \(when): retry \(retry) of \(policy.maxRetries)")
            try await Task.sleep(for: delay)
        }
    }

    /// The answer's head within `headTimeout`, the whole exchange within `timeout`.
    func execute(_ request: HTTPClientRequest, timeout: Duration, headTimeout: Duration) async throws -> HTTPClientResponse {
        guard headTimeout < timeout else { return try await http.execute(request, timeout: TimeAmount(timeout)) }
        let http = http
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await http.execute(request, timeout: TimeAmount(timeout)) }
            group.addTask {
                try await Task.sleep(for: headTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else { throw HTTPClientError.deadlineExceeded }
            return response
        }
    }

    /// A transport failure as one line naming the URL and what happened, for users: the HTTP
    /// and TLS libraries' own errors name neither. Errors that already say it pass unchanged.
    static func userFacing(_ error: any Error, url: String, timeout: Duration) -> any Error {
        guard let what = failure(error, timeout: timeout) else { return error }
        return CairnError(.temporarilyUnavailable, "\(url): \(what).")
    }

    /// What went wrong in a few words ("timed out after 3 s"), nil for errors that are not
    /// the transport's.
    static func failure(_ error: any Error, timeout: Duration) -> String? {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout: return "timed out after \(seconds(timeout)) s"
            case .connectTimeout: return "no connection within the connect timeout"
            case .remoteConnectionClosed: return "the server closed the connection without an answer"
            default:
                // Its description would print the header's value: a credential.
                if "\(error)".contains("invalidHeaderField") { return "a header cannot be sent (a line break in a credential?)" }
                return "\(error)"
            }
        case let error as NIOSSLError:
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate") {
                return
                    "TLS handshake failed: the server's certificate is not trusted (MLFLOW_TRACKING_INSECURE_TLS=true accepts a self-signed test server)"
            }
            return "TLS handshake failed: is the server https?"
        case is BoringSSLError, is NIOSSLExtraError:
            return "TLS handshake failed: is the server https?"
        case is NIOConnectionError, is IOError:
            return "cannot connect (\(TrackingServerProbe.reason(error, timeout: .seconds(30))))"
        case ChannelError.connectTimeout:
            return "cannot connect (no answer within 30 s)"
        case is HTTPParserError:
            return "the answer is not HTTP: is the server https, not http?"
        default:
            return nil
        }
    }

    /// A duration in seconds as people write it: "3", "0.5".
    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        if attoseconds == 0 { return String(whole) }
        return String(format: "%g", Double(whole) + Double(attoseconds) / 1e18)
    }

    /// Failures where the server never answered, so asking again is safe for a read: the
    /// connection could not be made, or closed before an answer.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            return [HTTPClientError.remoteConnectionClosed, .connectTimeout, .readTimeout, .deadlineExceeded].contains(error)
        case is NIOConnectionError:
            return true
        case let error as IOError:
            return [ECONNREFUSED, ECONNRESET, EPIPE].contains(error.errnoCode)
        case let error as ChannelError:
            switch error {
            case .connectTimeout, .ioOnClosedChannel, .eof: return true
            default: return false
            }
        default:
            return false
        }
    }
}
