import CairnCore
import CairnMonitor
import CairnStatistics
import CairnStore

/// The bodies of Cairn's monitor API, written by `CairnAPIBody` (snake_case keys). A field
/// that may be absent is `@Nullable` (written as `null`) where clients index it, and left out
/// where it only exists for some kinds of value (a feature's numeric summary).
enum MonitorAPI {
    struct Monitor: Encodable, Sendable {
        var monitorID: String
        var name: String
        var modelName: String
        @Nullable var alias: String?
        /// The spec as stored: written back as the JSON it is.
        var spec: JSONValue
        var creationTime: Int64
        var lastUpdateTime: Int64
        @Nullable var lastRunTime: Int64?

        init(_ monitor: StoredMonitor) throws {
            monitorID = monitor.id
            name = monitor.name
            modelName = monitor.modelName
            alias = monitor.alias
            spec = try JSONValue.parse(Array(monitor.spec.utf8))
            creationTime = monitor.creationTime
            lastUpdateTime = monitor.lastUpdateTime
            lastRunTime = monitor.lastRunTime
        }
    }

    struct OneMonitor: Encodable, Sendable { var monitor: Monitor }
    struct Monitors: Encodable, Sendable { var monitors: [Monitor] }

    struct Alert: Encodable, Sendable {
        var alertID: String
        var monitorID: String
        var check: String
        var state: String
        @Nullable var value: Double?
        var threshold: Double
        var message: String
        var modelName: String
        @Nullable var modelVersion: String?
        var firedAt: Int64
        @Nullable var resolvedAt: Int64?

        init(_ alert: StoredAlert) {
            alertID = alert.id
            monitorID = alert.monitorID
            check = alert.check
            state = alert.state.rawValue
            value = alert.value
            threshold = alert.threshold
            message = alert.message
            modelName = alert.modelName
            modelVersion = alert.modelVersion
            firedAt = alert.firedAt
            resolvedAt = alert.resolvedAt
        }
    }

    struct Alerts: Encodable, Sendable { var alerts: [Alert] }

    /// `POST /monitors/{id}/run`: the report and the alerts that opened or resolved.
    struct Run: Encodable, Sendable {
        var report: MonitorReport
        var alerts: [Alert]
    }

    struct Delivery: Encodable, Sendable {
        var event: String
        var url: String
        var state: String
        var attempts: Int
        var maxAttempts: Int
        var nextAttemptTime: Int64
        @Nullable var lastError: String?

        init(_ delivery: AlertDelivery) {
            event = delivery.event
            url = delivery.url
            state = delivery.state.rawValue
            attempts = delivery.attempts
            maxAttempts = delivery.maxAttempts
            nextAttemptTime = delivery.nextAttemptTime
            lastError = delivery.lastError
        }
    }

    struct Deliveries: Encodable, Sendable { var deliveries: [Delivery] }

    /// What became of each feedback item, and how many of each.
    struct FeedbackResults: Encodable, Sendable {
        struct Item: Encodable, Sendable {
            var requestID: String
            var status: String
            var reason: String?
        }

        var accepted: Int
        var pending: Int
        var refused: Int
        var results: [Item]

        init(_ results: [Item]) {
            accepted = results.count { $0.status == "accepted" }
            pending = results.count { $0.status == "pending" }
            refused = results.count { $0.status == "refused" }
            self.results = results
        }
    }

    /// A reference's summary: what each feature is, not its retained sample.
    struct Reference: Encodable, Sendable {
        struct Feature: Encodable, Sendable {
            var name: String
            var kind: String
            var nullShare: Double
            var mean: Double? = nil
            var std: Double? = nil
            var min: Double? = nil
            var max: Double? = nil
            var distinctCount: Int? = nil
        }

        var modelName: String
        var version: String
        var rowCount: Int
        @Nullable var predictionSource: String?
        var features: [Feature]

        init(_ reference: MonitorReference, name: String, version: String) {
            modelName = name
            self.version = version
            rowCount = reference.rowCount
            predictionSource = reference.predictionSource
            features = (reference.features.features + (reference.prediction.map { [$0] } ?? [])).map { feature in
                var row = Feature(name: feature.name, kind: feature.kind.rawValue, nullShare: feature.nullShare)
                switch feature.summary {
                case .numeric(let numeric?):
                    (row.mean, row.std, row.min, row.max) = (numeric.mean, numeric.std, numeric.min, numeric.max)
                case .numeric(nil):
                    break
                case .categorical(let categorical):
                    row.distinctCount = categorical.distinctCount
                }
                return row
            }
        }
    }

    struct OneReference: Encodable, Sendable { var reference: Reference }
}
