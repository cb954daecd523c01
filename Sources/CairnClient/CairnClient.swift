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

    public init(_ configuration: ClientConfiguration, logger: Logger = Logger(label: "cairn"), httpClient: HTTPClient? = nil) throws(CairnError) {
        guard let trackingURI = configuration.trackingURI, trackingURI.hasPrefix("http://") || trackingURI.hasPrefix("https://") else {
            throw CairnError(.invalidParameterValue, "A tracking server is needed: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
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

    /// The whole body of a GET, up to `limit` bytes.
    public func bytes(_ path: String, _ query: [String: String] = [:], limit: Int = 1 << 30) async throws -> [UInt8] {
        let response = try await send(.GET, url(path, query), body: nil, contentType: nil, idempotent: true, timeout: configuration.transferTimeout)
        return Array(try await response.body.collect(upTo: limit).readableBytesView)
    }

    /// The body of a GET handed to `consume` chunk by chunk as it arrives, in constant memory
    /// (an export written to a file or standard output).
    public func stream(_ path: String, _ query: [String: String] = [:], into consume: (ByteBuffer) async throws -> Void) async throws {
        let response = try await send(.GET, url(path, query), body: nil, contentType: nil, idempotent: true, timeout: configuration.transferTimeout)
        for try await chunk in response.body {
            try await consume(chunk)
        }
    }

    func json(_ method: HTTPMethod, _ path: String, _ query: [String: String], body: [UInt8]?, contentType: String?, idempotent: Bool) async throws -> JSONValue {
        let url = url(path, query)
        let response = try await send(method, url, body: body, contentType: contentType, idempotent: idempotent, timeout: configuration.timeout)
        let bytes = try await response.body.collect(upTo: 256 << 20)
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
    func send(_ method: HTTPMethod, _ url: String, body: [UInt8]?, contentType: String?, idempotent: Bool, timeout: Duration) async throws -> HTTPClientResponse {
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
                let response = try await http.execute(request, timeout: TimeAmount(timeout))
                let status = Int(response.status.code)
                if status < 300 { return response }
                let errorBody = try await response.body.collect(upTo: 1 << 20)
                guard RetryPolicy.retryableStatuses.contains(status), retry < policy.maxRetries else {
                    throw APIError(status: status, body: errorBody.readableBytesView, url: url)
                }
                reason = "it answered \(status)"
                retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            } catch let error where retry < policy.maxRetries && Self.isConnectionFailure(error) {
                reason = "\(error)"
            }
            retry += 1
            let delay = policy.delay(beforeRetry: retry, retryAfter: retryAfter)
            logger.warning("Retrying \(method) \(url) (\(reason)) in \(delay): retry \(retry) of \(policy.maxRetries)")
            try await Task.sleep(for: delay)
        }
    }

    /// Failures where the server never answered, so asking again is safe for a read: the
    /// connection could not be made, or closed before an answer.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            return [HTTPClientError.remoteConnectionClosed, .connectTimeout, .readTimeout].contains(error)
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
