import CairnCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import CairnClient

/// What users see when the server is not what was asked for, or the transport fails: one line
/// naming the URL and what happened, never a library's error or a credential.
@Suite struct ClientFailureTests {
    static let noRetries = RetryPolicy.none

    // MARK: - Answers that are not what was asked for

    static let loginPage = Reply.respond(
        status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: "<html><form>Sign in</form></html>")

    @Test func anExportThatIsALoginPageIsRefusedNamingTheURL() async throws {
        try await TestHTTPServer.with(reply: { _, _ in Self.loginPage }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries))
            for format in ["jsonl", "csv"] {
                let error = await #expect(throws: CairnError.self) { _ = try await client.exportLog(["format": format]) }
                #expect(error?.message.contains(url + "/api/cairn/v1/inference-log") == true)
                #expect(
                    error?.message.contains(
                        "'text/html; charset=utf-8', not the inference log as \(format == "csv" ? "CSV" : "JSON Lines")") == true)
                var chunks = 0
                await #expect(throws: CairnError.self) { try await client.exportLog(["format": format]) { _ in chunks += 1 } }
                #expect(chunks == 0)
            }
            // A login page is HTML too: it is not Cairn's report page.
            let html = await #expect(throws: CairnError.self) { _ = try await client.report(monitor: "m", html: true) }
            #expect(html?.message.contains("not a monitor report") == true)
            let json = await #expect(throws: CairnError.self) { _ = try await client.report(monitor: "m", html: false) }
            #expect(json?.message.contains("not a JSON report") == true)
        }
    }

    @Test func arbitraryJSONIsNeitherAnExportNorAReport() async throws {
        try await TestHTTPServer.with(reply: { _, _ in .respond(status: 200, body: #"{"ok": true}"#) }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries))
            await #expect(throws: CairnError.self) { _ = try await client.exportLog(["format": "jsonl"]) }
            let report = await #expect(throws: CairnError.self) { _ = try await client.report(monitor: "m", html: false) }
            #expect(report?.message.contains("not a monitor report") == true)
            await #expect(throws: CairnError.self) { _ = try await client.report(monitor: "m", html: true) }
        }
    }

    static let reportPage = "<!DOCTYPE html><html><head><title>churn · Cairn monitor report</title></head><body></body></html>"

    @Test func whatCairnsServerSendsIsAccepted() async throws {
        try await TestHTTPServer.with(reply: { request, _ in
            if request.uri.contains("format=csv") {
                return .respond(status: 200, headers: [("Content-Type", "text/csv; charset=utf-8")], body: "a\n1\n")
            }
            if request.uri.contains("format=jsonl") {
                return .respond(status: 200, headers: [("Content-Type", "application/x-ndjson")], body: "{}\n")
            }
            if request.uri.contains("format=html") {
                return .respond(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Self.reportPage)
            }
            return .respond(status: 200, body: #"{"monitor_id": "m1", "window": {}}"#)
        }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries))
            #expect(try await client.exportLog(["format": "csv"]) == Array("a\n1\n".utf8))
            #expect(try await client.exportLog(["format": "jsonl"]) == Array("{}\n".utf8))
            #expect(try await client.report(monitor: "m", html: true) == Array(Self.reportPage.utf8))
            #expect(try await client.report(monitor: "m", html: false).count > 0)
        }
    }

    // MARK: - Credentials in the tracking URI

    @Test func credentialsInTheURIAreSentAsBasicAuthAndNeverPrinted() async throws {
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: 404, headers: [("Content-Type", "text/html")], body: "<h1>Not Found</h1>")
        }) { server, url in
            let withCredentials = url.replacingOccurrences(of: "://", with: "://ann:s3cret@")
            let client = try CairnClient(
                ClientConfiguration.fromEnvironment(trackingURI: nil, environment: ["MLFLOW_TRACKING_URI": withCredentials]))
            #expect(client.trackingURI == url)
            let error = await #expect(throws: APIError.self) { _ = try await client.get("api/2.0/mlflow/experiments/search") }
            #expect(server.requests.first?.headers["Authorization"].first == "Basic YW5uOnMzY3JldA==")
            #expect(error.map { "\($0) \($0.url)" }?.contains("s3cret") == false)
        }
    }

    // MARK: - Transport failures

    @Test func aTimeoutSaysSoWithTheURL() async throws {
        try await TestHTTPServer.with(reply: { _, _ in .hang }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries, timeout: .milliseconds(500)))
            let error = await #expect(throws: CairnError.self) { _ = try await client.get("api/2.0/mlflow/runs/get") }
            #expect(error?.message == "\(url)/api/2.0/mlflow/runs/get: timed out after 0.5 s.")
        }
    }

    /// An export or report may stream for long, but its answer must start within the request
    /// timeout, as MLflow's `requests` timeout bounds each wait.
    @Test func aTransferWaitsForItsAnswerNoLongerThanTheRequestTimeout() async throws {
        try await TestHTTPServer.with(reply: { _, _ in .hang }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries, timeout: .milliseconds(500)))
            let error = await #expect(throws: CairnError.self) { _ = try await client.report(monitor: "m", html: false) }
            #expect(error?.message == "\(url)/api/cairn/v1/monitors/m/report?format=json: timed out after 0.5 s.")
        }
    }

    @Test func aTimedOutReadIsRetriedWithUrllib3sBackoffLogged() async throws {
        let messages = LoggedMessages()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(messages: messages) }
        try await TestHTTPServer.with(reply: { _, _ in .hang }) { server, url in
            let retry = RetryPolicy(maxRetries: 2, backoffFactor: 0.1, backoffJitter: 0)
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: retry, timeout: .milliseconds(300)), logger: logger)
            await #expect(throws: CairnError.self) { _ = try await client.get("api/2.0/mlflow/runs/get") }
            #expect(server.requests.count == 3)
        }
        let logged = messages.all
        #expect(logged.count == 2)
        #expect(logged.first?.hasSuffix("(timed out after 0.3 s) now: retry 1 of 2") == true)
        #expect(logged.last?.hasSuffix("(timed out after 0.3 s) in 0.2 s: retry 2 of 2") == true)
    }

    @Test func httpsAgainstAnHTTPServerAsksWhetherItIsHTTPS() async throws {
        try await TestHTTPServer.with(reply: { _, _ in .respond(status: 200) }) { _, url in
            let https = url.replacingOccurrences(of: "http://", with: "https://")
            let client = try CairnClient(ClientConfiguration(trackingURI: https, retry: Self.noRetries))
            let error = await #expect(throws: CairnError.self) { _ = try await client.get("api/2.0/mlflow/runs/get") }
            #expect(error?.message == "\(https)/api/2.0/mlflow/runs/get: TLS handshake failed: is the server https?.")
        }
    }

    @Test func anUntrustedCertificateSaysSo() async throws {
        try await TestHTTPServer.with(tls: try TestCertificate.serverContext(), reply: { _, _ in .respond(status: 200) }) { _, url in
            let client = try CairnClient(ClientConfiguration(trackingURI: url, retry: Self.noRetries))
            let error = await #expect(throws: CairnError.self) { _ = try await client.get("api/2.0/mlflow/runs/get") }
            #expect(error?.message.contains("TLS handshake failed: the server's certificate is not trusted") == true)
        }
    }

    @Test func aLineBreakInACredentialIsRefusedBeforeAnyCall() {
        for credentials in [ClientConfiguration.Credentials.bearer("t0k\r\nX-Evil: 1"), .basic(username: "ann", password: "pw\n")] {
            let error = #expect(throws: CairnError.self) {
                try CairnClient(ClientConfiguration(trackingURI: "http://h", credentials: credentials))
            }
            #expect(error?.message.contains("control character") == true)
            #expect(error?.message.contains("X-Evil") == false)
        }
    }

    @Test(arguments: [500, 502, 504])
    func aWriteIsNotRetriedOnATransientStatus(_ status: Int) async throws {
        let body = #"{"error_code": "INTERNAL_ERROR", "message": "x"}"#
        try await TestHTTPServer.with(reply: { _, _ in .respond(status: status, body: body) }) { server, url in
            let client = try CairnClient(
                ClientConfiguration(trackingURI: url, retry: RetryPolicy(maxRetries: 2, backoffFactor: 0, backoffJitter: 0)))
            await #expect(throws: APIError.self) {
                _ = try await client.post("api/2.0/mlflow/runs/create", json: .object([:]), idempotent: false)
            }
            #expect(server.requests.count == 1)
        }
    }
}

final class LoggedMessages: Sendable {
    private let messages = Mutex<[String]>([])
    var all: [String] { messages.withLock { $0 } }
    func append(_ message: String) { messages.withLock { $0.append(message) } }
}

/// Keeps each message logged, to check what a retry says.
struct RecordingLogHandler: LogHandler {
    let messages: LoggedMessages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append("\(event.message)")
    }
}
