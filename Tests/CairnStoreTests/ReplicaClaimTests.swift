import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// What keeps once-only work once even when two replicas both think they lead: scheduled
/// monitor evaluations keyed by their slot, and outbox deliveries claimed by a row update.
/// Written once, run on SQLite and on PostgreSQL.
enum ReplicaClaimScenarios {
    static let all: [(String, @Sendable (any MetadataDatabase) async throws -> Void)] = [
        ("aMonitorSlotIsRecordedOnce", aMonitorSlotIsRecordedOnce),
        ("anAlertDeliveryAttemptIsClaimedOnce", anAlertDeliveryAttemptIsClaimedOnce),
        ("aWebhookDeliveryAttemptIsClaimedOnce", aWebhookDeliveryAttemptIsClaimedOnce),
    ]

    static var names: [String] { all.map { $0.0 } }

    static func aMonitorSlotIsRecordedOnce(_ database: any MetadataDatabase) async throws {
        let store = SQLMonitorStore(database: database)
        try await store.createMonitor(MonitorStoreScenarios.monitor("m1", name: "m"))
        let firing = [MonitorStoreScenarios.transition("drift", firing: true)]
        let opened = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1", results: firing, webhooks: ["http://hook"], maxAttempts: 3,
            payload: MonitorStoreScenarios.payload, scheduledTime: 60_000, at: 60_500)
        #expect(opened.count == 1)
        // The same slot again (a second leader): refused, and nothing it would have done is done.
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.recordEvaluation(
                monitorID: "m1", modelName: "churn", modelVersion: "1", results: [MonitorStoreScenarios.transition("drift", firing: false)],
                webhooks: ["http://hook"], maxAttempts: 3, payload: MonitorStoreScenarios.payload, scheduledTime: 60_000, at: 60_700)
        }
        #expect(try await store.getMonitor(idOrName: "m1").lastRunTime == 60_500)
        #expect(try await store.listAlerts(monitorID: "m1", state: .firing, limit: 10).count == 1)
        #expect(try await store.dueDeliveries(at: 100_000, limit: 10).count == 1)
        // The next slot, and a manual run (no slot), are recorded.
        let resolved = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1", results: [MonitorStoreScenarios.transition("drift", firing: false)],
            webhooks: ["http://hook"], maxAttempts: 3, payload: MonitorStoreScenarios.payload, scheduledTime: 120_000, at: 120_100)
        #expect(resolved.map(\.state) == [.resolved])
        _ = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: "1", results: [], webhooks: [], maxAttempts: 3,
            payload: MonitorStoreScenarios.payload, at: 120_200)
        #expect(try await store.getMonitor(idOrName: "m1").lastRunTime == 120_200)
        // Deleting the monitor takes its slots with it.
        try await store.deleteMonitor(id: "m1")
        let slots = try await database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM cairn_monitor_evaluations").first()?.decode(column: "n", as: Int.self)
        }
        #expect(slots == 0)
    }

    static func anAlertDeliveryAttemptIsClaimedOnce(_ database: any MetadataDatabase) async throws {
        let store = SQLMonitorStore(database: database)
        try await store.createMonitor(MonitorStoreScenarios.monitor("m1", name: "m"))
        _ = try await store.recordEvaluation(
            monitorID: "m1", modelName: "churn", modelVersion: nil, results: [MonitorStoreScenarios.transition("drift", firing: true)],
            webhooks: ["http://hook"], maxAttempts: 3, payload: MonitorStoreScenarios.payload, at: 1_000)
        let read = try #require(try await store.dueDeliveries(at: 1_000, limit: 10).first)
        // Two replicas read the same row; the first claim wins, the second finds it changed.
        #expect(try await store.claimDelivery(read, until: 40_000))
        #expect(try await !store.claimDelivery(read, until: 40_000))
        // Claimed, it is not due until the claim runs out (a claimant that died).
        #expect(try await store.dueDeliveries(at: 39_999, limit: 10).isEmpty)
        let again = try #require(try await store.dueDeliveries(at: 40_000, limit: 10).first)
        #expect(try await store.claimDelivery(again, until: 80_000))
        // A delivered one is never claimed again.
        var done = again
        done.nextAttemptTime = 80_000
        done.attempts = 1
        done.state = .delivered
        try await store.updateDelivery(done)
        #expect(try await !store.claimDelivery(done, until: 120_000))
    }

    static func aWebhookDeliveryAttemptIsClaimedOnce(_ database: any MetadataDatabase) async throws {
        let store = SQLWebhookStore(database: database)
        let event = WebhookEvent(.modelVersion, .created)
        try await store.createWebhook(
            Webhook(
                id: "w1", name: "hook", description: nil, url: "https://example.com/h", events: [event], status: .active, secret: "s",
                creationTimestamp: 1, lastUpdatedTimestamp: 1))
        #expect(try await store.enqueue(event: event, payload: "{}", maxAttempts: 3, at: 100) == 1)
        let read = try #require(try await store.dueDeliveries(at: 100, limit: 10).first?.delivery)
        #expect(try await store.claimDelivery(read, until: 35_100))
        #expect(try await !store.claimDelivery(read, until: 35_100))
        #expect(try await store.dueDeliveries(at: 35_099, limit: 10).isEmpty)
        #expect(try await store.dueDeliveries(at: 35_100, limit: 10).map(\.delivery.id) == [read.id])
    }
}

@Suite struct ReplicaClaimTests {
    @Test(arguments: ReplicaClaimScenarios.names)
    func onSQLite(_ scenario: String) async throws {
        let fixture = try await StoreFixture.make()
        do {
            let body = try #require(ReplicaClaimScenarios.all.first { $0.0 == scenario }?.1)
            try await body(fixture.database)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    @Test(.enabled(if: FreshPostgresDatabase.serverURL != nil), arguments: ReplicaClaimScenarios.names)
    func onPostgres(_ scenario: String) async throws {
        let body = try #require(ReplicaClaimScenarios.all.first { $0.0 == scenario }?.1)
        try await FreshPostgresDatabase.withDatabase { database in try await body(database) }
    }
}
