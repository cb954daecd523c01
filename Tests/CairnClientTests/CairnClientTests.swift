import CairnCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import CairnClient

/// Drives `CairnClient` against `TestHTTPServer`, which records what was sent.
@Suite struct CairnClientTests {
    /// Retries without waiting, so the tests check which calls are retried, not the clock.
    static let quickRetries = RetryPolicy(maxRetries: 2, backoffFactor: 0, backoffJitter: 0)

    func client(_ url: String, credentials: ClientConfiguration.Credentials? = nil, retry: RetryPolicy = quickRetries) throws -> CairnClient
    {
        try CairnClient(ClientConfiguration(trackingURI: url, credentials: credentials, retry: retry))
    }

    @Test(arguments: [
        (ClientConfiguration.Credentials?.none, String?.none),
        (.bearer("t0k"), "Bearer t0k"),
        (.basic(username: "ann", password: "s3cret"), "Basic YW5uOnMzY3JldA=="),
    ])
    func sendsTheAuthorizationHeaderOnEveryCall(_ credentials: ClientConfiguration.Credentials?, _ expected: String?) async throws {
        try await TestHTTPServer.with(reply: { _, _ in .respond(status: 200, body: #"{"ok": true}"#) }) { server, url in
            let client = try client(url, credentials: credentials)
            _ = try await client.get("api/2.0/mlflow/runs/get", ["run_id": "r 1"])
            _ = try await client.post("api/2.0/mlflow/logged-models/search", json: .object(["filter": .string("x")]), idempotent: true)
            _ = try await client.bytes("api/cairn/v1/inference-log")
            let requests = server.requests
            #expect(requests.count == 3)
            #expect(requests.allSatisfy { $0.headers["Authorization"].first == expected })
            #expect(requests[0].uri == "/api/2.0/mlflow/runs/get?run_id=r%201")
            #expect(requests[1].method == .POST && String(decoding: requests[1].body, as: UTF8.self) == #"{"filter":"x"}"#)
            #expect(requests[1].headers["Content-Type"].first == "application/json")
        }
    }

    @Test func theEnvironmentsCredentialsReachTheServer() async throws {
        try await TestHTTPServer.with(reply: { _, _ in .respond(status: 200) }) { server, url in
            let configuration = try ClientConfiguration.fromEnvironment(
                trackingURI: nil,
                environment: [
                    "MLFLOW_TRACKING_URI": url, "MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw",
                ])
            _ = try await CairnClient(configuration).get("api/2.0/mlflow/experiments/search")
            #expect(server.requests.first?.headers["Authorization"].first == "Basic YW5uOnB3")
        }
    }

    @Test func decodesMLflowsErrorWithItsStatus() async throws {
        try await TestHTTPServer.with(reply: { request, _ in
            request.uri.contains("foreign")
                ? .respond(status: 403, body: #"{"error_code": "FEATURE_DISABLED", "message": "Not here."}"#)
                : .respond(
                    status: 404,
                    body: #"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=churn not found"}"#)
        }) { _, url in
            let client = try client(url)
            let error = await #expect(throws: APIError.self) {
                _ = try await client.get("api/2.0/mlflow/registered-models/get", ["name": "churn"])
            }
            #expect(error?.status == 404)
            #expect(error?.code == .resourceDoesNotExist)
            #expect(error?.message == "Registered Model with name=churn not found")
            #expect(error?.cairnError == CairnError(.resourceDoesNotExist, "Registered Model with name=churn not found"))
            #expect(error?.description == "RESOURCE_DOES_NOT_EXIST: Registered Model with name=churn not found")
            // A code Cairn does not have is kept as sent.
            let foreign = await #expect(throws: APIError.self) { _ = try await client.get("foreign") }
            #expect(foreign?.errorCode == "FEATURE_DISABLED" && foreign?.code == nil && foreign?.status == 403)
            #expect(foreign?.cairnError.code == .internalError)
        }
    }

    @Test func anAnswerThatIsNotMLflowsAsksAboutTheURI() async throws {
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: 404, headers: [("Content-Type", "text/html")], body: "<h1>Not Found</h1>")
        }) { _, url in
            let error = await #expect(throws: APIError.self) { _ = try await client(url).get("api/2.0/mlflow/runs/get") }
            #expect(error?.errorCode == "ENDPOINT_NOT_FOUND")
            #expect(
                error?.message.contains(
                    "answered 404 to \(url)/api/2.0/mlflow/runs/get without an MLflow error: is the tracking URI a cairn or MLflow tracking server?"
                ) == true)
        }
    }

    /// MLflow's `_TRANSIENT_FAILURE_RESPONSE_CODES`.
    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func aReadIsRetriedOnABusyAnswer(_ status: Int) async throws {
        try await TestHTTPServer.with(reply: { _, index in
            index == 0
                ? .respond(
                    status: status, headers: [("Retry-After", "0")], body: #"{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}"#)
                : .respond(status: 200, body: #"{"n": 1}"#)
        }) { server, url in
            let answer = try await client(url).get("api/2.0/mlflow/runs/get")
            #expect(answer["n"] == .number(1, raw: "1"))
            #expect(server.requests.count == 2)
        }
    }

    @Test func aReadIsRetriedWhenTheConnectionClosesWithoutAnAnswer() async throws {
        try await TestHTTPServer.with(reply: { _, index in index == 0 ? .close : .respond(status: 200) }) { server, url in
            _ = try await client(url).get("api/2.0/mlflow/runs/get")
            #expect(server.requests.count == 2)
        }
    }

    @Test func retriesStopAtTheLimitWithTheLastError() async throws {
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: 503, body: #"{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}"#)
        }) { server, url in
            let error = await #expect(throws: APIError.self) { _ = try await client(url).get("api/2.0/mlflow/runs/get") }
            #expect(error?.status == 503)
            #expect(server.requests.count == 1 + Self.quickRetries.maxRetries)
        }
    }

    @Test(arguments: [400, 401, 403, 404])
    func otherFailuresAreNotRetried(_ status: Int) async throws {
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: status, body: #"{"error_code": "INTERNAL_ERROR", "message": "bug"}"#)
        }) { server, url in
            await #expect(throws: APIError.self) { _ = try await client(url).get("api/2.0/mlflow/runs/get") }
            #expect(server.requests.count == 1)
        }
    }

    @Test func aWriteIsNeverRetried() async throws {
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: 503, body: #"{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}"#)
        }) { server, url in
            let client = try client(url)
            await #expect(throws: APIError.self) {
                _ = try await client.post("api/cairn/v1/references", body: Array("a\n1\n".utf8), contentType: "text/csv")
            }
            await #expect(throws: APIError.self) {
                _ = try await client.post("api/2.0/mlflow/runs/create", json: .object([:]), idempotent: false)
            }
            #expect(server.requests.count == 2)
        }
        try await TestHTTPServer.with(reply: { _, _ in .close }) { server, url in
            await #expect(throws: (any Error).self) {
                _ = try await client(url).post("api/2.0/mlflow/runs/create", json: .object([:]), idempotent: false)
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func insecureTLSReachesASelfSignedServerAndVerificationRefusesIt() async throws {
        try await TestHTTPServer.with(
            tls: try TestCertificate.serverContext(), reply: { _, _ in .respond(status: 200, body: #"{"ok": true}"#) }
        ) { server, url in
            let verifying = try CairnClient(ClientConfiguration(trackingURI: url, retry: .none))
            await #expect(throws: (any Error).self) { _ = try await verifying.get("api/2.0/mlflow/experiments/search") }
            #expect(server.requests.isEmpty)
            let insecure = try CairnClient(
                ClientConfiguration.fromEnvironment(trackingURI: url, environment: ["MLFLOW_TRACKING_INSECURE_TLS": "true"]))
            #expect(try await insecure.get("api/2.0/mlflow/experiments/search")["ok"] == .bool(true))
            #expect(server.requests.count == 1)
        }
    }

    @Test func streamsABodyChunkByChunk() async throws {
        let body = String(repeating: "{\"x\": 1}\n", count: 50_000)
        try await TestHTTPServer.with(reply: { _, _ in
            .respond(status: 200, headers: [("Content-Type", "application/x-ndjson")], body: body)
        }) { _, url in
            var received: [UInt8] = []
            var chunks = 0
            try await client(url).exportLog(["format": "jsonl"]) { chunk in
                chunks += 1
                received += chunk.readableBytesView
            }
            #expect(String(decoding: received, as: UTF8.self) == body)
            #expect(chunks > 1)
        }
    }

    @Test func downloadsAnArtifactThroughATemporaryFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-client-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestHTTPServer.with(reply: { request, _ in
            request.uri.hasSuffix("/missing")
                ? .respond(status: 404, body: #"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}"#)
                : .respond(status: 200, body: "weights")
        }) { server, url in
            let client = try client(url, credentials: .bearer("t"))
            let destination = directory.appendingPathComponent("model/sub dir/model.onnx").path
            try await client.downloadArtifact("1/models/m 1/artifacts/sub dir/model.onnx", to: destination)
            #expect(try String(contentsOfFile: destination, encoding: .utf8) == "weights")
            #expect(server.requests[0].uri == "/api/2.0/mlflow-artifacts/artifacts/1/models/m%201/artifacts/sub%20dir/model.onnx")
            #expect(server.requests[0].headers["Authorization"].first == "Bearer t")
            await #expect(throws: APIError.self) {
                try await client.downloadArtifact("1/missing", to: directory.appendingPathComponent("missing").path)
            }
            // Neither the failed download nor the finished one left a temporary file.
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("model/sub dir").path) == [
                    "model.onnx"
                ])
        }
    }

    @Test func resolvesMovableVersionsWithOneCall() async throws {
        try await TestHTTPServer.with(reply: { request, _ in
            if request.uri.hasPrefix("/api/2.0/mlflow/registered-models/alias") {
                return .respond(status: 200, body: #"{"model_version": {"name": "churn", "version": "4"}}"#)
            }
            let stages = String(decoding: request.body, as: UTF8.self).contains("Production")
            return .respond(
                status: 200,
                body: stages ? #"{"model_versions": [{"version": "2"}]}"# : #"{"model_versions": [{"version": "9"}, {"version": "10"}]}"#)
        }) { server, url in
            let client = try client(url)
            #expect(try await client.currentVersion(of: ModelURI(parsing: "models:/churn@champion")) == "4")
            #expect(try await client.currentVersion(of: ModelURI(parsing: "models:/churn/latest")) == "10")
            #expect(try await client.currentVersion(of: ModelURI(parsing: "models:/churn/Production")) == "2")
            #expect(try await client.currentVersion(of: ModelURI(parsing: "models:/churn/3")) == "3")
            #expect(try await client.currentVersion(of: ModelURI(parsing: "runs:/r/model")) == nil)
            let requests = server.requests
            #expect(requests.count == 3)
            #expect(requests[0].uri == "/api/2.0/mlflow/registered-models/alias?alias=champion&name=churn")
            #expect(String(decoding: requests[1].body, as: UTF8.self) == #"{"name":"churn"}"#)
            #expect(String(decoding: requests[2].body, as: UTF8.self) == #"{"name":"churn","stages":["Production"]}"#)
        }
    }
}
