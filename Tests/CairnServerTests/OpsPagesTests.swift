import CairnArtifacts
import CairnCore
import CairnMonitor
import CairnPipelines
import CairnStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

@testable import CairnServer

/// The model registry, monitoring and pipeline pages over HTTP, against real SQLite stores, a
/// real artifact root, inference log and pipeline service of the test's own.
@Suite final class OpsPagesTests: Sendable {
    let base: String
    static let hostile = "<img src=x onerror=alert(1)>"
    static let script = "<script>alert(1)</script>"

    struct Stores: Sendable {
        let registry: SQLRegistryStore
        let tracking: SQLTrackingStore
        let monitors: SQLMonitorStore
        let promotions: SQLPromotionLogStore
        let pipelines: PipelineService
        let base: String
    }

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ops-pages-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    func withApp(_ body: @Sendable (any TestClientProtocol, Stores) async throws -> Void) async throws {
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: base + "/cairn.db", logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let registry = SQLRegistryStore(database: database)
        let tracking = SQLTrackingStore(database: database)
        let monitors = SQLMonitorStore(database: database)
        let promotionLog = SQLPromotionLogStore(database: database)
        let artifacts = try LocalArtifactRepository(rootDirectory: base + "/artifacts", configuration: .init(durableWrites: false))
        let metrics = PrometheusCollectorRegistry()
        let monitoring = Monitoring(
            store: monitors, registry: registry, logDirectory: base + "/inference", metrics: metrics, logger: logger)
        let promotions = Promotions(
            store: promotionLog, registry: registry, serverURI: "http://127.0.0.1:1", modelCacheDirectory: base + "/gate", logger: logger)
        let pipelines = try await makePipelineService(
            ServerConfiguration(dataDirectory: base), database: database, tracking: tracking, artifacts: artifacts, gate: promotions.gate,
            logger: logger)
        let router = buildRouter(
            store: tracking, registryStore: registry, artifacts: artifacts, monitoring: monitoring, promotions: promotions,
            pipelines: pipelines, registry: metrics)
        let stores = Stores(
            registry: registry, tracking: tracking, monitors: monitors, promotions: promotionLog, pipelines: pipelines, base: base)
        do {
            try await Application(router: router, logger: logger).test(.router) { client in try await body(client, stores) }
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func expectPage(
        _ response: TestResponse, _ status: HTTPResponse.Status = .ok, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType]?.hasPrefix("text/html") == true, sourceLocation: sourceLocation)
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// No markup a client chose survives: what it sent comes back as text.
    static func expectInert(_ page: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(!page.contains("<img src=x"), sourceLocation: sourceLocation)
        #expect(!page.contains("<script>alert"), sourceLocation: sourceLocation)
    }

    // MARK: - Models

    @Test func theModelListSearchesByNameAndPages() async throws {
        try await withApp { client, stores in
            for index in 0..<52 {
                _ = try await stores.registry.createRegisteredModel(name: String(format: "churn-%02d", index), tags: [], description: nil)
            }
            _ = try await stores.registry.createRegisteredModel(name: "fraud", tags: [], description: "finds fraud")
            _ = try await stores.registry.createRegisteredModel(name: Self.hostile, tags: [], description: Self.script)

            let all = try await client.get("/models")
            Self.expectPage(all)
            let first = Self.html(all)
            #expect(first.contains(">churn-00<"))
            #expect(!first.contains(">fraud<")) // page 2: 50 a page, by name
            #expect(first.contains("href=\"/models?page=2\""))
            // "<" sorts before letters: the hostile name is on the first page.
            #expect(first.contains("&lt;img src=x onerror=alert(1)&gt;"))
            Self.expectInert(first)
            let second = Self.html(try await client.get("/models?page=2"))
            #expect(second.contains(">fraud<") && second.contains("finds fraud"))
            Self.expectInert(second)

            let searched = Self.html(try await client.get("/models?q=RAU"))
            #expect(searched.contains(">fraud<"))
            #expect(!searched.contains("churn-00"))
            #expect(searched.contains("value=\"RAU\""))
            let none = Self.html(try await client.get("/models?q=%3Cscript%3E"))
            #expect(none.contains("No registered model"))
            Self.expectInert(none)
            Self.expectPage(try await client.get("/models?page=0"), .badRequest)
        }
    }

    /// A version logged by a pipeline stage's run, with a dataset input.
    func registerLineage(_ stores: Stores) async throws -> (experimentID: String, runID: String, pipelineRunID: String) {
        let experiment = try await stores.tracking.createExperiment(name: "pipeline/train", artifactLocation: nil, tags: [])
        let pipelineRun = try await stores.tracking.createRun(
            CreateRun(
                experimentID: experiment, userID: "cairn", runName: "train", startTime: 1,
                tags: [KeyValue(key: "cairn.pipeline", value: "train")]))
        let stageRun = try await stores.tracking.createRun(
            CreateRun(
                experimentID: experiment, userID: "cairn", runName: "fit", startTime: 2,
                tags: [
                    KeyValue(key: "cairn.pipeline", value: "train"), KeyValue(key: "cairn.stage", value: "fit"),
                    KeyValue(key: "mlflow.parentRunId", value: pipelineRun.info.runID),
                ]))
        try await stores.tracking.logInputs(
            runID: stageRun.info.runID,
            datasets: [DatasetInput(tags: [], dataset: Dataset(name: "iris-train", digest: "d1g3st", sourceType: "local", source: "/d"))],
            models: [])
        _ = try await stores.registry.createRegisteredModel(
            name: "iris", tags: [KeyValue(key: "team", value: Self.script)], description: nil)
        _ = try await stores.registry.createModelVersion(
            CreateModelVersion(
                name: "iris", source: "s3://b/iris/1", runID: stageRun.info.runID, tags: [KeyValue(key: "k", value: Self.hostile)]))
        _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "iris", source: "s3://b/iris/2"))
        try await stores.registry.setRegisteredModelAlias(name: "iris", alias: "champion", version: "1")
        return (experiment, stageRun.info.runID, pipelineRun.info.runID)
    }

    @Test func aModelPageListsVersionsWithAliasesRunDatasetAndPipelineRun() async throws {
        try await withApp { client, stores in
            let lineage = try await registerLineage(stores)
            let response = try await client.get("/models/iris")
            Self.expectPage(response)
            let page = Self.html(response)
            #expect(page.contains("href=\"/models/iris/versions/1\""))
            #expect(page.contains("href=\"/models/iris/versions/2\""))
            #expect(page.contains("@champion"))
            #expect(page.contains("href=\"/experiments/\(lineage.experimentID)/runs/\(lineage.runID)\""))
            #expect(page.contains("iris-train") && page.contains("d1g3st"))
            #expect(page.contains("href=\"/pipelines/train/runs/\(lineage.pipelineRunID)\""))
            #expect(page.contains("None") && page.contains("READY"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            Self.expectInert(page)
            // Newest version first in the versions table.
            let table = try #require(page.range(of: "<table class=\"data versions\""))
            let newer = try #require(page.range(of: "/models/iris/versions/2\"", range: table.upperBound..<page.endIndex))
            let older = try #require(page.range(of: "/models/iris/versions/1\"", range: table.upperBound..<page.endIndex))
            #expect(newer.lowerBound < older.lowerBound)
        }
    }

    @Test func unknownModelsAndVersionsAreHTMLNotFoundPages() async throws {
        try await withApp { client, stores in
            _ = try await stores.registry.createRegisteredModel(name: "iris", tags: [], description: nil)
            for path in ["/models/nope", "/models/iris/versions/7", "/models/nope/versions/1", "/models/%3Cimg%20src%3Dx%3E"] {
                let response = try await client.get(path)
                Self.expectPage(response, .notFound)
                Self.expectInert(Self.html(response))
            }
            Self.expectPage(try await client.get("/models/iris/versions/x"), .badRequest)
        }
    }

    /// The double-submit cookie and field, as a browser sends them after loading a page.
    static func formHeaders(token: String?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let token { headers[.cookie] = "cairn_csrf=\(token)" }
        return headers
    }

    @Test func theAliasFormMovesAnAliasOnlyWithItsToken() async throws {
        try await withApp { client, stores in
            _ = try await registerLineage(stores)
            let token = String(repeating: "ab", count: 16)
            // Without the cookie, or with a field that does not match it: refused, nothing moves.
            for (cookie, field) in [(nil, token), (token, String(repeating: "cd", count: 16)), (token, "")] as [(String?, String)] {
                let refused = try await client.execute(
                    uri: "/models/iris/alias", method: .post, headers: Self.formHeaders(token: cookie),
                    body: ByteBuffer(string: "csrf_token=\(field)&alias=champion&version=2"))
                Self.expectPage(refused, .forbidden)
            }
            #expect(try await stores.registry.getModelVersion(name: "iris", alias: "champion").version == "1")

            let moved = try await client.execute(
                uri: "/models/iris/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=champion&version=2"))
            #expect(moved.status == .seeOther)
            #expect(moved.headers[.location] == "/models/iris")
            #expect(try await stores.registry.getModelVersion(name: "iris", alias: "champion").version == "2")

            // From the version page, back to it; the store's validation answers as the API's would.
            let fromVersion = try await client.execute(
                uri: "/models/iris/versions/1/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=previous&version=1"))
            #expect(fromVersion.status == .seeOther)
            #expect(fromVersion.headers[.location] == "/models/iris/versions/1")
            #expect(try await stores.registry.getModelVersion(name: "iris", alias: "previous").version == "1")
            let missing = try await client.execute(
                uri: "/models/iris/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=champion&version=9"))
            Self.expectPage(missing, .notFound)
            #expect(Self.html(missing).contains("notice error"))
            #expect(Self.html(missing).contains("value=\"9\""))
            let reserved = try await client.execute(
                uri: "/models/iris/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=latest&version=1"))
            Self.expectPage(reserved, .badRequest)
            let hostile = try await client.execute(
                uri: "/models/iris/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&version=1"))
            Self.expectPage(hostile, .badRequest)
            Self.expectInert(Self.html(hostile))
            #expect(try await stores.registry.getModelVersion(name: "iris", alias: "champion").version == "2")

            let deleted = try await client.execute(
                uri: "/models/iris/alias/delete", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=previous"))
            #expect(deleted.status == .seeOther)
            #expect(try await stores.registry.getRegisteredModel(name: "iris").aliases.map(\.alias) == ["champion"])
            let unknownModel = try await client.execute(
                uri: "/models/nope/alias", method: .post, headers: Self.formHeaders(token: token),
                body: ByteBuffer(string: "csrf_token=\(token)&alias=a&version=1"))
            Self.expectPage(unknownModel, .notFound)
        }
    }

    @Test func aVersionPageShowsSignatureExampleMLmodelPromotionsAndMonitors() async throws {
        try await withApp { client, stores in
            let run = try await stores.tracking.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let model = stores.base + "/artifacts/0/\(run.info.runID)/artifacts/model"
            try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
            try """
            artifact_path: model
            flavors:
              python_function:
                loader_module: mlflow.sklearn
            saved_input_example_info:
              artifact_path: input_example.json
              type: dataframe
            signature:
              inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "string", "name": "\(Self.hostile)", "required": false}]'
              outputs: '[{"type": "long", "required": true}]'
            """.write(toFile: model + "/MLmodel", atomically: true, encoding: .utf8)
            try #"{"columns": ["sepal_length"], "data": [[5.1]]}"#.write(
                toFile: model + "/input_example.json", atomically: true, encoding: .utf8)
            _ = try await stores.registry.createRegisteredModel(name: "iris", tags: [], description: nil)
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "iris", source: "mlflow-artifacts:/0/\(run.info.runID)/artifacts/model", runID: run.info.runID))
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "iris", source: "s3://elsewhere/2"))
            _ = try await stores.promotions.recordDecision(
                PromotionRecord(
                    modelName: "iris", kind: .decision, outcome: .promoted, alias: "champion", candidateVersion: "1", championVersion: nil,
                    candidateMetrics: ["accuracy_score": 0.93], time: 5),
                keepPreviousAs: nil)
            try await stores.monitors.createMonitor(
                StoredMonitor(
                    id: "m1", name: "iris-watch", modelName: "iris", alias: "champion",
                    spec: #"{"name": "iris-watch", "model_name": "iris", "alias": "champion", "checks": [{"type": "error_rate"}]}"#,
                    creationTime: 1, lastUpdateTime: 1, lastRunTime: nil))
            try await stores.monitors.createMonitor(
                StoredMonitor(
                    id: "m2", name: "other-alias", modelName: "iris", alias: "shadow",
                    spec: #"{"name": "other-alias", "model_name": "iris", "alias": "shadow", "checks": [{"type": "error_rate"}]}"#,
                    creationTime: 1, lastUpdateTime: 1, lastRunTime: nil))

            let response = try await client.get("/models/iris/versions/1")
            Self.expectPage(response)
            let page = Self.html(response)
            #expect(page.contains("<td>sepal_length</td><td>double</td><td>yes</td>"))
            #expect(page.contains("<td>long</td>")) // the output column
            #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(page.contains("&quot;sepal_length&quot;")) // the input example
            #expect(page.contains("loader_module: mlflow.sklearn")) // the MLmodel text
            #expect(page.contains("promoted") && page.contains("accuracy_score 0.93"))
            #expect(page.contains("@champion: unset → 1"))
            #expect(page.contains("href=\"/monitors/iris-watch\""))
            #expect(!page.contains("other-alias"))
            #expect(page.contains("name=\"csrf_token\""))
            Self.expectInert(page)

            // A version whose files this server does not hold says so.
            let elsewhere = Self.html(try await client.get("/models/iris/versions/2"))
            #expect(elsewhere.contains("cannot be shown"))
            #expect(!elsewhere.contains("href=\"/monitors/iris-watch\""))
        }
    }

    // MARK: - Monitors

    @Test func monitorPagesShowStateAlertsRequestsAndAFramedReport() async throws {
        try await withApp { client, stores in
            _ = try await stores.registry.createRegisteredModel(name: "churn", tags: [], description: nil)
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "churn", source: "s3://b/c/1"))
            let name = "watch-\(Self.hostile)"
            let spec = MonitorSpec(
                name: name, modelName: "churn", checks: [.init(type: .errorRate, threshold: 0.1)], webhooks: ["http://127.0.0.1:9/hook"])
            try await stores.monitors.createMonitor(
                StoredMonitor(
                    id: "m1", name: name, modelName: "churn", alias: nil, spec: spec.encoded(), creationTime: 1, lastUpdateTime: 1,
                    lastRunTime: 1_000))
            _ = try await stores.monitors.recordEvaluation(
                monitorID: "m1", modelName: "churn", modelVersion: "1",
                results: [AlertTransition(check: "error_rate", firing: true, value: 0.5, threshold: 0.1, message: "half \(Self.script)")],
                webhooks: spec.webhooks, maxAttempts: 3, payload: { _, _ in "{}" }, at: 2_000)
            let writer = try InferenceLogWriter(options: .init(directory: stores.base + "/inference"), logger: Logger(label: "test"))
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
            for index in 0..<30 {
                writer.record(
                    InferenceRecord(
                        requestID: "req-\(index)", timestamp: start + Int64(index), model: "churn", version: "1",
                        inputs: Array(#"{"inputs": [[\#(index)]], "note": "\#(Self.script)"}"#.utf8),
                        outputs: Array(#"{"predictions": [1]}"#.utf8),
                        latencyMicroseconds: 2_000, status: index == 29 ? 500 : 200))
            }
            try writer.flush()

            let list = try await client.get("/monitors")
            Self.expectPage(list)
            let listed = Self.html(list)
            #expect(listed.contains("href=\"/monitors/watch-%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E\""))
            #expect(listed.contains("1 firing"))
            #expect(listed.contains("error_rate"))
            Self.expectInert(listed)

            let encoded = "watch-%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
            let response = try await client.get("/monitors/\(encoded)")
            Self.expectPage(response)
            let page = Self.html(response)
            #expect(page.contains("half &lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.contains("http://127.0.0.1:9/hook") && page.contains("alert.firing") && page.contains("pending"))
            #expect(page.contains("<iframe class=\"report\" src=\"/monitors/\(encoded)/report\" sandbox"))
            // The newest 25 requests, newest first.
            #expect(page.contains("req-29") && page.contains("req-5") && !page.contains("req-4<"))
            let newest = try #require(page.range(of: "req-29"))
            let older = try #require(page.range(of: "req-28"))
            #expect(newest.lowerBound < older.lowerBound)
            Self.expectInert(page)

            let report = try await client.get("/monitors/\(encoded)/report")
            #expect(report.status == .ok)
            let policy = report.headers[.contentSecurityPolicy] ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("sandbox") && policy.contains("frame-ancestors 'self'"))
            #expect(Self.html(report).contains("<!DOCTYPE html>"))
            Self.expectInert(Self.html(report))

            Self.expectPage(try await client.get("/monitors/nope"), .notFound)
            Self.expectPage(try await client.get("/monitors/nope/report"), .notFound)
        }
    }

    // MARK: - Pipelines

    /// `prepare` → `train` → `evaluate`, and `prepare` → `evaluate`; one stage's name is markup.
    func registerPipeline(_ stores: Stores) async throws -> String {
        let project = stores.base + "/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try """
        stages:
          prepare:
            cmd: echo p > prepared.txt
            outs: [prepared.txt]
          "\(Self.hostile)":
            cmd: cat prepared.txt > model.txt
            deps: [prepared.txt]
            outs: [model.txt]
          evaluate:
            cmd: cat model.txt prepared.txt > eval.txt
            deps: [model.txt, prepared.txt]
            outs: [eval.txt]
        """.write(toFile: project + "/dvc.yaml", atomically: true, encoding: .utf8)
        let (pipeline, _) = try await stores.pipelines.register(projectDirectory: project)
        return pipeline.name
    }

    @Test func pipelinePagesDrawTheDAGAndShowRunsStagesAndLogs() async throws {
        try await withApp { client, stores in
            let name = try await registerPipeline(stores)
            let store = stores.pipelines.store
            try await store.createRun(
                StoredPipelineRun(
                    id: "run1", pipeline: name, status: .failed, triggerKind: "schedule", triggerEventID: "event-7", options: "{}",
                    reason: "stage evaluate failed", startTime: 1_000, endTime: 9_000, resumedFrom: nil),
                limit: 10)
            try await store.putStageRun(
                StoredStageRun(
                    runID: "run1", stage: "prepare", status: .finished, cacheHit: true, attempts: 1, startTime: 1_000, endTime: 1_500))
            try await store.putStageRun(
                StoredStageRun(runID: "run1", stage: Self.hostile, status: .finished, attempts: 2, startTime: 1_500, endTime: 4_000))
            try await store.putStageRun(
                StoredStageRun(
                    runID: "run1", stage: "evaluate", status: .failed, attempts: 1, reason: "exited with status 1", startTime: 4_000,
                    endTime: 9_000))
            let logs = stores.pipelines.engine.logPaths(runID: "run1", stage: "evaluate")
            try FileManager.default.createDirectory(
                atPath: (logs.stdout as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "evaluating \(Self.script)\n".write(toFile: logs.stdout, atomically: true, encoding: .utf8)
            try "Traceback: boom\n".write(toFile: logs.stderr, atomically: true, encoding: .utf8)

            let list = Self.html(try await client.get("/pipelines"))
            #expect(list.contains("href=\"/pipelines/\(name)\"") && list.contains("href=\"/pipelines/\(name)/runs/run1\""))
            #expect(list.contains("failed") && list.contains("schedule"))

            let response = try await client.get("/pipelines/\(name)")
            Self.expectPage(response)
            let page = Self.html(response)
            #expect(Self.count("<rect class=\"dag-box\"", in: page) == 3)
            #expect(Self.count("class=\"dag-edge\"", in: page) == 3)
            #expect(Self.count("class=\"dag-cache-hit\"", in: page) == 1)
            #expect(page.contains("data-state=\"FAILED\""))
            #expect(page.contains("event-7") && page.contains("stage evaluate failed"))
            Self.expectInert(page)

            let run = try await client.get("/pipelines/\(name)/runs/run1")
            Self.expectPage(run)
            let runPage = Self.html(run)
            #expect(runPage.contains("evaluating &lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(runPage.contains("Traceback: boom"))
            #expect(runPage.contains("exited with status 1"))
            #expect(runPage.contains("<td class=\"num\">2</td>")) // attempts
            #expect(runPage.contains("hit"))
            Self.expectInert(runPage)

            for path in ["/pipelines/nope", "/pipelines/\(name)/runs/nope", "/pipelines/other/runs/run1"] {
                Self.expectPage(try await client.get(path), .notFound)
            }
        }
    }

    @Test func aPipelineRunPageListsItsGatesPromotions() async throws {
        try await withApp { client, stores in
            let project = stores.base + "/gated"
            try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
            try """
            stages:
              gate:
                gate:
                  model: iris
                  candidate: "2"
                  data: holdout.csv
                  target: y
                  metrics:
                    accuracy_score: {threshold: 0.5, greater_is_better: true}
            """.write(toFile: project + "/cairn.yaml", atomically: true, encoding: .utf8)
            try "x,y\n1,0\n".write(toFile: project + "/holdout.csv", atomically: true, encoding: .utf8)
            let (pipeline, _) = try await stores.pipelines.register(projectDirectory: project)
            try await stores.pipelines.store.createRun(
                StoredPipelineRun(
                    id: "gated1", pipeline: pipeline.name, status: .finished, triggerKind: "manual", triggerEventID: nil, options: "{}",
                    reason: nil, startTime: 10, endTime: 20, resumedFrom: nil),
                limit: 10)
            _ = try await stores.registry.createRegisteredModel(name: "iris", tags: [], description: nil)
            for _ in 0..<2 { _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "iris", source: "s3://b/i")) }
            for (run, version) in [("gated1", "2"), ("another", "1")] {
                _ = try await stores.promotions.recordDecision(
                    PromotionRecord(
                        modelName: "iris", kind: .decision, outcome: .rejected, alias: "champion", candidateVersion: version,
                        championVersion: nil, failures: ["accuracy_score 0.4 < 0.5 (run \(run))"], pipelineRunID: run, time: 15),
                    keepPreviousAs: nil)
            }
            let page = Self.html(try await client.get("/pipelines/\(pipeline.name)/runs/gated1"))
            #expect(page.contains("accuracy_score 0.4 &lt; 0.5 (run gated1)"))
            #expect(!page.contains("(run another)"))
        }
    }
}
