import CairnClient
import CairnCore
import CairnServing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import CairnServer

/// Drives the scoring router over a real model: the scaler+logreg ONNX fixture, wrapped in
/// an MLflow model directory with a column signature, served natively.
struct ServingFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CairnONNXTests/Fixtures")

    /// The fixture's eight input rows and onnxruntime's labels for them.
    static func cases() throws -> (rows: [[Double]], labels: [Int64]) {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("scaler_logreg.json"))
        let document = try JSONValue.parse(Array(data))
        guard case .array(let inputs)? = document["inputs"], case .array(let flat)? = inputs[0]["data"],
            case .array(let outputs)? = document["outputs"]
        else { throw CairnError(.internalError, "bad fixture") }
        let values = flat.map { (cell: JSONValue) -> Double in if case .number(let v, _) = cell { v } else { .nan } }
        let rows = stride(from: 0, to: values.count, by: 20).map { Array(values[$0..<$0 + 20]) }
        let label = outputs.first { $0["name"] == .string("label") }
        guard case .array(let labels)? = label?["data"] else { throw CairnError(.internalError, "bad fixture") }
        return (rows, labels.map { (cell: JSONValue) -> Int64 in if case .number(let v, _) = cell { Int64(v) } else { -1 } })
    }

    static func withServer(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-serving-\(UUID().uuidString)/churn")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try FileManager.default.copyItem(
            at: fixtures.appendingPathComponent("scaler_logreg.onnx"), to: directory.appendingPathComponent("model.onnx"))
        let columns = (0..<20).map { #"{"type": "double", "name": "f\#($0)", "required": true}"# }.joined(separator: ", ")
        let mlmodel = """
            flavors:
              onnx:
                data: model.onnx
                onnx_version: 1.23.2
            signature:
              inputs: '[\(columns)]'
              outputs: '[{"type": "long", "required": true}]'
            """
        try mlmodel.write(to: directory.appendingPathComponent("MLmodel"), atomically: true, encoding: .utf8)

        let logger = Logger(label: "test")
        let registry = PrometheusCollectorRegistry()
        let metrics = ServingMetrics(registry: registry)
        let loader = ModelLoader(preference: .native, batching: BatchingOptions(maxBatchRows: 16), metrics: metrics, logger: logger)
        let host = ModelHost(
            uri: .localDirectory(directory.path), role: "primary",
            resolver: ModelResolver(tracking: ClientConfiguration(trackingURI: nil), cacheDirectory: directory.path), loader: loader,
            pollInterval: .seconds(60), logger: logger
        )
        try await host.loadInitial()
        let router = buildServingRouter(traffic: TrafficRouter(primary: host), registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await host.run() }
            try await Application(router: router, logger: logger).test(.router, body)
            group.cancelAll()
        }
    }
}

@Suite struct ServingAPITests {
    func split(_ rows: [[Double]], columns: [String]? = nil) -> String {
        let names = columns ?? (0..<20).map { "f\($0)" }
        let data = rows.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",")
        return #"{"dataframe_split": {"columns": [\#(names.map { "\"\($0)\"" }.joined(separator: ","))], "data": [\#(data)]}}"#
    }

    /// The `label` of each record of a native classifier's answer.
    static func labels(_ body: JSONValue) -> [JSONValue] {
        guard case .array(let records)? = body["predictions"] else { return [] }
        return records.map { $0["label"] ?? .null }
    }

    @Test func invocationsAnswerLikeOnnxruntime() async throws {
        let (rows, labels) = try ServingFixture.cases()
        try await ServingFixture.withServer { client in
            #expect(try await client.get("/ping").status == .ok)
            let response = try await client.post("/invocations", split(rows))
            #expect(response.status == .ok)
            // Every output, as records: the label beside the probabilities.
            #expect(try Self.labels(json(response)) == labels.map { .number(Double($0), raw: String($0)) })
            guard case .array(let answered)? = try json(response)["predictions"],
                case .array(let probabilities)? = answered.first?["probabilities"]
            else {
                Issue.record("no probabilities in the records")
                return
            }
            #expect(probabilities.count == 2)
            #expect(response.headers[HTTPField.Name("X-Cairn-Model-Version")!] == "local")

            // Columns in another order and extra columns are fine: the signature orders them.
            let reversed = (0..<20).reversed().map { "f\($0)" } + ["extra"]
            let shuffled = rows.map { Array($0.reversed()) + [42] }
            #expect(
                try json(try await client.post("/invocations", split(shuffled, columns: reversed)))["predictions"]
                    == json(response)["predictions"])

            let records =
                "{\"dataframe_records\": ["
                + rows.prefix(2).map { row in
                    "{" + row.enumerated().map { "\"f\($0.offset)\": \($0.element)" }.joined(separator: ",") + "}"
                }.joined(separator: ",") + "]}"
            #expect(
                try Self.labels(json(try await client.post("/invocations", records)))
                    == labels.prefix(2).map { .number(Double($0), raw: String($0)) })

            let csv =
                (0..<20).map { "f\($0)" }.joined(separator: ",") + "\n"
                + rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n")
            let csvResponse = try await client.post("/invocations", csv, contentType: "text/csv")
            #expect(try json(csvResponse)["predictions"] == json(response)["predictions"])
        }
    }

    @Test func badInputIsRefusedWithTheColumnNamed() async throws {
        let (rows, _) = try ServingFixture.cases()
        try await ServingFixture.withServer { client in
            let missing = (0..<20).filter { $0 != 7 }.map { "f\($0)" }
            let response = try await client.post(
                "/invocations", split(rows.map { row in row.enumerated().filter { $0.offset != 7 }.map(\.element) }, columns: missing))
            try expectError(response, .invalidParameterValue)
            #expect(String(buffer: response.body).contains("f7"))
            let text = split([["a"] + Array(repeating: "1", count: 19)].map { $0.map { _ in 0.0 } }).replacingOccurrences(
                of: "[0.0,", with: "[\"a\",")
            let typed = try await client.post("/invocations", text)
            try expectError(typed, .invalidParameterValue)
            #expect(String(buffer: typed.body).contains("'f0'"))
            try expectError(try await client.post("/invocations", "[1]"), .badRequest)
            try expectError(try await client.post("/invocations", #"{"dataframe_split": {}, "instances": []}"#), .badRequest)
            try expectError(try await client.post("/invocations", "{", contentType: "application/json"), .badRequest)
            try expectError(try await client.post("/invocations", "x", contentType: "text/plain"), .unsupportedMediaType)
            try expectError(
                try await client.post("/invocations", split(rows), contentType: "application/json; format=pandas-split"),
                .unsupportedMediaType)
            #expect(try await client.post("/invocations", split(rows), contentType: "application/json; charset=utf-8").status == .ok)
        }
    }

    @Test func openInferenceProtocol() async throws {
        let (rows, labels) = try ServingFixture.cases()
        try await ServingFixture.withServer { client in
            #expect(try json(try await client.get("/v2/health/live")) == .object(["live": .bool(true)]))
            #expect(try json(try await client.get("/v2/health/ready")) == .object(["ready": .bool(true)]))
            let metadata = try json(try await client.get("/v2/models/churn"))
            #expect(metadata["platform"] == .string("onnx_onnxv1"))
            #expect(metadata["versions"] == .array([.string("local")]))
            #expect(try await client.get("/v2/models/churn/versions/local/ready").status == .ok)
            #expect(try await client.get("/v2/models/other").status == .notFound)
            #expect(try await client.get("/v2/models/churn/versions/9").status == .notFound)

            let flat = rows.flatMap { $0 }.map { "\($0)" }.joined(separator: ",")
            let body = #"{"id": "q1", "inputs": [{"name": "X", "shape": [\#(rows.count), 20], "datatype": "FP32", "data": [\#(flat)]}]}"#
            let answer = try json(try await client.post("/v2/models/churn/infer", body))
            #expect(answer["id"] == .string("q1"))
            #expect(answer["model_version"] == .string("local"))
            guard case .array(let outputs)? = answer["outputs"] else {
                Issue.record("no outputs")
                return
            }
            let label = outputs.first { $0["name"] == .string("label") }
            #expect(label?["data"] == .array(labels.map { .number(Double($0), raw: String($0)) }))
            #expect(label?["datatype"] == .string("INT64"))

            let wrongCount = try await client.post(
                "/v2/models/churn/infer", #"{"inputs": [{"name": "X", "shape": [2, 20], "datatype": "FP32", "data": [1, 2]}]}"#)
            #expect(wrongCount.status == .badRequest)
            #expect(try json(wrongCount)["error"] != nil)
            #expect(try await client.post("/v2/models/churn/infer", #"{"inputs": []}"#).status == .badRequest)
            #expect(
                try await client.post(
                    "/v2/models/churn/infer", #"{"inputs": [{"name": "X", "shape": [1e12, 20], "datatype": "FP32", "data": []}]}"#
                ).status == .badRequest)
        }
    }

    @Test func metricsCountRequestsRowsAndBatches() async throws {
        let (rows, _) = try ServingFixture.cases()
        try await ServingFixture.withServer { client in
            _ = try await client.post("/invocations", split(rows))
            _ = try await client.post("/invocations", "[1]")
            let text = String(buffer: try await client.get("/metrics").body)
            #expect(text.contains(#"cairn_serving_requests_total{model="churn",version="local",status="200"} 1"#))
            #expect(text.contains(#"cairn_serving_rows_total{model="churn",version="local"} 8"#))
            #expect(text.contains("cairn_serving_batch_rows_bucket"))
            #expect(text.contains("cairn_serving_queue_seconds_bucket"))
            #expect(text.contains("cairn_serving_request_bytes_bucket"))
            #expect(text.contains(#"cairn_serving_model_info{model="churn",role="primary",version="local"} 1"#))
        }
    }
}
