import CairnArtifacts
import CairnCore
import CairnStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import CairnServer

/// Drives the router in-process with Hummingbird's test client against a real SQLite store.
struct APIFixture {
    static func withApp(
        artifacts: (any ArtifactRepository)? = nil,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let router = buildRouter(
            store: SQLTrackingStore(database: database),
            registryStore: SQLRegistryStore(database: database),
            loggedModelStore: SQLLoggedModelStore(database: database),
            artifacts: artifacts,
            registry: PrometheusCollectorRegistry()
        )
        let app = Application(router: router, logger: logger)
        do {
            try await app.test(.router, body)
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}

extension TestClientProtocol {
    func post(_ path: String, _ json: String, contentType: String = "application/json") async throws -> TestResponse {
        try await execute(uri: path, method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: json))
    }

    func get(_ path: String) async throws -> TestResponse {
        try await execute(uri: path, method: .get)
    }

    func patch(_ path: String, _ json: String) async throws -> TestResponse {
        try await execute(uri: path, method: .patch, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    /// DELETE with a JSON body, as the MLflow client sends it.
    func delete(_ path: String, _ json: String? = nil) async throws -> TestResponse {
        guard let json else { return try await execute(uri: path, method: .delete) }
        return try await execute(uri: path, method: .delete, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }
}

func json(_ response: TestResponse) throws -> JSONValue {
    try JSONValue.parse(Array(response.body.readableBytesView))
}

func expectError(_ response: TestResponse, _ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(response.status.code == code.httpStatus, sourceLocation: sourceLocation)
    let body = try json(response)
    #expect(body["error_code"] == .string(code.rawValue), sourceLocation: sourceLocation)
    guard case .string(let message)? = body["message"] else {
        Issue.record("error without message", sourceLocation: sourceLocation)
        return
    }
    #expect(!message.isEmpty, sourceLocation: sourceLocation)
}

@Suite struct TrackingAPITests {
    @Test func healthVersionAndMetrics() async throws {
        try await APIFixture.withApp { client in
            let health = try await client.get("/health")
            #expect(health.status == .ok)
            #expect(String(buffer: health.body) == "OK")
            #expect(try await client.get("/version").status == .ok)
            _ = try await client.get("/api/2.0/mlflow/experiments/get?experiment_id=0")
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains("cairn_http_requests_total"))
            #expect(metrics.contains("route=\"/api/2.0/mlflow/experiments/get\""))
            #expect(metrics.contains("cairn_http_request_duration_seconds_bucket"))
        }
    }

    @Test func experimentRoundTripWithStringIDs() async throws {
        try await APIFixture.withApp { client in
            let created = try await client.post("/api/2.0/mlflow/experiments/create", #"{"name":"exp","tags":[{"key":"k","value":"v"}]}"#)
            #expect(created.status == .ok)
            #expect(try json(created)["experiment_id"] == .string("1"))
            let fetched = try json(try await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=exp"))
            #expect(fetched["experiment"]?["experiment_id"] == .string("1"))
            #expect(fetched["experiment"]?["artifact_location"] == .string("mlflow-artifacts:/1"))
            // The ajax mirror serves the same API.
            let mirrored = try json(try await client.get("/ajax-api/2.0/mlflow/experiments/get?experiment_id=1"))
            #expect(mirrored["experiment"]?["name"] == .string("exp"))
            try expectError(try await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=missing"), .resourceDoesNotExist)
            try expectError(try await client.post("/api/2.0/mlflow/experiments/create", #"{"name":"exp"}"#), .resourceAlreadyExists)
        }
    }

    @Test func malformedRequestsGetMLflowErrors() async throws {
        try await APIFixture.withApp { client in
            try expectError(try await client.post("/api/2.0/mlflow/experiments/create", "{not json"), .badRequest)
            try expectError(try await client.post("/api/2.0/mlflow/experiments/create", "[1,2]"), .badRequest)
            try expectError(
                try await client.post("/api/2.0/mlflow/experiments/create", #"{"name":"x"}"#, contentType: "text/plain"),
                .invalidParameterValue)
            try expectError(try await client.post("/api/2.0/mlflow/experiments/create", #"{"name":5}"#), .invalidParameterValue)
            try expectError(try await client.post("/api/2.0/mlflow/experiments/create", "{}"), .invalidParameterValue)
            try expectError(try await client.get("/api/2.0/mlflow/experiments/get?experiment_id=%ZZ"), .invalidParameterValue)
            try expectError(try await client.get("/api/2.0/mlflow/no/such/endpoint"), .endpointNotFound)
            // Nothing was created by any of the above.
            let search = try json(try await client.post("/api/2.0/mlflow/experiments/search", #"{"max_results":100}"#))
            guard case .array(let experiments)? = search["experiments"] else {
                Issue.record("no experiments")
                return
            }
            #expect(experiments.count == 1)
        }
    }

    /// Answers checked against `mlflow server` 3.17.2 (Tests/compat/test_wire.py runs them on both).
    @Test func idsRepeatedFieldsAndQueryStringsAreReadAsMLflowReadsThem() async throws {
        try await APIFixture.withApp { client in
            let api = "/api/2.0/mlflow"
            // Not an integer: 400. An integer no experiment has, negative ones too: 404.
            try expectError(try await client.get("\(api)/experiments/get?experiment_id=abc"), .invalidParameterValue)
            try expectError(try await client.get("\(api)/experiments/get?experiment_id=-1"), .resourceDoesNotExist)
            try expectError(try await client.post("\(api)/experiments/delete", #"{"experiment_id": "abc"}"#), .invalidParameterValue)
            try expectError(try await client.post("\(api)/runs/create", #"{"experiment_id": "-1"}"#), .resourceDoesNotExist)
            // In a JSON body a repeated field is a list; in a query string one value is enough.
            try expectError(try await client.post("\(api)/runs/search", #"{"experiment_ids": "0"}"#), .invalidParameterValue)
            try expectError(try await client.post("\(api)/experiments/search", #"{"order_by": "name"}"#), .invalidParameterValue)
            #expect(try await client.get("\(api)/experiments/search?order_by=name&max_results=10").status == .ok)
            // Bytes that are not UTF-8 are kept as escapes, as Werkzeug keeps them: a name no
            // experiment has, not a malformed request.
            let name = try await client.get("\(api)/experiments/get-by-name?experiment_name=%ff%fe")
            try expectError(name, .resourceDoesNotExist)
            #expect(try json(name)["message"] == .string("Could not find experiment with name '%FF%FE'"))
            // A 404's message shows the path as the client wrote it, before percent-encoding.
            let route = try await client.get("/ping%25zz")
            try expectError(route, .endpointNotFound)
            #expect(try json(route)["message"] == .string("No API endpoint matches GET /ping%zz"))
        }
    }

    @Test func runLifecycleOverHTTP() async throws {
        try await APIFixture.withApp { client in
            let created = try json(
                try await client.post("/api/2.0/mlflow/runs/create", #"{"experiment_id":"0","run_name":"r1","start_time":1000}"#))
            guard case .string(let runID)? = created["run"]?["info"]?["run_id"] else {
                Issue.record("no run id")
                return
            }
            #expect(created["run"]?["info"]?["status"] == .string("RUNNING"))

            let batch =
                #"{"run_id":"\#(runID)","metrics":[{"key":"loss","value":"NaN","timestamp":5,"step":1},{"key":"acc","value":0.5,"timestamp":"6"}],"params":[{"key":"lr","value":"0.1"}],"tags":[{"key":"t","value":"v"}]}"#
            #expect(try await client.post("/api/2.0/mlflow/runs/log-batch", batch).status == .ok)
            let run = try json(try await client.get("/api/2.0/mlflow/runs/get?run_uuid=\(runID)"))
            guard case .array(let metrics)? = run["run"]?["data"]?["metrics"] else {
                Issue.record("no metrics")
                return
            }
            #expect(metrics.contains { $0["key"] == .string("loss") && $0["value"] == .string("NaN") })

            try expectError(
                try await client.post("/api/2.0/mlflow/runs/log-parameter", #"{"run_id":"\#(runID)","key":"lr","value":"0.2"}"#),
                .invalidParameterValue)
            try expectError(
                try await client.post("/api/2.0/mlflow/runs/log-metric", #"{"run_id":"\#(runID)","key":"m","value":"abc","timestamp":1}"#),
                .invalidParameterValue)
            try expectError(
                try await client.post("/api/2.0/mlflow/runs/log-metric", #"{"run_id":"\#(runID)","key":"m","value":1}"#),
                .invalidParameterValue)
            try expectError(
                try await client.post("/api/2.0/mlflow/runs/log-metric", #"{"run_id":"\#(runID)","key":"m","value":true,"timestamp":1}"#),
                .invalidParameterValue)

            let updated = try json(
                try await client.post("/api/2.0/mlflow/runs/update", #"{"run_id":"\#(runID)","status":"FINISHED","end_time":2000}"#))
            #expect(updated["run_info"]?["status"] == .string("FINISHED"))
            #expect(updated["run_info"]?["end_time"] == .number(2000, raw: "2000"))

            let history = try json(
                try await client.get("/api/2.0/mlflow/metrics/get-history?run_id=\(runID)&metric_key=acc&max_results=10"))
            guard case .array(let points)? = history["metrics"] else {
                Issue.record("no history")
                return
            }
            #expect(points.count == 1)
            #expect(history["next_page_token"] == nil)

            #expect(try await client.post("/api/2.0/mlflow/runs/delete", #"{"run_id":"\#(runID)"}"#).status == .ok)
            try expectError(
                try await client.post("/api/2.0/mlflow/runs/set-tag", #"{"run_id":"\#(runID)","key":"a","value":"b"}"#),
                .invalidParameterValue)
            try expectError(try await client.get("/api/2.0/mlflow/runs/get?run_id=ffffffffffffffffffffffffffffffff"), .resourceDoesNotExist)
        }
    }

    @Test func searchRunsOverHTTP() async throws {
        try await APIFixture.withApp { client in
            for index in 0..<5 {
                let created = try json(
                    try await client.post(
                        "/api/2.0/mlflow/runs/create", #"{"experiment_id":"0","run_name":"run\#(index)","start_time":\#(index)}"#))
                guard case .string(let runID)? = created["run"]?["info"]?["run_id"] else { return }
                _ = try await client.post(
                    "/api/2.0/mlflow/runs/log-metric", #"{"run_id":"\#(runID)","key":"m","value":\#(index),"timestamp":1}"#)
            }
            let body = #"{"experiment_ids":["0"],"filter":"metrics.m >= 2","order_by":["metrics.m DESC"],"max_results":2}"#
            let page = try json(try await client.post("/api/2.0/mlflow/runs/search", body))
            guard case .array(let runs)? = page["runs"], case .string(let token)? = page["next_page_token"] else {
                Issue.record("no page")
                return
            }
            #expect(runs.map { $0["info"]?["run_name"] } == [.string("run4"), .string("run3")])
            let next = try json(
                try await client.post(
                    "/api/2.0/mlflow/runs/search",
                    #"{"experiment_ids":["0"],"filter":"metrics.m >= 2","order_by":["metrics.m DESC"],"max_results":2,"page_token":"\#(token)"}"#
                ))
            guard case .array(let rest)? = next["runs"] else {
                Issue.record("no second page")
                return
            }
            #expect(rest.map { $0["info"]?["run_name"] } == [.string("run2")])
            #expect(next["next_page_token"] == nil)
            try expectError(
                try await client.post(
                    "/api/2.0/mlflow/runs/search", #"{"experiment_ids":["0"],"filter":"metrics.m > 1 OR metrics.m < 0"}"#),
                .invalidParameterValue)
            try expectError(
                try await client.post("/api/2.0/mlflow/runs/search", #"{"experiment_ids":["0"],"max_results":50001}"#),
                .invalidParameterValue)
            let empty = try await client.post("/api/2.0/mlflow/runs/search", #"{"experiment_ids":["0"],"filter":"params.none = 'x'"}"#)
            #expect(String(buffer: empty.body) == "{}")
        }
    }
}
