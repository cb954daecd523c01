import CairnCore

/// A monitor as stored: its identity and the model it watches as columns (they are queried),
/// everything else as the JSON spec that `CairnMonitor` owns and validates.
public struct StoredMonitor: Sendable, Equatable {
    public var id: String
    public var name: String
    public var modelName: String
    public var alias: String?
    public var spec: String
    public var creationTime: Int64
    public var lastUpdateTime: Int64
    public var lastRunTime: Int64?

    public init(
        id: String, name: String, modelName: String, alias: String?, spec: String, creationTime: Int64, lastUpdateTime: Int64,
        lastRunTime: Int64?
    ) {
        self.id = id
        self.name = name
        self.modelName = modelName
        self.alias = alias
        self.spec = spec
        self.creationTime = creationTime
        self.lastUpdateTime = lastUpdateTime
        self.lastRunTime = lastRunTime
    }
}

public struct StoredAlert: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case firing
        case resolved
    }

    public var id: String
    public var monitorID: String
    public var check: String
    public var state: State
    public var value: Double?
    public var threshold: Double
    public var message: String
    public var modelName: String
    public var modelVersion: String?
    public var firedAt: Int64
    public var resolvedAt: Int64?

    public init(
        id: String, monitorID: String, check: String, state: State, value: Double?, threshold: Double, message: String, modelName: String,
        modelVersion: String?, firedAt: Int64, resolvedAt: Int64?
    ) {
        self.id = id
        self.monitorID = monitorID
        self.check = check
        self.state = state
        self.value = value
        self.threshold = threshold
        self.message = message
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
    }
}

/// One webhook call owed for an alert event: the outbox row the delivery loop works from, so
/// a delivery survives a restart and a failing receiver is retried with backoff.
public struct AlertDelivery: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending
        case delivered
        case failed
    }

    public var alertID: String
    /// `alert.firing` or `alert.resolved`.
    public var event: String
    public var url: String
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptTime: Int64
    public var lastError: String?
    /// The JSON body posted to the webhook.
    public var payload: String

    public init(
        alertID: String, event: String, url: String, state: State, attempts: Int, maxAttempts: Int, nextAttemptTime: Int64,
        lastError: String?, payload: String
    ) {
        self.alertID = alertID
        self.event = event
        self.url = url
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttemptTime = nextAttemptTime
        self.lastError = lastError
        self.payload = payload
    }
}

/// Ground truth for one scored request: one label per row it carried.
public struct Feedback: Sendable, Equatable {
    public var requestID: String
    /// The labels as a JSON array.
    public var labels: String

    public init(requestID: String, labels: String) {
        self.requestID = requestID
        self.labels = labels
    }
}

public struct StoredReference: Sendable, Equatable {
    public var modelName: String
    public var version: String
    /// The `ReferenceProfile` JSON.
    public var profile: String
    public var rowCount: Int
    public var creationTime: Int64

    public init(modelName: String, version: String, profile: String, rowCount: Int, creationTime: Int64) {
        self.modelName = modelName
        self.version = version
        self.profile = profile
        self.rowCount = rowCount
        self.creationTime = creationTime
    }
}

/// What a change of alert states leaves to do, decided in one transaction.
public struct AlertTransition: Sendable, Equatable {
    public var check: String
    public var firing: Bool
    public var value: Double?
    public var threshold: Double
    public var message: String

    public init(check: String, firing: Bool, value: Double?, threshold: Double, message: String) {
        self.check = check
        self.firing = firing
        self.value = value
        self.threshold = threshold
        self.message = message
    }
}

/// Monitors, alerts, their webhook outbox, feedback and reference profiles.
public protocol MonitorStore: Sendable {
    func createMonitor(_ monitor: StoredMonitor) async throws
    func updateMonitor(_ monitor: StoredMonitor) async throws
    func getMonitor(idOrName: String) async throws -> StoredMonitor
    func listMonitors() async throws -> [StoredMonitor]
    /// Deletes the monitor with its alerts and their deliveries.
    func deleteMonitor(id: String) async throws

    /// Records an evaluation: stamps `lastRunTime`, opens an alert for every firing check that
    /// has none open, resolves open alerts whose check no longer fires or is no longer among
    /// the results (taken out of the monitor), and queues one delivery
    /// per webhook URL for each of those events, all in one transaction. Returns the alerts
    /// that changed state.
    ///
    /// A scheduled evaluation names its slot (`scheduledTime`): a slot is recorded once, and
    /// a second record of it (another replica that also thought it led) changes nothing and
    /// throws `resourceAlreadyExists`.
    func recordEvaluation(
        monitorID: String, modelName: String, modelVersion: String?, results: [AlertTransition],
        webhooks: [String], maxAttempts: Int, payload: @escaping @Sendable (StoredAlert, String) -> String, scheduledTime: Int64?,
        at time: Int64
    ) async throws -> [StoredAlert]
    func listAlerts(monitorID: String?, state: StoredAlert.State?, limit: Int) async throws -> [StoredAlert]

    func dueDeliveries(at time: Int64, limit: Int) async throws -> [AlertDelivery]
    /// Claims a due delivery for one attempt: moves its next attempt to `until` if it is still
    /// pending and unchanged since it was read. True for exactly one of several claimants, so
    /// two replicas never post one attempt; a claimant that dies leaves it due again at `until`.
    func claimDelivery(_ delivery: AlertDelivery, until: Int64) async throws -> Bool
    /// Throws `resourceDoesNotExist` for an unknown alert.
    func listDeliveries(alertID: String) async throws -> [AlertDelivery]
    func updateDelivery(_ delivery: AlertDelivery) async throws

    /// Upserts ground truth; a later label for the same request replaces the earlier one.
    func putFeedback(_ feedback: [Feedback], at time: Int64) async throws
    func feedback(requestIDs: [String]) async throws -> [String: String]
    /// The request ids of feedback received (last stored) in `[from, until)`, newest first.
    func feedbackIDs(receivedFrom from: Int64, until: Int64, limit: Int) async throws -> [String]

    func putReference(_ reference: StoredReference) async throws
    func getReference(modelName: String, version: String) async throws -> StoredReference?
}

extension MonitorStore {
    /// An evaluation outside any schedule (a manual run).
    public func recordEvaluation(
        monitorID: String, modelName: String, modelVersion: String?, results: [AlertTransition],
        webhooks: [String], maxAttempts: Int, payload: @escaping @Sendable (StoredAlert, String) -> String, at time: Int64
    ) async throws -> [StoredAlert] {
        try await recordEvaluation(
            monitorID: monitorID, modelName: modelName, modelVersion: modelVersion, results: results, webhooks: webhooks,
            maxAttempts: maxAttempts, payload: payload, scheduledTime: nil, at: time)
    }
}
