import AsyncHTTPClient
import CairnClient
import CairnCore
import CairnStore
import Foundation
import Logging
import ServiceLifecycle

/// Delivers MLflow webhooks from the outbox the registry fills: each due delivery is posted
/// in MLflow's envelope with its signature headers; a failure (no answer, or a status outside
/// 2xx) is retried with exponential backoff, across restarts, until `maxAttempts`.
///
/// With replicas, only the leader delivers (`Leadership`), and each attempt is first claimed
/// by a row update, so even two processes that both believe they lead never post one attempt
/// twice; a leader killed mid-post leaves the delivery due again after the claim, and the
/// receiver can tell the repeat by its `X-MLflow-Delivery-Id`.
public final class WebhookService: Service, Sendable {
    public struct Options: Sendable {
        public var tick: Duration
        public var backoff: Duration
        public var maxBackoff: Duration
        /// MLflow's `MLFLOW_WEBHOOK_REQUEST_TIMEOUT` (30 s).
        public var timeout: Duration

        public init(
            tick: Duration = .seconds(1), backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(60),
            timeout: Duration = .seconds(30)
        ) {
            self.tick = tick
            self.backoff = backoff
            self.maxBackoff = maxBackoff
            self.timeout = timeout
        }
    }

    let store: any WebhookStore
    let client: HTTPClient
    let policy: WebhookURLPolicy
    let options: Options
    let logger: Logger
    let now: WallClock
    let leadership: any Leadership
    /// Opened by `start()`, once migrations have made the outbox table.
    private let started: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) = AsyncStream.makeStream()

    init(
        store: any WebhookStore, client: HTTPClient = .shared, policy: WebhookURLPolicy, options: Options = Options(), logger: Logger,
        now: @escaping WallClock, leadership: any Leadership = AlwaysLeader()
    ) {
        self.leadership = leadership
        self.store = store
        self.client = client
        self.policy = policy
        self.options = options
        self.logger = logger
        self.now = now
    }

    public func start() {
        started.continuation.yield()
        started.continuation.finish()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in self.started.stream { break }
            await self.leadership.whileLeading {
                while !Task.isCancelled {
                    do {
                        try await self.deliverDue()
                    } catch is CancellationError {
                        return
                    } catch {
                        self.logger.error("Webhook delivery pass failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: self.options.tick)
                }
            }
        }
    }

    func deliverDue() async throws {
        let due = try await store.dueDeliveries(at: now(), limit: 100)
        await withTaskGroup(of: Void.self) { group in
            for (delivery, webhook) in due {
                group.addTask {
                    // Claimed for one attempt's length and a margin: a process that dies
                    // mid-post leaves it due again then.
                    let until = self.now() + WebhookPost.milliseconds(self.options.timeout) + 5_000
                    do {
                        guard try await self.store.claimDelivery(delivery, until: until) else { return }
                    } catch {
                        self.logger.error("Could not claim a webhook delivery", metadata: ["error": "\(error)"])
                        return
                    }
                    await self.attempt(delivery, to: webhook)
                }
            }
        }
    }

    func attempt(_ delivery: WebhookDelivery, to webhook: Webhook) async {
        var delivery = delivery
        let outcome: WebhookPost.Outcome
        if webhook.status != .active {
            // Disabled (or deleted) after the event was queued: MLflow would not have sent it.
            delivery.state = .failed
            delivery.lastError = "webhook \(webhook.status == .disabled ? "disabled" : "deleted") before delivery"
            outcome = WebhookPost.Outcome(status: nil, body: nil, error: delivery.lastError)
        } else {
            delivery.attempts += 1
            outcome = await send(
                event: delivery.event, data: delivery.payload, deliveryID: delivery.id, eventTime: delivery.creationTime, to: webhook)
            if outcome.delivered {
                delivery.state = .delivered
                delivery.lastError = nil
            } else {
                delivery.lastError = String(outcome.failure.prefix(500))
                if delivery.attempts >= delivery.maxAttempts {
                    delivery.state = .failed
                    logger.warning(
                        "Webhook delivery gave up",
                        metadata: ["webhook_id": "\(webhook.id)", "event": "\(delivery.event)", "error": "\(outcome.failure)"])
                } else {
                    delivery.nextAttemptTime =
                        now()
                        + WebhookPost.retryDelay(afterAttempts: delivery.attempts, backoff: options.backoff, maxBackoff: options.maxBackoff)
                }
            }
        }
        do {
            try await store.updateDelivery(delivery)
        } catch {
            logger.error("Could not record a webhook delivery", metadata: ["webhook_id": "\(webhook.id)", "error": "\(error)"])
        }
    }

    /// Posts MLflow's envelope `{"entity", "action", "timestamp", "data"}` for one event. The
    /// body's `timestamp` is when the event happened (`eventTime`), so every retry of a delivery
    /// sends the same body, as MLflow's retries resend theirs; the `X-MLflow-Timestamp` header
    /// (and the signature over it) is the attempt's, so a receiver's replay window still holds.
    func send(event: WebhookEvent, data: String, deliveryID: String, eventTime: Int64, to webhook: Webhook) async
        -> WebhookPost.Outcome
    {
        do {
            try await policy.validate(webhook.url)
        } catch let error as CairnError {
            return WebhookPost.Outcome(status: nil, body: nil, error: error.message)
        } catch {
            return WebhookPost.Outcome(status: nil, body: nil, error: "\(error)")
        }
        let time = now()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("entity")
        writer.string(event.entity.rawValue)
        writer.key("action")
        writer.string(event.action.rawValue)
        writer.key("timestamp")
        writer.string(Self.isoTimestamp(milliseconds: eventTime))
        writer.key("data")
        writer.raw(data)
        writer.endObject()
        let body = writer.bytes
        let headers = WebhookSignature.headers(deliveryID: deliveryID, timestamp: time / 1000, secret: webhook.secret, body: body)
        return await WebhookPost.send(client: client, url: webhook.url, headers: headers, body: body, timeout: options.timeout)
    }

    /// `test_webhook`: one call with MLflow's example payload for `event` (the webhook's first
    /// event when none is named), answered in MLflow's `WebhookTestResult` shape.
    func test(_ webhook: Webhook, event: WebhookEvent?) async -> WebhookTestResult {
        guard let event = event ?? webhook.events.first, let example = RegistryEvent.example(for: event) else {
            return WebhookTestResult(success: false, errorMessage: "Failed to test webhook: no event to test.")
        }
        let outcome = await send(
            event: event, data: example.payload, deliveryID: UUID().uuidString.lowercased(), eventTime: now(), to: webhook)
        guard let status = outcome.status else {
            return WebhookTestResult(success: false, errorMessage: "Failed to test webhook: \(outcome.failure)")
        }
        return WebhookTestResult(success: status < 400, responseStatus: status, responseBody: outcome.body ?? "")
    }

    /// Python's `datetime.now(timezone.utc).isoformat()`: `2025-01-31T12:00:00.123000+00:00`.
    static func isoTimestamp(milliseconds: Int64) -> String {
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var time = time_t(seconds.quotient)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(seconds.remainder) * 1000, 6))+00:00"
    }
}
