import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// Trigger events and MLflow webhooks, written once against the protocols and run on SQLite
/// here and on PostgreSQL in `PostgresStoreTests` when a server is configured.
enum TriggerStoreScenarios {
    static func event(_ id: String, pipeline: String = "train", key: String, at time: Int64 = 10) -> StoredTriggerEvent {
        StoredTriggerEvent(id: id, pipeline: pipeline, kind: "schedule", dedupeKey: key, payload: #"{"tick":"t"}"#, receivedAt: time)
    }

    static let all: [(String, @Sendable (any MetadataDatabase) async throws -> Void)] = [
        ("duplicateKeysAreOneEvent", duplicateKeysAreOneEvent),
        ("pendingEventsStartOnce", pendingEventsStartOnce),
        ("webhookOutboxFollowsSubscriptions", webhookOutboxFollowsSubscriptions),
    ]

    static var names: [String] { all.map { $0.0 } }

    static func duplicateKeysAreOneEvent(_ database: any MetadataDatabase) async throws {
        let store = SQLTriggerEventStore(database: database)
        let first = try await store.insertIfNew(event("e1", key: "schedule:2026-01-01T00:00Z"))
        #expect(first.inserted)
        let again = try await store.insertIfNew(event("e2", key: "schedule:2026-01-01T00:00Z", at: 20))
        #expect(!again.inserted)
        #expect(again.event.id == "e1")
        #expect(again.event.receivedAt == 10)
        // The key is per pipeline: another pipeline's event with the same key is its own.
        #expect(try await store.insertIfNew(event("e3", pipeline: "other", key: "schedule:2026-01-01T00:00Z")).inserted)
        #expect(try await store.pending(limit: 10).map(\.id).sorted() == ["e1", "e3"])
        #expect(try await store.hasEvent(pipeline: "train", kind: "schedule", dedupePrefix: "schedule:2026"))
        #expect(try await !store.hasEvent(pipeline: "train", kind: "schedule", dedupePrefix: "schedule:2027"))
        #expect(try await !store.hasEvent(pipeline: "train", kind: "data_changed", dedupePrefix: "schedule:"))
    }

    static func pendingEventsStartOnce(_ database: any MetadataDatabase) async throws {
        let store = SQLTriggerEventStore(database: database)
        _ = try await store.insertIfNew(event("a", key: "k1", at: 1))
        _ = try await store.insertIfNew(event("b", key: "k2", at: 2))
        _ = try await store.insertIfNew(event("c", key: "k3", at: 3))
        #expect(try await store.pending(limit: 10).map(\.id) == ["a", "b", "c"])
        let started = try await store.markStarted(id: "a", runID: "run-1")
        #expect(started.state == "started")
        #expect(started.runID == "run-1")
        // A second start (a replay racing the first dispatch) keeps the first run.
        #expect(try await store.markStarted(id: "a", runID: "run-2").runID == "run-1")
        let skipped = try await store.markSkipped(id: "b", reason: "at its concurrency limit")
        #expect(skipped.state == "skipped")
        #expect(skipped.reason == "at its concurrency limit")
        // A started event is not skipped afterwards.
        #expect(try await store.markSkipped(id: "a", reason: "late").state == "started")
        #expect(try await store.pending(limit: 10).map(\.id) == ["c"])
        #expect(try await store.list(pipeline: "train", limit: 10).map(\.id) == ["c", "b", "a"])
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.markStarted(id: "nope", runID: "r") }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.get(id: "nope") }
    }

    static func webhookOutboxFollowsSubscriptions(_ database: any MetadataDatabase) async throws {
        let store = SQLWebhookStore(database: database)
        let created = WebhookEvent(.modelVersion, .created)
        let alias = WebhookEvent(.modelVersionAlias, .created)
        func webhook(_ id: String, _ events: [WebhookEvent], status: Webhook.Status = .active, at time: Int64) -> Webhook {
            Webhook(
                id: id, name: "hook-\(id)", description: nil, url: "https://example.com/\(id)", events: events, status: status, secret: "s",
                creationTimestamp: time, lastUpdatedTimestamp: time)
        }
        try await store.createWebhook(webhook("w1", [created, alias], at: 1))
        try await store.createWebhook(webhook("w2", [alias], at: 2))
        try await store.createWebhook(webhook("w3", [created], status: .disabled, at: 3))
        #expect(try await store.getWebhook(id: "w1").events == [created, alias])
        #expect(try await store.getWebhook(id: "w1").secret == "s")

        let page = try await store.listWebhooks(maxResults: 2, pageToken: nil)
        #expect(page.items.map(\.id) == ["w3", "w2"])
        #expect(try await store.listWebhooks(maxResults: 2, pageToken: page.nextPageToken).items.map(\.id) == ["w1"])

        // Only active webhooks subscribed to the event get a delivery.
        #expect(try await store.enqueue(event: created, payload: #"{"name":"m"}"#, maxAttempts: 3, at: 100) == 1)
        #expect(try await store.enqueue(event: alias, payload: #"{"alias":"a"}"#, maxAttempts: 3, at: 100) == 2)
        let due = try await store.dueDeliveries(at: 100, limit: 10)
        #expect(due.count == 3)
        #expect(Set(due.map(\.webhook.id)) == ["w1", "w2"])

        // A failed attempt waits for its next time; a delivered one is done.
        var first = due[0].delivery
        first.attempts = 1
        first.nextAttemptTime = 200
        first.lastError = "HTTP 500"
        try await store.updateDelivery(first)
        var second = due[1].delivery
        second.attempts = 1
        second.state = .delivered
        try await store.updateDelivery(second)
        #expect(try await store.dueDeliveries(at: 150, limit: 10).map(\.delivery.id) == [due[2].delivery.id])
        #expect(try await store.dueDeliveries(at: 200, limit: 10).map(\.delivery.id).sorted() == [first.id, due[2].delivery.id].sorted())

        let updated = try await store.updateWebhook(
            id: "w2", WebhookUpdate(description: "d", events: [created], status: .disabled), at: 300)
        #expect(updated.events == [created])
        #expect(updated.status == .disabled)
        #expect(updated.description == "d")
        #expect(updated.lastUpdatedTimestamp == 300)

        // Deleting gives up the webhook's pending calls.
        try await store.deleteWebhook(id: "w1", at: 400)
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getWebhook(id: "w1") }
        #expect(try await store.listDeliveries(webhookID: "w1").allSatisfy { $0.state != .pending })
        #expect(try await store.enqueue(event: created, payload: "{}", maxAttempts: 3, at: 500) == 0)
    }
}

@Suite struct TriggerEventStoreTests {
    @Test(arguments: TriggerStoreScenarios.names)
    func onSQLite(_ scenario: String) async throws {
        let fixture = try await StoreFixture.make()
        do {
            let body = try #require(TriggerStoreScenarios.all.first { $0.0 == scenario }?.1)
            try await body(fixture.database)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }
}

extension PostgresStoreTests {
    @Test(arguments: TriggerStoreScenarios.names)
    func triggerStores(_ scenario: String) async throws {
        try await PostgresFixture.withFreshDatabase { database in
            let body = try #require(TriggerStoreScenarios.all.first { $0.0 == scenario }?.1)
            try await body(database)
        }
    }
}
