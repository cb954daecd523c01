import CairnCore
import CairnStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CairnServer

@Suite struct WebhookDeliveryTests {
    /// Python: `mlflow.webhooks.delivery._generate_hmac_signature("s3crét", "d-1", "1700000000",
    /// '{"entity": "model_version", "data": {"name": "mü"}}')`.
    @Test func theSignatureIsMLflowsForAFixedPayload() {
        let payload = Array(#"{"entity": "model_version", "data": {"name": "mü"}}"#.utf8)
        #expect(
            WebhookSignature.sign(secret: "s3crét", deliveryID: "d-1", timestamp: "1700000000", payload: payload)
                == "v1,Plj+04O6u8AmgGyaoVb+62lawztYfmgfTscPb3Y1fUg=")
        let headers = WebhookSignature.headers(deliveryID: "d-1", timestamp: 1_700_000_000, secret: "s3crét", body: payload)
        #expect(headers.contains { $0 == ("X-MLflow-Signature", "v1,Plj+04O6u8AmgGyaoVb+62lawztYfmgfTscPb3Y1fUg=") })
        #expect(headers.contains { $0 == ("X-MLflow-Timestamp", "1700000000") })
        #expect(headers.contains { $0 == ("X-MLflow-Delivery-Id", "d-1") })
        // No secret, no signature, as in MLflow.
        #expect(
            !WebhookSignature.headers(deliveryID: "d", timestamp: 1, secret: nil, body: payload).contains { $0.0 == "X-MLflow-Signature" })
    }

    @Test func theEnvelopeTimestampIsPythonsIsoformat() {
        #expect(WebhookService.isoTimestamp(milliseconds: 1_767_225_600_123) == "2026-01-01T00:00:00.123000+00:00")
    }

    @Test func urlsFollowMLflowsPolicy() async throws {
        let strict = WebhookURLPolicy()
        await #expect(throws: CairnError.self) { try await strict.validate("http://example.com/x") }
        await #expect(throws: CairnError.self) { try await strict.validate("https://127.0.0.1/x") }
        await #expect(throws: CairnError.self) { try await strict.validate("https://[::1]/x") }
        await #expect(throws: CairnError.self) { try await strict.validate("https:///x") }
        let local = WebhookURLPolicy.fromEnvironment([
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        ])
        try await local.validate("http://127.0.0.1:9/x")
        #expect(!WebhookURLPolicy.isPublic([169, 254, 169, 254]))
        #expect(!WebhookURLPolicy.isPublic([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 1]))
        #expect(WebhookURLPolicy.isPublic([93, 184, 216, 34]))
    }

    /// A receiver that refuses connections: each failed attempt is recorded and rescheduled with
    /// doubling backoff, and the delivery is given up after its last attempt.
    @Test func aFailingDeliveryIsRetriedWithBackoffThenGivenUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-webhooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        do {
            try await Migrations.run(on: database, logger: logger, now: 1)
            let store = SQLWebhookStore(database: database)
            let clock = Mutex<Int64>(1_000_000)
            let service = WebhookService(
                store: store, policy: WebhookURLPolicy(allowedSchemes: ["http"], allowPrivateIPs: true),
                options: WebhookService.Options(backoff: .seconds(2), maxBackoff: .seconds(3), timeout: .seconds(1)), logger: logger,
                now: { clock.withLock { $0 } })
            let port = try await Self.closedPort()
            try await store.createWebhook(
                Webhook(
                    id: "w", name: "w", description: nil, url: "http://127.0.0.1:\(port)/hook",
                    events: [WebhookEvent(.modelVersion, .created)],
                    status: .active, secret: "s", creationTimestamp: 1, lastUpdatedTimestamp: 1))
            let outbox = WebhookOutbox(store: store, maxAttempts: 3, logger: logger, now: { clock.withLock { $0 } })
            await outbox.registryEvent(.modelVersionCreated(name: "m", version: "1", source: "s", runID: nil, tags: [], description: nil))

            try await service.deliverDue()
            var delivery = try #require(try await store.listDeliveries(webhookID: "w").first)
            #expect(delivery.attempts == 1)
            #expect(delivery.state == .pending)
            #expect(delivery.nextAttemptTime == 1_002_000)
            #expect(delivery.lastError != nil)
            // Not due yet: nothing happens.
            try await service.deliverDue()
            #expect(try await store.listDeliveries(webhookID: "w").first?.attempts == 1)
            clock.withLock { $0 = 1_002_000 }
            try await service.deliverDue()
            delivery = try #require(try await store.listDeliveries(webhookID: "w").first)
            #expect(delivery.attempts == 2)
            #expect(delivery.nextAttemptTime == 1_005_000) // 4 s, capped at 3 s
            clock.withLock { $0 = 1_005_000 }
            try await service.deliverDue()
            delivery = try #require(try await store.listDeliveries(webhookID: "w").first)
            #expect(delivery.attempts == 3)
            #expect(delivery.state == .failed)
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }

    /// A port with nothing listening on it.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 9
        try await channel.close()
        return port
    }
}
