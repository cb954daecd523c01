import CairnArtifacts
import CairnCore
import CairnStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing

@testable import CairnMonitor
@testable import CairnServer

/// `/api/cairn/v1`: monitors, feedback, references, reports and the inference log export over
/// HTTP, against a real SQLite store and an inference log directory of the test's own. A class
/// suite so each test's directory lives exactly as long as the test.
@Suite final class MonitorsAPITests: Sendable {
    let base: String
    var logDirectory: String { base + "/inference" }
    static let api = "/api/cairn/v1"

    /// The stores behind the router, for checking what a request did or did not write.
    struct Stores: Sendable {
        let registry: SQLRegistryStore
        let monitors: SQLMonitorStore
    }

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-monitors-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    /// A router with monitoring mounted, and a registered model `churn` with version 1.
    func withApp(
        now: @escaping WallClock = SystemClock.now, artifacts: (any ArtifactRepository)? = nil,
        alertListener: (@Sendable (any MetadataDatabase) -> any MonitorAlertListener)? = nil,
        _ body: @Sendable (any TestClientProtocol, Stores) async throws -> Void
    ) async throws {
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: base + "/cairn.db", logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let stores = Stores(registry: SQLRegistryStore(database: database), monitors: SQLMonitorStore(database: database))
        _ = try await stores.registry.createRegisteredModel(name: "churn", tags: [], description: nil)
        _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "churn", source: "s3://bucket/churn/1"))
        let metrics = PrometheusCollectorRegistry()
        let monitoring = Monitoring(
            store: stores.monitors, registry: stores.registry, logDirectory: logDirectory, metrics: metrics, logger: logger, now: now,
            alertListener: alertListener?(database))
        let router = buildRouter(
            store: SQLTrackingStore(database: database), registryStore: stores.registry, artifacts: artifacts, monitoring: monitoring,
            registry: metrics)
        let app = Application(router: router, logger: logger)
        do {
            try await app.test(.router) { client in try await body(client, stores) }
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    func writeLog(
        _ records: [(id: String, offset: Int64, version: String, status: Int)], model: String = "churn",
        outputs: (String) -> String = { _ in #"{"predictions": [1]}"# },
        inputs: (String) -> String = { _ in #"{"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x,\"y\""]]}}"# }
    ) throws -> Int64 {
        let writer = try InferenceLogWriter(options: .init(directory: logDirectory), logger: Logger(label: "test"))
        // Stamped in the past, as records always are by the time they reach a segment.
        let start = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        for record in records {
            writer.record(
                InferenceRecord(
                    requestID: record.id, timestamp: start + record.offset, model: model, version: record.version,
                    inputs: Array(inputs(record.id).utf8),
                    outputs: Array(outputs(record.id).utf8), latencyMicroseconds: 2_000, status: record.status))
        }
        try writer.flush()
        return start
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    // MARK: - Monitors

    @Test func createGetListUpdateDelete() async throws {
        try await withApp { client, stores in
            let created = try await client.post(
                "\(Self.api)/monitors", #"{"name": "watch", "model_name": "churn", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#)
            #expect(created.status == .ok)
            let monitor = try json(created)["monitor"]
            let id = try #require(Self.string(monitor?["monitor_id"]))
            #expect(!id.isEmpty)
            #expect(monitor?["name"] == .string("watch"))
            #expect(monitor?["model_name"] == .string("churn"))
            #expect(monitor?["alias"] == .null)
            #expect(monitor?["last_run_time"] == .null)
            // The stored spec is the validated one, defaults filled in.
            #expect(monitor?["spec"]?["min_rows"] == .number(30, raw: "30"))
            #expect(monitor?["spec"]?["window"]?["seconds"] == .number(3600, raw: "3600"))
            #expect(try await stores.monitors.getMonitor(idOrName: id).name == "watch")

            #expect(try json(try await client.get("\(Self.api)/monitors/\(id)"))["monitor"]?["name"] == .string("watch"))
            #expect(try json(try await client.get("\(Self.api)/monitors/watch"))["monitor"]?["monitor_id"] == .string(id))
            try expectError(try await client.get("\(Self.api)/monitors/nope"), .resourceDoesNotExist)
            try expectError(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "watch", "model_name": "churn", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#),
                .resourceAlreadyExists)

            _ = try await client.post(
                "\(Self.api)/monitors", #"{"name": "another", "model_name": "churn", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#
            )
            guard case .array(let listed)? = try json(try await client.get("\(Self.api)/monitors"))["monitors"] else {
                Issue.record("no list")
                return
            }
            #expect(listed.map { $0["name"] } == [.string("another"), .string("watch")])

            try await stores.registry.setRegisteredModelAlias(name: "churn", alias: "champion", version: "1")
            let updated = try await client.execute(
                uri: "\(Self.api)/monitors/\(id)", method: .put, headers: [.contentType: "application/json"],
                body: ByteBuffer(
                    string:
                        #"{"name": "renamed", "model_name": "churn", "alias": "champion", "window": {"rows": 100}, "checks": [{"type": "error_rate", "threshold": 0.1}]}"#
                ))
            #expect(updated.status == .ok)
            #expect(try json(updated)["monitor"]?["alias"] == .string("champion"))
            let stored = try await stores.monitors.getMonitor(idOrName: id)
            #expect(stored.name == "renamed")
            #expect(stored.alias == "champion")
            #expect(try MonitorSpec.decode(Array(stored.spec.utf8)).window == MonitorSpec.Window(rows: 100))
            // A rename onto another monitor's name, or an invalid spec, changes nothing.
            for body in [
                #"{"name": "another", "model_name": "churn", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#,
                #"{"name": "renamed", "model_name": "churn", "min_rows": 0, "checks": [{"type": "error_rate", "threshold": 0.1}]}"#,
                #"{"name": "x", "model_name": "ghost", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#,
            ] {
                let refused = try await client.execute(
                    uri: "\(Self.api)/monitors/\(id)", method: .put, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body))
                #expect(refused.status.code >= 400 && refused.status.code < 500)
            }
            #expect(try await stores.monitors.getMonitor(idOrName: id) == stored)

            #expect(try await client.delete("\(Self.api)/monitors/renamed").status == .ok)
            try expectError(try await client.get("\(Self.api)/monitors/\(id)"), .resourceDoesNotExist)
            try expectError(try await client.delete("\(Self.api)/monitors/\(id)"), .resourceDoesNotExist)
            #expect(try await stores.monitors.listMonitors().map(\.name) == ["another"])
        }
    }

    @Test func badMonitorBodiesAreRefusedAndCreateNothing() async throws {
        try await withApp { client, stores in
            let bodies = [
                "{}",
                #"{"name": "w"}"#,
                #"{"name": "w", "model_name": "churn", "window": {"seconds": 60, "rows": 10}}"#,
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "quality", "metric": "bogus", "threshold": 1}]}"#,
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "latency_p99"}]}"#,
                #"{"name": "w", "model_name": "churn", "webhooks": ["file:///etc/passwd"]}"#,
                #"{"name": "w", "model_name": "churn", "drift": {"drift_share": 2}}"#,
                #"{"name": "w", "model_name": "churn", "webhook_max_attempts": 0}"#,
                #"{"name": "w", "model_name": "churn", "interval_seconds": "often"}"#,
                "not json",
                "[]",
                "",
            ]
            for body in bodies {
                let response = try await client.post("\(Self.api)/monitors", body)
                #expect(response.status == .badRequest, "\(body)")
                try expectError(response, .invalidParameterValue)
            }
            let message = Self.string(
                try json(
                    try await client.post("\(Self.api)/monitors", #"{"name": "w", "model_name": "churn", "webhook_max_attempts": 0}"#))[
                        "message"])
            #expect(message?.contains("webhook_max_attempts") == true)

            // A monitor of a model the registry does not know is a typo: 404, not an empty monitor.
            try expectError(
                try await client.post(
                    "\(Self.api)/monitors", #"{"name": "w", "model_name": "ghost", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#),
                .resourceDoesNotExist)
            // The body must be JSON, however well-formed it is.
            try expectError(
                try await client.post("\(Self.api)/monitors", #"{"name": "w", "model_name": "churn"}"#, contentType: "text/plain"),
                .invalidParameterValue)
            try expectError(
                try await client.post(
                    "\(Self.api)/monitors", #"{"name": "w", "model_name": "churn"}"#, contentType: "application/x-www-form-urlencoded"),
                .invalidParameterValue)
            #expect(try await stores.monitors.listMonitors().isEmpty)
        }
    }

    /// A router whose artifact store holds model `scored` version 1, logged with a signature
    /// that takes f0…f3 (as `mlflow.sklearn.log_model` writes it).
    func withSignedModel(_ body: @Sendable (any TestClientProtocol, Stores) async throws -> Void) async throws {
        let inputs = (0..<4).map { #"{"type": "double", "name": "f\#($0)", "required": true}"# }.joined(separator: ", ")
        let mlmodel = """
            artifact_path: model
            flavors:
              python_function:
                loader_module: mlflow.sklearn
            signature:
              inputs: '[\(inputs)]'
              outputs: '[{"type": "long", "required": true}]'
            """
        let repository = try LocalArtifactRepository(rootDirectory: base + "/artifacts", configuration: .init(durableWrites: false))
        try await withApp(artifacts: repository) { client, stores in
            // Logged as the MLflow client logs it: under a run's proxied artifacts.
            let run = try json(try await client.post("/api/2.0/mlflow/runs/create", #"{"experiment_id": "0"}"#))["run"]?["info"]
            let runID = try #require(Self.string(run?["run_id"]))
            let model = base + "/artifacts/0/\(runID)/artifacts/model"
            try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
            try mlmodel.write(toFile: model + "/MLmodel", atomically: true, encoding: .utf8)
            _ = try await stores.registry.createRegisteredModel(name: "scored", tags: [], description: nil)
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "scored", source: "mlflow-artifacts:/0/\(runID)/artifacts/model", runID: runID))
            try await body(client, stores)
        }
    }

    @Test func aReferenceWithoutTheSignaturesInputsIsRefusedAndTheOldOneKept() async throws {
        try await withSignedModel { client, stores in
            func upload(_ csv: String, contentType: String? = "text/csv", version: String = "1") async throws -> TestResponse {
                try await client.execute(
                    uri: "\(Self.api)/references?model_name=scored&version=\(version)", method: .post,
                    headers: contentType.map { [.contentType: $0] } ?? [:], body: ByteBuffer(string: csv))
            }
            let good = "f0,f1,f2,f3,label\n1,2,3,4,0\n5,6,7,8,1\n"
            #expect(try await upload(good).status == .ok)
            let refused = try await upload("a,b\nx,y\n")
            #expect(refused.status == .badRequest)
            try expectError(refused, .invalidParameterValue)
            let message = Self.string(try json(refused)["message"]) ?? ""
            #expect(message.contains("'f0', 'f1', 'f2', 'f3'"), "\(message)")
            #expect(try await stores.monitors.getReference(modelName: "scored", version: "1")?.rowCount == 2)
            // One input missing is named alone; extra columns are fine.
            let partial = try await upload("f0,f1,f2,extra\n1,2,3,4\n")
            #expect(Self.string(try json(partial)["message"])?.contains("the input 'f3'") == true)
            #expect(try await upload("f3,f2,f1,f0,extra\n1,2,3,4,5\n").status == .ok)

            // CSV only: the type `cairn monitor reference` sends (with or without a charset),
            // or none; anything else is refused before the body is read.
            for type in ["image/png", "application/json", "text/plain", "application/x-www-form-urlencoded"] {
                let response = try await upload(good, contentType: type)
                #expect(response.status == .badRequest, "\(type)")
                try expectError(response, .invalidParameterValue)
            }
            #expect(try await upload(good, contentType: "text/csv; charset=utf-8").status == .ok)
            #expect(try await upload(good, contentType: nil).status == .ok)
            // A version that is not a number is a bad parameter, not a missing reference.
            try expectError(try await client.get("\(Self.api)/references?model_name=scored&version=abc"), .invalidParameterValue)
            try expectError(try await upload(good, version: "abc"), .invalidParameterValue)
        }
    }

    @Test func monitorsAreCheckedAgainstWhatTheRegistryKnows() async throws {
        try await withSignedModel { client, stores in
            func create(_ body: String) async throws -> TestResponse {
                try await client.post("\(Self.api)/monitors", body)
            }
            func message(_ response: TestResponse) throws -> String { Self.string(try json(response)["message"]) ?? "" }
            // Nothing to check is refused, absent or empty.
            for body in [#"{"name": "w", "model_name": "scored"}"#, #"{"name": "w", "model_name": "scored", "checks": []}"#] {
                let response = try await create(body)
                try expectError(response, .invalidParameterValue)
                #expect(try message(response).contains("'checks' must list at least one check"))
            }
            // An alias the model does not have.
            let alias = try await create(
                #"{"name": "w", "model_name": "scored", "alias": "champion", "checks": [{"type": "feature_drift"}]}"#)
            try expectError(alias, .resourceDoesNotExist)
            #expect(try message(alias).contains("has no alias 'champion'"))
            // A drift setting for a column the version's signature does not have.
            let column = try await create(
                #"{"name": "w", "model_name": "scored", "checks": [{"type": "feature_drift"}], "drift": {"methods": {"f7": "psi"}}}"#)
            try expectError(column, .invalidParameterValue)
            #expect(try message(column).contains("'f7'"))
            #expect(try message(column).contains("f0, f1, f2, f3"))
            try expectError(
                try await create(
                    #"{"name": "w", "model_name": "scored", "checks": [{"type": "feature_drift"}], "drift": {"thresholds": {"f7": 0.2}}}"#),
                .invalidParameterValue)
            #expect(try await stores.monitors.listMonitors().isEmpty)

            try await stores.registry.setRegisteredModelAlias(name: "scored", alias: "champion", version: "1")
            let created = try await create(
                #"{"name": "w", "model_name": "scored", "alias": "champion", "checks": [{"type": "feature_drift"}], "drift": {"methods": {"f1": "psi", "prediction": "jensenshannon"}}}"#
            )
            #expect(created.status == .ok)
            // A model whose signature is unknown here (churn's files are in S3) is not checked.
            #expect(
                try await create(
                    #"{"name": "c", "model_name": "churn", "checks": [{"type": "feature_drift"}], "drift": {"methods": {"f7": "psi"}}}"#
                ).status == .ok)
        }
    }

    @Test func monitorRefusalsSpeakTheClientsTerms() async throws {
        try await withApp { client, _ in
            func message(_ body: String) async throws -> String {
                let response = try await client.post("\(Self.api)/monitors", body)
                try expectError(response, .invalidParameterValue)
                return Self.string(try json(response)["message"]) ?? ""
            }
            let kind = try await message(#"{"name": "w", "model_name": "churn", "checks": [{"type": "nope"}]}"#)
            #expect(kind.contains("checks[0].type: 'nope' is not one of feature_drift, prediction_drift, quality"), "\(kind)")
            #expect(!kind.contains("Kind") && !kind.contains(".["))
            let metric = try await message(
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "quality", "metric": "f7", "threshold": 0.5}]}"#)
            #expect(metric.contains("'f7' is not one of accuracy, precision"), "\(metric)")
            let range = try await message(
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "feature_drift", "threshold": 1e400}]}"#)
            #expect(range.contains("checks[0].threshold: the number 1e400 is out of range"), "\(range)")
            #expect(!range.contains("not valid JSON"))
            let method = try await message(
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "feature_drift"}], "drift": {"methods": {"age": "magic"}}}"#)
            #expect(method.contains("drift.methods.age: 'magic' is not one of ks, chisquare"), "\(method)")
            let type = try await message(
                #"{"name": "w", "model_name": "churn", "checks": [{"type": "feature_drift", "threshold": "high"}]}"#)
            #expect(type.contains("'checks[0].threshold' has the wrong type"), "\(type)")
        }
    }

    // MARK: - Feedback

    @Test func feedbackIsStoredSingleOrBatchedAndAllOrNothing() async throws {
        try await withApp { client, stores in
            // None of these ids is logged yet: the labels are kept as pending.
            let single = try await client.post("\(Self.api)/feedback", #"{"request_id": "r1", "label": 1}"#)
            #expect(single.status == .ok)
            #expect(try json(single)["pending"] == .number(1, raw: "1"))
            let rows = try await client.post("\(Self.api)/feedback", #"{"request_id": "r2", "labels": [1, "cat", null, true, 2.5]}"#)
            #expect(try json(rows)["pending"] == .number(1, raw: "1"))
            let batch = try await client.post(
                "\(Self.api)/feedback", #"{"feedback": [{"request_id": "r3", "label": "yes"}, {"request_id": "r1", "label": 0}]}"#)
            #expect(try json(batch)["pending"] == .number(2, raw: "2"))
            #expect(try json(batch)["accepted"] == .number(0, raw: "0"))

            let stored = try await stores.monitors.feedback(requestIDs: ["r1", "r2", "r3"])
            #expect(
                try stored.mapValues { try JSONValue.parse($0) } == [
                    "r1": .array([.number(0, raw: "0")]),
                    "r2": .array([.number(1, raw: "1"), .string("cat"), .null, .bool(true), .number(2.5, raw: "2.5")]),
                    "r3": .array([.string("yes")]),
                ])

            // One bad item refuses the whole batch: the good one before it is not stored.
            let badItems = [
                #"{"request_id": "b2", "label": {"nested": 1}}"#,
                #"{"request_id": "b2", "labels": [[1]]}"#,
                #"{"request_id": "b2", "label": 1, "labels": [1]}"#,
                #"{"request_id": "b2"}"#,
                #"{"request_id": "b2", "labels": []}"#,
                #"{"request_id": "b2", "labels": 1}"#,
                #"{"label": 1}"#,
                #"{"request_id": "", "label": 1}"#,
                #"{"request_id": "\#(String(repeating: "x", count: 129))", "label": 1}"#,
                #"{"request_id": 7, "label": 1}"#,
                #"{"request_id": "b2", "label": 1e400}"#,
                #"{"request_id": "b2", "labels": [1, -1e999]}"#,
            ]
            for item in badItems {
                let response = try await client.post(
                    "\(Self.api)/feedback", #"{"feedback": [{"request_id": "good", "label": 1}, \#(item)]}"#)
                try expectError(response, .invalidParameterValue)
            }
            try expectError(try await client.post("\(Self.api)/feedback", #"{"feedback": []}"#), .invalidParameterValue)
            try expectError(
                try await client.post("\(Self.api)/feedback", #"{"feedback": {"request_id": "good", "label": 1}}"#), .invalidParameterValue)
            try expectError(
                try await client.post("\(Self.api)/feedback", #"{"request_id": "good", "label": 1}"#, contentType: "text/plain"),
                .invalidParameterValue)
            try expectError(try await client.post("\(Self.api)/feedback", "{not json"), .badRequest)
            #expect(try await stores.monitors.feedback(requestIDs: ["good", "b2"]).isEmpty)
            // Nor did the refused requests touch earlier feedback.
            #expect(try await stores.monitors.feedback(requestIDs: ["r1"]) == ["r1": "[0]"])
        }
    }

    // MARK: - References

    @Test func referencesAreProfiledFromAnUploadedCSV() async throws {
        try await withApp { client, stores in
            func upload(_ query: String, _ csv: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "\(Self.api)/references?\(query)", method: .post, headers: [.contentType: "text/csv"],
                    body: ByteBuffer(string: csv))
            }
            let csv = "age,city,churned\n30,paris,0\n40,rome,1\n50,paris,1\n"
            try expectError(try await upload("model_name=churn&version=9", csv), .resourceDoesNotExist)
            try expectError(try await upload("model_name=ghost&version=1", csv), .resourceDoesNotExist)
            try expectError(try await upload("model_name=churn", csv), .invalidParameterValue)
            try expectError(try await upload("version=1", csv), .invalidParameterValue)
            try expectError(try await upload("model_name=churn&version=1", "a,b\n1,2\n3\n"), .badRequest)
            try expectError(try await upload("model_name=churn&version=1", ""), .badRequest)
            try expectError(try await upload("model_name=churn&version=1", "a,b\n"), .invalidParameterValue)
            try expectError(try await upload("model_name=churn&version=1&target=nope", csv), .invalidParameterValue)
            try expectError(try await upload("model_name=churn&version=1&target=churned", "churned\n1\n"), .invalidParameterValue)
            #expect(try await stores.monitors.getReference(modelName: "churn", version: "1") == nil)
            try expectError(try await client.get("\(Self.api)/references?model_name=churn&version=1"), .resourceDoesNotExist)

            let uploaded = try await upload("model_name=churn&version=1&target=churned", csv)
            #expect(uploaded.status == .ok)
            let reference = try json(uploaded)["reference"]
            #expect(reference?["model_name"] == .string("churn"))
            #expect(reference?["version"] == .string("1"))
            #expect(reference?["row_count"] == .number(3, raw: "3"))
            #expect(reference?["prediction_source"] == .string("churned"))
            guard case .array(let features)? = reference?["features"] else {
                Issue.record("no features")
                return
            }
            #expect(features.map { $0["name"] } == [.string("age"), .string("city"), .string("prediction")])
            #expect(features.map { $0["kind"] } == [.string("numeric"), .string("categorical"), .string("numeric")])
            guard case .number(let mean, _)? = features[0]["mean"] else {
                Issue.record("no mean")
                return
            }
            #expect(mean == 40)
            #expect(features[1]["distinct_count"] == .number(2, raw: "2"))
            #expect(try await stores.monitors.getReference(modelName: "churn", version: "1")?.rowCount == 3)

            let fetched = try await client.get("\(Self.api)/references?model_name=churn&version=1")
            #expect(try json(fetched)["reference"] == reference)
            // A later upload replaces the reference.
            #expect(try await upload("model_name=churn&version=1", "age\n1\n2\n3\n4\n").status == .ok)
            #expect(try await stores.monitors.getReference(modelName: "churn", version: "1")?.rowCount == 4)
        }
    }

    // MARK: - Reports

    @Test func aReportWithoutTrafficSaysWhyAndChangesNothing() async throws {
        try await withApp { client, stores in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "quiet", "model_name": "churn", "checks": [{"type": "error_rate", "threshold": 0.1}]}"#))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))

            let response = try await client.get("\(Self.api)/monitors/\(id)/report")
            #expect(response.status == .ok)
            let report = try json(response)
            #expect(report["monitor_id"] == .string(id))
            #expect(report["monitor_name"] == .string("quiet"))
            #expect(report["window"]?["requests"] == .number(0, raw: "0"))
            guard case .array(let notes)? = report["notes"] else {
                Issue.record("no notes")
                return
            }
            #expect(notes.contains { Self.string($0)?.contains("No successful request") == true }, "\(notes)")
            guard case .array(let checks)? = report["checks"] else {
                Issue.record("no checks")
                return
            }
            #expect(checks.count == 1)
            #expect(checks.first?["check"] == .string("error_rate"))
            #expect(checks.first?["firing"] == .bool(false))

            let html = try await client.get("\(Self.api)/monitors/quiet/report?format=html")
            #expect(html.status == .ok)
            #expect(html.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: html.body).contains("<html"))
            let negotiated = try await client.execute(
                uri: "\(Self.api)/monitors/\(id)/report", method: .get, headers: [.accept: "text/html,application/xhtml+xml"])
            #expect(negotiated.headers[.contentType]?.hasPrefix("text/html") == true)
            let explicitJSON = try await client.execute(
                uri: "\(Self.api)/monitors/\(id)/report?format=json", method: .get, headers: [.accept: "text/html"])
            #expect(explicitJSON.headers[.contentType]?.hasPrefix("application/json") == true)

            try expectError(try await client.get("\(Self.api)/monitors/\(id)/report?format=xml"), .invalidParameterValue)
            try expectError(try await client.get("\(Self.api)/monitors/nope/report"), .resourceDoesNotExist)
            // Reading a report is not a run.
            #expect(try await stores.monitors.getMonitor(idOrName: id).lastRunTime == nil)
            #expect(try await stores.monitors.listAlerts(monitorID: nil, state: nil, limit: 10).isEmpty)
        }
    }

    @Test func runningAMonitorOpensAlertsFromLoggedTraffic() async throws {
        _ = try writeLog([("e1", 1_000, "1", 500), ("e2", 2_000, "1", 503), ("ok", 3_000, "1", 200)])
        try await withApp { client, stores in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "errors", "model_name": "churn", "min_rows": 1, "checks": [{"type": "error_rate", "threshold": 0.5}]}"#))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            let run = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))
            #expect(run["report"]?["version"] == .string("1"))
            #expect(run["report"]?["window"]?["requests"] == .number(3, raw: "3"))
            guard case .array(let alerts)? = run["alerts"] else {
                Issue.record("no alerts")
                return
            }
            #expect(alerts.map { $0["check"] } == [.string("error_rate")])
            #expect(alerts.first?["state"] == .string("firing"))
            #expect(try await stores.monitors.listAlerts(monitorID: id, state: .firing, limit: 10).count == 1)
            // Still firing on the next run: no second alert.
            guard case .array(let again)? = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))["alerts"] else {
                Issue.record("no alerts")
                return
            }
            #expect(again.isEmpty)
            guard case .array(let listed)? = try json(try await client.get("\(Self.api)/alerts?monitor_id=errors&state=firing"))["alerts"]
            else {
                Issue.record("no alerts")
                return
            }
            #expect(listed.count == 1)
            try expectError(try await client.get("\(Self.api)/alerts?state=open"), .invalidParameterValue)
            try expectError(try await client.get("\(Self.api)/alerts?max_results=0"), .invalidParameterValue)
            try expectError(try await client.get("\(Self.api)/alerts/nope/deliveries"), .resourceDoesNotExist)
        }
    }

    /// `/metrics` follows the monitor: a check taken out resolves its alert and drops its
    /// series, and a deleted monitor takes all its series with it.
    @Test func alertSeriesFollowChecksAndMonitors() async throws {
        _ = try writeLog([("e1", 1_000, "1", 500), ("e2", 2_000, "1", 503), ("ok", 3_000, "1", 200)])
        try await withApp { client, stores in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    """
                    {"name": "errors", "model_name": "churn", "min_rows": 1,
                     "checks": [{"type": "error_rate", "threshold": 0.5}, {"type": "latency_p99", "threshold": 1}]}
                    """))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            _ = try await client.post("\(Self.api)/monitors/\(id)/run", "")
            var metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"cairn_monitor_alert_firing{monitor="errors",check="error_rate"} 1"#))
            #expect(metrics.contains(#"cairn_monitor_alert_firing{monitor="errors",check="latency_p99"} 1"#))

            let replaced = try await client.execute(
                uri: "\(Self.api)/monitors/\(id)", method: .put, headers: [.contentType: "application/json"],
                body: ByteBuffer(
                    string:
                        #"{"name": "errors", "model_name": "churn", "min_rows": 1, "checks": [{"type": "error_rate", "threshold": 0.5}]}"#))
            #expect(replaced.status == .ok)
            guard case .array(let changed)? = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))["alerts"] else {
                Issue.record("no alerts")
                return
            }
            #expect(changed.map { $0["check"] } == [.string("latency_p99")])
            #expect(changed.first?["state"] == .string("resolved"))
            #expect(try await stores.monitors.listAlerts(monitorID: id, state: .firing, limit: 10).map(\.check) == ["error_rate"])
            metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"check="error_rate"} 1"#))
            #expect(!metrics.contains(#"check="latency_p99""#))

            // A restarted server shows the alert still firing before the monitor runs again.
            let restarted = PrometheusCollectorRegistry()
            let monitoring = Monitoring(
                store: stores.monitors, registry: stores.registry, logDirectory: self.logDirectory, metrics: restarted,
                logger: Logger(label: "test"))
            try await monitoring.service.restoreGauges()
            var emitted: [UInt8] = []
            restarted.emit(into: &emitted)
            #expect(
                String(decoding: emitted, as: UTF8.self).contains(#"cairn_monitor_alert_firing{monitor="errors",check="error_rate"} 1"#))

            #expect(try await client.delete("\(Self.api)/monitors/\(id)").status == .ok)
            metrics = String(buffer: try await client.get("/metrics").body)
            #expect(!metrics.contains(#"monitor="errors""#))
        }
    }

    /// Feedback is used only when it lines up with the request's rows; an odd label does not
    /// change the task; a metric of the other task says so.
    @Test func qualityUsesOnlyFeedbackThatLinesUpWithTheRows() async throws {
        _ = try writeLog((0..<4).map { ("q\($0)", Int64($0) * 1_000, "1", 200) })
        try await withApp { client, stores in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    """
                    {"name": "quality", "model_name": "churn", "min_rows": 1,
                     "checks": [{"type": "quality", "metric": "accuracy", "threshold": 0.9}, {"type": "quality", "metric": "mae", "threshold": 1}]}
                    """))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            // Every logged request has one row predicted 1.
            let feedback =
                #"{"feedback": [{"request_id": "q0", "label": 1}, {"request_id": "q1", "label": 1}, {"request_id": "q2", "label": 0.5}, {"request_id": "q3", "labels": [1, 1]}]}"#
            let answer = try json(try await client.post("\(Self.api)/feedback", feedback))
            #expect(answer["accepted"] == .number(3, raw: "3"))
            #expect(answer["refused"] == .number(1, raw: "1"), "q3 is refused when it arrives")
            // Feedback stored while its request was not logged yet can still turn out not to
            // line up: the report says so.
            try await stores.monitors.putFeedback([Feedback(requestID: "q3", labels: "[1,1]")], at: 1)
            let report = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))["report"]
            #expect(report?["quality"]?["task"] == .string("classification"))
            #expect(report?["quality"]?["rows"] == .number(3, raw: "3"), "q3's two labels for one row are left out")
            guard case .array(let notes)? = report?["notes"] else {
                Issue.record("no notes")
                return
            }
            let text = notes.compactMap(Self.string).joined(separator: "\n")
            #expect(text.contains("Feedback for 1 request(s) was not used") && text.contains("'q3': 2 label(s) for 1 row(s)"))
            #expect(text.contains("classes the model never predicted in this window: '0.5'"))
            guard case .array(let checks)? = report?["checks"] else {
                Issue.record("no checks")
                return
            }
            let mae = checks.first { $0["check"] == .string("quality:mae") }
            #expect(Self.string(mae?["message"])?.contains("mae does not apply") == true)
        }
    }

    /// A two-class model is judged one-vs-rest: a stray label is one wrong answer, not a
    /// third class averaged in; JSON booleans mean 0/1 for a model that answers 0/1.
    @Test func aStrayLabelCountsAsOneWrongAnswerForATwoClassModel() async throws {
        _ = try writeLog(
            (0..<10).map { ("b\($0)", Int64($0) * 1_000, "1", 200) },
            outputs: { id in
                #"{"predictions": [\#(Int(id.dropFirst())! < 5 ? 1 : 0)]}"#
            })
        try await withApp { client, _ in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    """
                    {"name": "binary", "model_name": "churn", "min_rows": 1, "checks": [{"type": "quality", "metric": "f1", "threshold": 0.9}]}
                    """))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            let items = (0..<10).map { index -> String in
                let label =
                    switch index {
                    case 9: #""yes""#
                    case 8: "false"
                    case 0: "true"
                    default: index < 5 ? "1" : "0"
                    }
                return #"{"request_id": "b\#(index)", "label": \#(label)}"#
            }
            #expect(try await client.post("\(Self.api)/feedback", #"{"feedback": [\#(items.joined(separator: ","))]}"#).status == .ok)
            let report = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))["report"]
            let quality = report?["quality"]
            #expect(quality?["rows"] == .number(10, raw: "10"))
            #expect(quality?["accuracy"] == .number(0.9, raw: "0.9"))
            for metric in ["precision", "recall", "f1", "roc_auc"] {
                #expect(quality?[metric] == .number(1, raw: "1"), "\(metric)")
            }
            guard case .array(let checks)? = report?["checks"] else {
                Issue.record("no checks")
                return
            }
            #expect(checks.first?["firing"] == .bool(false))
        }
    }

    /// Feedback is checked against the log when it arrives: each item is accepted, refused
    /// (with the reason) or pending (its request is not logged yet), and only a malformed
    /// body is a 400.
    @Test func feedbackSaysPerItemWhatWasAcceptedRefusedOrPending() async throws {
        _ = try writeLog(
            [("one", 1_000, "1", 200), ("three", 2_000, "1", 200), ("failed", 3_000, "1", 500)],
            outputs: { id in
                id == "three" ? #"{"predictions": [1, 0, 1]}"# : #"{"predictions": [1]}"#
            },
            inputs: { id in
                id == "three"
                    ? #"{"dataframe_split": {"columns": ["a"], "data": [[1], [2], [3]]}}"#
                    : #"{"dataframe_split": {"columns": ["a"], "data": [[1]]}}"#
            })
        try await withApp { client, stores in
            let answer = try await client.post(
                "\(Self.api)/feedback",
                """
                {"feedback": [{"request_id": "one", "label": 1}, {"request_id": "three", "labels": [1, 0, 0]},
                              {"request_id": "failed", "label": 1}, {"request_id": "ghost", "labels": [1, 1]}]}
                """)
            #expect(answer.status == .ok)
            let body = try json(answer)
            #expect(body["accepted"] == .number(2, raw: "2"))
            #expect(body["refused"] == .number(1, raw: "1"))
            #expect(body["pending"] == .number(1, raw: "1"))
            guard case .array(let results)? = body["results"] else {
                Issue.record("no results")
                return
            }
            #expect(results.map { $0["request_id"] } == ["one", "three", "failed", "ghost"].map(JSONValue.string))
            #expect(results.map { $0["status"] } == ["accepted", "accepted", "refused", "pending"].map(JSONValue.string))
            #expect(results[0]["reason"] == nil)
            #expect(Self.string(results[2]["reason"])?.contains("status 500") == true)
            #expect(Self.string(results[3]["reason"])?.contains("not in the inference log yet") == true)

            // A label count that does not match the request's rows is refused, and leaves the
            // labels accepted earlier in place.
            let wrong = try json(try await client.post("\(Self.api)/feedback", #"{"request_id": "three", "label": 1}"#))
            #expect(wrong["refused"] == .number(1, raw: "1"))
            guard case .array(let refused)? = wrong["results"] else {
                Issue.record("no results")
                return
            }
            #expect(Self.string(refused.first?["reason"])?.contains("1 label(s) for request 'three', which had 3 row(s)") == true)
            let stored = try await stores.monitors.feedback(requestIDs: ["one", "three", "failed", "ghost"])
            #expect(stored == ["one": "[1]", "three": "[1,0,0]", "ghost": "[1,1]"])

            // One row at a time: each lands in the request's labels, in order.
            let rows = try json(
                try await client.post(
                    "\(Self.api)/feedback",
                    """
                    {"feedback": [{"request_id": "three", "row": 2, "label": 1}, {"request_id": "three", "row": 0, "label": "x"},
                                  {"request_id": "three", "row": 3, "label": 1}, {"request_id": "ghost", "row": 0, "label": 1},
                                  {"request_id": "one", "row": 0, "label": 0}]}
                    """))
            guard case .array(let rowResults)? = rows["results"] else {
                Issue.record("no results")
                return
            }
            #expect(rowResults.map { $0["status"] } == ["accepted", "accepted", "refused", "refused", "accepted"].map(JSONValue.string))
            #expect(Self.string(rowResults[2]["reason"])?.contains("Row 3 is out of range: request 'three' had 3 row(s)") == true)
            #expect(Self.string(rowResults[3]["reason"])?.contains("not in the inference log yet") == true)
            #expect(
                try await stores.monitors.feedback(requestIDs: ["three", "one", "ghost"]) == [
                    "three": #"["x",0,1]"#, "one": "[0]", "ghost": "[1,1]",
                ])
            for bad in [
                #"{"request_id": "three", "row": 1, "labels": [1]}"#, #"{"request_id": "three", "row": -1, "label": 1}"#,
                #"{"request_id": "three", "row": 0.5, "label": 1}"#, #"{"request_id": "three", "row": "1", "label": 1}"#,
            ] {
                try expectError(try await client.post("\(Self.api)/feedback", bad), .invalidParameterValue)
            }
            #expect(try await stores.monitors.feedback(requestIDs: ["three"]) == ["three": #"["x",0,1]"#])
        }
    }

    /// A request id logged for two requests (a client reused its X-Request-ID) cannot take
    /// labels: the feedback is refused with the reason, not accepted and then never used.
    @Test func feedbackForAnIDLoggedTwiceIsRefused() async throws {
        _ = try writeLog(
            [("same", 1_000, "1", 200), ("same", 2_000, "1", 200), ("once", 3_000, "1", 200)],
            outputs: { _ in
                #"{"predictions": [1]}"#
            })
        try await withApp { client, stores in
            let answer = try json(
                try await client.post(
                    "\(Self.api)/feedback",
                    """
                    {"feedback": [{"request_id": "same", "label": 1}, {"request_id": "once", "label": 0}]}
                    """))
            guard case .array(let results)? = answer["results"] else {
                Issue.record("no results")
                return
            }
            #expect(results.map { $0["status"] } == ["refused", "accepted"].map(JSONValue.string))
            #expect(Self.string(results[0]["reason"])?.contains("logged for 2 requests") == true)
            #expect(try await stores.monitors.feedback(requestIDs: ["same", "once"]) == ["once": "[0]"])
        }
    }

    /// Feedback naming an id the log never holds is reported by the monitor, once the log
    /// has had time to catch up.
    @Test func aReportNamesFeedbackThatNeverMatchedALoggedRequest() async throws {
        _ = try writeLog([("seen", 1_000, "1", 200)])
        let offset = Mutex<Int64>(0)
        try await withApp(now: { SystemClock.now() + offset.withLock { $0 } }) { client, _ in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "fb", "model_name": "churn", "min_rows": 1, "checks": [{"type": "error_rate", "threshold": 0.1}]}"#))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            _ = try await client.post(
                "\(Self.api)/feedback", #"{"feedback": [{"request_id": "seen", "label": 1}, {"request_id": "made-up", "label": 1}]}"#)
            func notes() async throws -> String {
                guard case .array(let notes)? = try json(try await client.get("\(Self.api)/monitors/\(id)/report"))["notes"] else {
                    return ""
                }
                return notes.compactMap(Self.string).joined(separator: "\n")
            }
            #expect(try await !notes().contains("made-up"), "within the grace period it may still be logged")
            offset.withLock { $0 = 120_000 }
            let later = try await notes()
            #expect(
                later.contains(
                    "1 feedback item(s) received in this window name request ids that are not in the newest 64 MiB of the inference log (e.g. 'made-up')"
                ), "\(later)")
        }
    }

    /// Refused bodies are the client's mistake: `error_rate` counts server errors only and
    /// `client_error_rate` the rest.
    @Test func clientErrorsDoNotFireTheErrorRate() async throws {
        _ = try writeLog([
            ("bad", 1_000, "1", 400), ("type", 2_000, "1", 415), ("ok", 3_000, "1", 200), ("ok2", 4_000, "1", 200),
            ("boom", 5_000, "1", 500),
        ])
        try await withApp { client, _ in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    """
                    {"name": "errors", "model_name": "churn", "min_rows": 1,
                     "checks": [{"type": "error_rate", "threshold": 0.3}, {"type": "client_error_rate", "threshold": 0.3}]}
                    """))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            let report = try json(try await client.post("\(Self.api)/monitors/\(id)/run", ""))["report"]
            #expect(report?["service"]?["error_rate"] == .number(0.2, raw: "0.2"))
            #expect(report?["service"]?["client_error_rate"] == .number(0.4, raw: "0.4"))
            guard case .array(let checks)? = report?["checks"] else {
                Issue.record("no checks")
                return
            }
            #expect(checks.map { $0["check"] } == [.string("error_rate"), .string("client_error_rate")])
            #expect(checks.map { $0["firing"] } == [.bool(false), .bool(true)])
        }
    }

    /// A 0/1 classifier's prediction chart is the share of each class, not quantile bins.
    @Test func aBinaryClassifiersPredictionHistogramIsClassShares() async throws {
        _ = try writeLog(
            (0..<10).map { ("p\($0)", Int64($0) * 100, "1", 200) },
            outputs: { id in
                #"{"predictions": [\#(Int(id.dropFirst())! < 8 ? 1 : 0)]}"#
            })
        try await withApp { client, _ in
            let csv = "a,y\n" + (0..<100).map { "\($0 % 3),\($0 < 70 ? 0 : 1)" }.joined(separator: "\n") + "\n"
            let uploaded = try await client.execute(
                uri: "\(Self.api)/references?model_name=churn&version=1&target=y", method: .post, headers: [.contentType: "text/csv"],
                body: ByteBuffer(string: csv))
            #expect(uploaded.status == .ok)
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "classes", "model_name": "churn", "min_rows": 1, "checks": [{"type": "prediction_drift"}]}"#))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            let report = try json(try await client.get("\(Self.api)/monitors/\(id)/report"))
            guard case .array(let histograms)? = report["histograms"] else {
                Issue.record("no histograms")
                return
            }
            let prediction = try #require(histograms.first { $0["feature"] == .string("prediction") })
            #expect(prediction["kind"] == .string("categorical"))
            #expect(prediction["labels"] == .array([.string("0"), .string("1")]))
            #expect(prediction["reference"] == .array([.number(0.7, raw: "0.7"), .number(0.3, raw: "0.3")]))
            #expect(prediction["current"] == .array([.number(0.2, raw: "0.2"), .number(0.8, raw: "0.8")]))
        }
    }

    // MARK: - Inference log export

    @Test func theInferenceLogExportsAsJSONLinesOrCSV() async throws {
        let start = try writeLog([("r1", 1_000, "1", 200), ("r2", 2_000, "2", 200), ("r3", 3_000, "1", 500), ("r4", 4_000, "1", 200)])
        _ = try writeLog([("other", 2_500, "1", 200)], model: "fraud")
        try await withApp { client, _ in
            func lines(_ response: TestResponse) throws -> [JSONValue] {
                try String(buffer: response.body).split(separator: "\n").map { try JSONValue.parse(String($0)) }
            }
            let all = try await client.get("\(Self.api)/inference-log?model=churn")
            #expect(all.status == .ok)
            #expect(all.headers[.contentType] == "application/x-ndjson")
            let records = try lines(all)
            #expect(records.map { $0["request_id"] } == ["r1", "r2", "r3", "r4"].map(JSONValue.string))
            #expect(records.first?["inputs"]?["dataframe_split"]?["columns"] == .array([.string("a"), .string("b")]))
            #expect(String(buffer: all.body).hasSuffix("\n"))
            #expect(try lines(try await client.get("\(Self.api)/inference-log")).count == 5)

            #expect(
                try lines(try await client.get("\(Self.api)/inference-log?model=churn&max_results=2")).map { $0["request_id"] } == [
                    .string("r3"), .string("r4"),
                ])
            #expect(
                try lines(try await client.get("\(Self.api)/inference-log?model=churn&version=1")).map { $0["request_id"] }
                    == ["r1", "r3", "r4"].map(JSONValue.string))
            let ranged = try await client.get("\(Self.api)/inference-log?model=churn&start_ms=\(start + 2_000)&end_ms=\(start + 4_000)")
            #expect(try lines(ranged).map { $0["request_id"] } == [.string("r2"), .string("r3")])
            #expect(String(buffer: try await client.get("\(Self.api)/inference-log?model=nobody").body).isEmpty)

            let csv = try await client.get("\(Self.api)/inference-log?model=churn&version=2&format=csv")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let text = String(buffer: csv.body)
            #expect(
                text == "request_id,timestamp_ms,model,version,status,latency_us,row,a,b,prediction,feedback_label\n"
                    + #"r2,\#(start + 2_000),churn,2,200,2000,0,1,"x,""y""",1,"# + "\n")
            // Feedback joins as the row's label; a refused request is one row with its status.
            #expect(
                try json(try await client.post("\(Self.api)/feedback", #"{"request_id": "r2", "label": "churned"}"#))["accepted"]
                    == .number(1, raw: "1"))
            let labelled = String(buffer: try await client.get("\(Self.api)/inference-log?model=churn&format=csv").body).split(
                separator: "\n")
            #expect(labelled.count == 5)
            #expect(labelled[2].hasSuffix(",0,1,\"x,\"\"y\"\"\",1,churned"))
            #expect(labelled[3] == "r3,\(start + 3_000),churn,1,500,2000,,,,,")

            for query in [
                "format=xml", "format=", "max_results=0", "max_results=1000001", "max_results=many", "start_ms=yesterday", "end_ms=1.5",
            ] {
                try expectError(try await client.get("\(Self.api)/inference-log?model=churn&\(query)"), .invalidParameterValue)
            }
        }
    }
}
