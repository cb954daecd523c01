import CairnCore

/// One webhook call owed for a registry event: the outbox row the delivery loop works from.
/// `payload` is the event's `data`; the envelope, timestamp and signature are made at send
/// time with the webhook's current URL and secret.
public struct WebhookDelivery: Sendable, Equatable {
    public typealias State = AlertDelivery.State

    /// Sent as `X-MLflow-Delivery-Id`, the same on every attempt so a receiver can de-duplicate.
    public var id: String
    public var webhookID: String
    public var event: WebhookEvent
    public var payload: String
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptTime: Int64
    public var lastError: String?
    public var creationTime: Int64

    public init(
        id: String, webhookID: String, event: WebhookEvent, payload: String, state: State, attempts: Int, maxAttempts: Int,
        nextAttemptTime: Int64, lastError: String?, creationTime: Int64
    ) {
        self.id = id
        self.webhookID = webhookID
        self.event = event
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttemptTime = nextAttemptTime
        self.lastError = lastError
        self.creationTime = creationTime
    }
}

/// The fields `update_webhook` may change; nil leaves a field as it is.
public struct WebhookUpdate: Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var url: String?
    public var events: [WebhookEvent]?
    public var secret: String?
    public var status: Webhook.Status?

    public init(
        name: String? = nil, description: String? = nil, url: String? = nil, events: [WebhookEvent]? = nil, secret: String? = nil,
        status: Webhook.Status? = nil
    ) {
        self.name = name
        self.description = description
        self.url = url
        self.events = events
        self.secret = secret
        self.status = status
    }
}

/// MLflow 3 webhooks and their delivery outbox.
public protocol WebhookStore: Sendable {
    func createWebhook(_ webhook: Webhook) async throws
    /// With its secret. Throws `resourceDoesNotExist` for an unknown or deleted id.
    func getWebhook(id: String) async throws -> Webhook
    /// Newest first, as MLflow lists them.
    func listWebhooks(maxResults: Int, pageToken: String?) async throws -> Page<Webhook>
    func updateWebhook(id: String, _ update: WebhookUpdate, at time: Int64) async throws -> Webhook
    /// Deletes the webhook with its undelivered calls.
    func deleteWebhook(id: String, at time: Int64) async throws
    /// Queues one delivery of `payload` to every active webhook subscribed to `event`, in one
    /// transaction; returns how many were queued.
    @discardableResult
    func enqueue(event: WebhookEvent, payload: String, maxAttempts: Int, at time: Int64) async throws -> Int
    /// Pending deliveries due at `time`, with the webhook each goes to.
    func dueDeliveries(at time: Int64, limit: Int) async throws -> [(delivery: WebhookDelivery, webhook: Webhook)]
    /// Claims a due delivery for one attempt: moves its next attempt to `until` if it is still
    /// pending and unchanged since it was read. True for exactly one of several claimants, so
    /// two replicas never post one attempt; a claimant that dies leaves it due again at `until`.
    func claimDelivery(_ delivery: WebhookDelivery, until: Int64) async throws -> Bool
    func updateDelivery(_ delivery: WebhookDelivery) async throws
    func listDeliveries(webhookID: String) async throws -> [WebhookDelivery]
}
