import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// The monitor store's behaviour, written once against the protocol and run on SQLite here
/// and on PostgreSQL in `PostgresStoreTests` when a server is configured.
enum MonitorStoreScenarios {
    static func monitor(
        _ id: String, name: String, model: String = "churn", alias: String? = nil, spec: String = #"{"v":1}"#, time: Int64 = 100
    ) -> StoredMonitor {
        StoredMonitor(
            id: id, name: name, modelName: model, alias: alias, spec: spec, creationTime: time, lastUpdateTime: time, lastRunTime: nil)
    }

    static func transition(_ check: String, firing: Bool, value: Double? = 1) -> AlertTransition {
        AlertTransition(check: check, firing: firing, value: value, threshold: 0.5, message: "\(check) is \(firing ? "firing" : "fine")")
    }

    /// The webhook body the store is handed: the alert and event, so a test can tell the
    /// store posted what the closure returned.
    static let payload: @Sendable (StoredAlert, String) -> String = { alert, event in "\(event)|\(alert.check)|\(alert.state.rawValue)" }

    static let all: [(String, @Sendable (any MonitorStore) async throws -> Void)] = [
        ("monitorLifecycle", monitorLifecycle),
        ("duplicateNamesChangeNothing", duplicateNamesChangeNothing),
        ("alertsOpenOnceAndResolve", alertsOpenOnceAndResolve),
        ("deliveriesAreDueByTheirNextAttempt", deliveriesAreDueByTheirNextAttempt),
        ("deletingAMonitorRemovesItsAlertsAndDeliveries", deletingAMonitorRemovesItsAlertsAndDeliveries),
        ("feedbackUpsertsAndLooksUpInChunks", feedbackUpsertsAndLooksUpInChunks),
        ("referencesUpsert", referencesUpsert),
    ]

    static var names: [String] { all.map { $0.0 } }

    static func monitorLifecycle(_ store: any MonitorStore) async throws {
        try await store.createMonitor(monitor("id-b", name: "beta", alias: "champion"))
        try await store.createMonitor(monitor("id-a", name: "alpha", model: "fraud"))
        let byID = try await store.getMonitor(idOrName: "id-b")
        #expect(byID == monitor("id-b", name: "beta", alias: "champion"))
        #expect(try await store.getMonitor(idOrName: "beta") == byID)
        #expect(try await store.listMonitors().map(\.name) == ["alpha", "beta"])

        var updated = byID
        updated.name = "gamma"
        updated.alias = nil
        updated.spec = #"{"v":2}"#
        updated.lastUpdateTime = 200
        // Identity and history are the store's: an update cannot move them.
        updated.creationTime = 999
        updated.lastRunTime = 999
        try await store.updateMonitor(updated)
        let fetched = try await store.getMonitor(idOrName: "id-b")
        #expect(fetched.name == "gamma")
        #expect(fetched.alias == nil)
        #expect(fetched.spec == #"{"v":2}"#)
        #expect(fetched.lastUpdateTime == 200)
        #expect(fetched.creationTime == 100)
        #expect(fetched.lastRunTime == nil)
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getMonitor(idOrName: "beta") }
        // Renaming onto itself is no conflict.
        try await store.updateMonitor(fetched)

        // An id wins over another monitor's name that happens to equal it.
        try await store.createMonitor(monitor("id-c", name: "id-a"))
        #expect(try await store.getMonitor(idOrName: "id-a").name == "alpha")

        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getMonitor(idOrName: "nope") }
        await expectCairnError(.resourceDoesNotExist) { try await store.updateMonitor(monitor("nope", name: "x")) }
        await expectCairnError(.resourceDoesNotExist) { try await store.deleteMonitor(id: "nope") }
        // Delete takes an id, not a name.
        await expectCairnError(.resourceDoesNotExist) { try await store.deleteMonitor(id: "alpha") }

        try await store.deleteMonitor(id: "id-a")
        #expect(try await store.listMonitors().map(\.id) == ["id-b", "id-c"])
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getMonitor(idOrName: "alpha") }
        await expectCairnError(.resourceDoesNotExist) { try await store.deleteMonitor(id: "id-a") }
    }

    static func duplicateNamesChangeNothing(_ store: any MonitorStore) async throws {
        try await store.createMonitor(monitor("one", name: "watch", spec: #"{"first":true}"#))
        try await store.createMonitor(monitor("two", name: "other"))
        await expectCairnError(.resourceAlreadyExists) {
            try await store.createMonitor(monitor("three", name: "watch", spec: #"{"second":true}"#))
        }
        #expect(try await store.listMonitors().map(\.id) == ["two", "one"])
        #expect(try await store.getMonitor(idOrName: "watch").spec == #"{"first":true}"#)
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getMonitor(idOrName: "three") }

        var renamed = try await store.getMonitor(idOrName: "two")
        renamed.name = "watch"
        renamed.spec = #"{"changed":true}"#
        await expectCairnError(.resourceAlreadyExists) { try await store.updateMonitor(renamed) }
        let unchanged = try await store.getMonitor(idOrName: "two")
        #expect(unchanged.name == "other")
        #expect(unchanged.spec == #"{"v":1}"#)
    }

    static func alertsOpenOnceAndResolve(_ store: any MonitorStore) async throws {
        try await store.createMonitor(monitor("m1", name: "watch"))
        let hooks = ["https://b.example/hook", "https://a.example/hook", "https://b.example/hook"]

        // First evaluation: two checks start firing, one is fine.
        let opened = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "3",
            results: [
                transition("feature_drift", firing: true, value: 0.75), transition("error_rate", firing: true, value: .nan),
                transition("latency_p99", firing: false),
            ],
            webhooks: hooks, maxAttempts: 4, payload: payload, at: 1_000)
        #expect(opened.map(\.check) == ["feature_drift", "error_rate"])
        #expect(opened.allSatisfy { $0.state == .firing && $0.firedAt == 1_000 && $0.resolvedAt == nil })
        #expect(opened.allSatisfy { $0.modelName == "churn" && $0.modelVersion == "3" && $0.monitorID == "m1" })
        #expect(Set(opened.map(\.id)).count == 2)
        #expect(try await store.getMonitor(idOrName: "m1").lastRunTime == 1_000)
        let drift = try #require(opened.first)
        let errors = try #require(opened.last)
        #expect(drift.value == 0.75)
        #expect(drift.threshold == 0.5)
        #expect(drift.message == "feature_drift is firing")
        // A non-finite value is stored as unknown rather than failing the evaluation.
        #expect(errors.value == nil)

        let driftDeliveries = try await store.listDeliveries(alertID: drift.id)
        #expect(driftDeliveries.map(\.url) == ["https://a.example/hook", "https://b.example/hook"])
        for delivery in driftDeliveries {
            #expect(delivery.event == "alert.firing")
            #expect(delivery.state == .pending)
            #expect(delivery.attempts == 0)
            #expect(delivery.maxAttempts == 4)
            #expect(delivery.nextAttemptTime == 1_000)
            #expect(delivery.lastError == nil)
            #expect(delivery.payload == "alert.firing|feature_drift|firing")
        }
        #expect(try await store.listDeliveries(alertID: errors.id).count == 2)

        // Second: drift still fires (no new alert, nothing queued), errors stop (resolved).
        let second = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "3",
            results: [
                transition("feature_drift", firing: true), transition("error_rate", firing: false),
                transition("latency_p99", firing: false),
            ],
            webhooks: hooks, maxAttempts: 4, payload: payload, at: 2_000)
        #expect(second.count == 1)
        #expect(second.first?.id == errors.id)
        #expect(second.first?.state == .resolved)
        #expect(second.first?.resolvedAt == 2_000)
        #expect(second.first?.firedAt == 1_000)
        #expect(try await store.listDeliveries(alertID: drift.id).count == 2)
        let errorDeliveries = try await store.listDeliveries(alertID: errors.id)
        #expect(errorDeliveries.map(\.event) == ["alert.firing", "alert.firing", "alert.resolved", "alert.resolved"])
        #expect(
            errorDeliveries.filter { $0.event == "alert.resolved" }.allSatisfy {
                $0.payload == "alert.resolved|error_rate|resolved" && $0.nextAttemptTime == 2_000
            })

        let firing = try await store.listAlerts(monitorID: "m1", state: .firing, limit: 10)
        #expect(firing.map(\.id) == [drift.id])
        let resolved = try await store.listAlerts(monitorID: "m1", state: .resolved, limit: 10)
        #expect(resolved.map(\.id) == [errors.id])
        #expect(resolved.first?.resolvedAt == 2_000)
        #expect(try await store.listAlerts(monitorID: nil, state: nil, limit: 10).count == 2)
        #expect(try await store.listAlerts(monitorID: nil, state: nil, limit: 1).count == 1)
        #expect(try await store.listAlerts(monitorID: "other", state: nil, limit: 10).isEmpty)

        // Third: errors fire again (a new alert), with no webhooks nothing is queued; the
        // drift check was taken out of the monitor, so its open alert resolves.
        let third = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "4", results: [transition("error_rate", firing: true)],
            webhooks: [], maxAttempts: 4, payload: payload, at: 3_000)
        #expect(third.map(\.check) == ["error_rate", "feature_drift"])
        #expect(third.first?.id != errors.id)
        #expect(third.first?.modelVersion == "4")
        #expect(third.last?.id == drift.id)
        #expect(third.last?.state == .resolved && third.last?.resolvedAt == 3_000)
        #expect(try await store.listDeliveries(alertID: try #require(third.first).id).isEmpty)
        #expect(try await store.listAlerts(monitorID: "m1", state: .firing, limit: 10).map(\.check) == ["error_rate"])
        // Newest first.
        #expect(try await store.listAlerts(monitorID: "m1", state: nil, limit: 10).map(\.firedAt) == [3_000, 1_000, 1_000])
        #expect(try await store.getMonitor(idOrName: "m1").lastRunTime == 3_000)

        // An evaluation with no results still stamps the run, and resolves what still fired.
        let emptied = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: nil, results: [], webhooks: hooks, maxAttempts: 1, payload: payload,
            at: 4_000)
        #expect(emptied.map(\.check) == ["error_rate"] && emptied.allSatisfy { $0.state == .resolved })
        #expect(try await store.getMonitor(idOrName: "m1").lastRunTime == 4_000)

        await expectCairnError(.resourceDoesNotExist) {
            _ = try await store.recordEvaluation(
                monitorID: "nope", modelName: "churn", modelVersion: nil, results: [transition("x", firing: true)],
                webhooks: hooks, maxAttempts: 1, payload: payload, at: 5_000)
        }
        #expect(try await store.listAlerts(monitorID: "nope", state: nil, limit: 10).isEmpty)
    }

    static func deliveriesAreDueByTheirNextAttempt(_ store: any MonitorStore) async throws {
        try await store.createMonitor(monitor("m1", name: "watch"))
        let first = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1", results: [transition("feature_drift", firing: true)],
            webhooks: ["https://a.example/x", "https://b.example/y"], maxAttempts: 3, payload: payload, at: 1_000)
        let second = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1",
            results: [transition("feature_drift", firing: true), transition("error_rate", firing: true)],
            webhooks: ["https://a.example/x"], maxAttempts: 3, payload: payload, at: 2_000)
        let alert = try #require(first.first)
        try #require(second.count == 1)

        #expect(try await store.dueDeliveries(at: 999, limit: 10).isEmpty)
        #expect(try await store.dueDeliveries(at: 1_000, limit: 10).count == 2)
        let all = try await store.dueDeliveries(at: 2_000, limit: 10)
        #expect(all.map(\.nextAttemptTime) == [1_000, 1_000, 2_000])
        #expect(try await store.dueDeliveries(at: 2_000, limit: 2).count == 2)

        // A failed attempt is retried later.
        var retry = try #require(all.first { $0.alertID == alert.id && $0.url == "https://a.example/x" })
        retry.attempts = 1
        retry.nextAttemptTime = 5_000
        retry.lastError = "HTTP 502"
        try await store.updateDelivery(retry)
        #expect(try await store.dueDeliveries(at: 4_999, limit: 10).count == 2)
        let later = try await store.dueDeliveries(at: 5_000, limit: 10)
        #expect(later.count == 3)
        #expect(later.last == retry)

        // Delivered and given-up deliveries are never due again.
        var delivered = try #require(all.first { $0.alertID == alert.id && $0.url == "https://b.example/y" })
        delivered.state = .delivered
        delivered.attempts = 1
        try await store.updateDelivery(delivered)
        retry.state = .failed
        retry.attempts = 3
        try await store.updateDelivery(retry)
        let remaining = try await store.dueDeliveries(at: 10_000, limit: 10)
        #expect(remaining.map(\.alertID) == [try #require(second.first).id])
        let stored = try await store.listDeliveries(alertID: alert.id)
        #expect(stored.map(\.state) == [.failed, .delivered])
        #expect(stored.first?.lastError == "HTTP 502")
        #expect(stored.first?.attempts == 3)
        #expect(stored.first?.payload == "alert.firing|feature_drift|firing")

        // Updating a delivery that does not exist changes nothing.
        var ghost = retry
        ghost.alertID = "ghost"
        try await store.updateDelivery(ghost)
        await #expect(throws: CairnError.self) { try await store.listDeliveries(alertID: "ghost") }
    }

    static func deletingAMonitorRemovesItsAlertsAndDeliveries(_ store: any MonitorStore) async throws {
        try await store.createMonitor(monitor("m1", name: "doomed"))
        try await store.createMonitor(monitor("m2", name: "kept"))
        let doomed = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1", results: [transition("feature_drift", firing: true)],
            webhooks: ["https://a.example/x"], maxAttempts: 3, payload: payload, at: 1_000)
        let kept = try await store.recordEvaluation(
            monitorID: "m2", modelName: "churn", modelVersion: "1", results: [transition("feature_drift", firing: true)],
            webhooks: ["https://a.example/x"], maxAttempts: 3, payload: payload, at: 1_000)
        try await store.deleteMonitor(id: "m1")
        #expect(try await store.listAlerts(monitorID: "m1", state: nil, limit: 10).isEmpty)
        let doomedID = try #require(doomed.first).id
        await #expect(throws: CairnError.self) { try await store.listDeliveries(alertID: doomedID) }
        #expect(try await store.listAlerts(monitorID: nil, state: nil, limit: 10).map(\.id) == kept.map(\.id))
        #expect(try await store.listDeliveries(alertID: try #require(kept.first).id).count == 1)
        #expect(try await store.dueDeliveries(at: 1_000, limit: 10).map(\.alertID) == kept.map(\.id))
        // The name is free again.
        try await store.createMonitor(monitor("m3", name: "doomed"))
    }

    static func feedbackUpsertsAndLooksUpInChunks(_ store: any MonitorStore) async throws {
        #expect(try await store.feedback(requestIDs: []).isEmpty)
        try await store.putFeedback([], at: 1)
        try await store.putFeedback([Feedback(requestID: "r1", labels: "[1]"), Feedback(requestID: "r2", labels: #"["cat",null]"#)], at: 1)
        try await store.putFeedback([Feedback(requestID: "r1", labels: "[0]")], at: 2)
        // Within one batch too, the later label wins.
        try await store.putFeedback([Feedback(requestID: "r3", labels: "[5]"), Feedback(requestID: "r3", labels: "[6]")], at: 3)
        #expect(try await store.feedback(requestIDs: ["r1", "r2", "r3", "missing"]) == ["r1": "[0]", "r2": #"["cat",null]"#, "r3": "[6]"])

        // More ids than one statement may bind: every chunk is asked.
        let ids = (0..<1_234).map { "req-\($0)" }
        try await store.putFeedback(
            ids.enumerated().filter { $0.offset % 3 == 0 }.map { Feedback(requestID: $0.element, labels: "[\($0.offset)]") }, at: 4)
        let found = try await store.feedback(requestIDs: ids + ["r1"])
        #expect(found.count == 412 + 1)
        #expect(found["req-0"] == "[0]")
        #expect(found["req-1233"] == "[1233]")
        #expect(found["req-1232"] == nil)
        #expect(found["r1"] == "[0]")

        // Far more ids than stored feedback (a monitor's window of one-row requests): the same answer.
        let many = (0..<40_000).map { "many-\($0)" } + ["req-3", "r2"] + ids.prefix(6)
        #expect(try await store.feedback(requestIDs: many) == ["req-3": "[3]", "r2": #"["cat",null]"#, "req-0": "[0]"])
    }

    static func referencesUpsert(_ store: any MonitorStore) async throws {
        #expect(try await store.getReference(modelName: "churn", version: "1") == nil)
        let first = StoredReference(modelName: "churn", version: "1", profile: #"{"features":[]}"#, rowCount: 10, creationTime: 100)
        try await store.putReference(first)
        try await store.putReference(StoredReference(modelName: "churn", version: "2", profile: "{}", rowCount: 1, creationTime: 100))
        #expect(try await store.getReference(modelName: "churn", version: "1") == first)
        let replaced = StoredReference(modelName: "churn", version: "1", profile: #"{"features":[1]}"#, rowCount: 20, creationTime: 200)
        try await store.putReference(replaced)
        #expect(try await store.getReference(modelName: "churn", version: "1") == replaced)
        #expect(try await store.getReference(modelName: "churn", version: "2")?.rowCount == 1)
        #expect(try await store.getReference(modelName: "fraud", version: "1") == nil)
    }
}

@Suite struct MonitorStoreTests {
    static func withStore(_ body: (any MonitorStore) async throws -> Void) async throws {
        let fixture = try await StoreFixture.make()
        do {
            try await body(SQLMonitorStore(database: fixture.database))
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    @Test func monitorLifecycle() async throws {
        try await Self.withStore(MonitorStoreScenarios.monitorLifecycle)
    }

    @Test func duplicateNamesChangeNothing() async throws {
        try await Self.withStore(MonitorStoreScenarios.duplicateNamesChangeNothing)
    }

    @Test func alertsOpenOnceAndResolve() async throws {
        try await Self.withStore(MonitorStoreScenarios.alertsOpenOnceAndResolve)
    }

    @Test func deliveriesAreDueByTheirNextAttempt() async throws {
        try await Self.withStore(MonitorStoreScenarios.deliveriesAreDueByTheirNextAttempt)
    }

    @Test func deletingAMonitorRemovesItsAlertsAndDeliveries() async throws {
        try await Self.withStore(MonitorStoreScenarios.deletingAMonitorRemovesItsAlertsAndDeliveries)
    }

    @Test func feedbackUpsertsAndLooksUpInChunks() async throws {
        try await Self.withStore(MonitorStoreScenarios.feedbackUpsertsAndLooksUpInChunks)
    }

    @Test func referencesUpsert() async throws {
        try await Self.withStore(MonitorStoreScenarios.referencesUpsert)
    }
}

/// In the PostgreSQL suite, whose tests are serialized, because each wipes the one database.
extension PostgresStoreTests {
    @Test(arguments: MonitorStoreScenarios.names)
    func monitorStore(_ scenario: String) async throws {
        try await PostgresFixture.withFreshDatabase { database in
            let body = try #require(MonitorStoreScenarios.all.first { $0.0 == scenario }?.1)
            try await body(SQLMonitorStore(database: database))
        }
    }
}
