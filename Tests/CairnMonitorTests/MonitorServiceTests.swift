import CairnCore
import CairnStore
import Foundation
import Logging
import Prometheus
import Synchronization
import Testing

@testable import CairnMonitor

/// Keeps every log event so a test can read what was logged, with its level and metadata.
final class RecordingLogHandler: LogHandler, Sendable {
    struct Event: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let events = Mutex<[Event]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let metadata = (event.metadata ?? [:]).mapValues { "\($0)" }
        events.withLock { $0.append(Event(level: event.level, message: "\(event.message)", metadata: metadata)) }
    }
}

/// The scheduler over a real SQLite store, with an empty inference log.
@Suite struct MonitorServiceTests {
    @Test func aSpecThatDoesNotDecodeIsLoggedOncePerSpecAndTheOtherMonitorsStillRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-monitor-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: quiet)
        do {
            try await Migrations.run(on: database, logger: quiet, now: 1)
            let store = SQLMonitorStore(database: database)
            let handler = RecordingLogHandler()
            let service = MonitorService(
                store: store,
                evaluator: MonitorEvaluator(
                    store: store, registry: SQLRegistryStore(database: database),
                    log: InferenceLogReader(directory: directory.appendingPathComponent("inference").path), now: { 10_000_000 }),
                registry: PrometheusCollectorRegistry(), logger: Logger(label: "test", factory: { _ in handler }), now: { 10_000_000 })

            var broken = StoredMonitor(
                id: "m-broken", name: "broken", modelName: "churn", alias: nil,
                spec: #"{"name": "broken", "model_name": "churn", "window": "#,
                creationTime: 1, lastUpdateTime: 1, lastRunTime: nil)
            try await store.createMonitor(broken)
            try await store.createMonitor(
                StoredMonitor(
                    id: "m-ok", name: "ok", modelName: "churn", alias: nil, spec: MonitorSpec(name: "ok", modelName: "churn").encoded(),
                    creationTime: 1, lastUpdateTime: 1, lastRunTime: nil))

            func unreadable() -> [RecordingLogHandler.Event] {
                handler.events.withLock { $0 }.filter { $0.metadata["monitor_id"] == "m-broken" }
            }
            try await service.runDueMonitors()
            let logged = unreadable()
            #expect(logged.count == 1)
            #expect(logged.first?.level == .error)
            #expect(logged.first?.metadata["monitor"] == "broken")
            #expect(logged.first?.metadata["error"]?.isEmpty == false)
            #expect(try await store.getMonitor(idOrName: "m-ok").lastRunTime != nil, "a broken monitor does not stop the others")
            #expect(try await store.getMonitor(idOrName: "m-broken").lastRunTime == nil)

            // Not again at the next tick; again once the spec is replaced by another that fails.
            try await service.runDueMonitors()
            #expect(unreadable().count == 1)
            broken.spec = "[]"
            broken.lastUpdateTime = 2
            try await store.updateMonitor(broken)
            try await service.runDueMonitors()
            #expect(unreadable().count == 2)
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}
