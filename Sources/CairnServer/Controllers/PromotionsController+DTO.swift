import CairnCore
import CairnPipelines
import CairnStore

/// The bodies of Cairn's promotion API, written by `CairnAPIBody` (snake_case keys).
enum PromotionAPI {
    struct Move: Encodable, Sendable {
        var alias: String
        @Nullable var fromVersion: String?
        var toVersion: String
    }

    struct Entry: Encodable, Sendable {
        var entryID: String
        var modelName: String
        var sequence: Int64
        /// `decision` or `rollback`.
        var kind: String
        /// `promoted`, `rejected`, `refused` or `rolled_back`.
        var outcome: String
        var alias: String
        @Nullable var candidateVersion: String?
        @Nullable var championVersion: String?
        var candidateMetrics: [String: Double]
        var championMetrics: [String: Double]
        var thresholds: JSONValue
        var failures: [String]
        @Nullable var datasetDigest: String?
        @Nullable var datasetPath: String?
        @Nullable var pipelineRunID: String?
        @Nullable var stageRunID: String?
        var time: Int64
        var moves: [Move]

        init(_ record: PromotionRecord) {
            entryID = record.id
            modelName = record.modelName
            sequence = record.sequence
            kind = record.kind.rawValue
            outcome = record.outcome.rawValue
            alias = record.alias
            candidateVersion = record.candidateVersion
            championVersion = record.championVersion
            candidateMetrics = record.candidateMetrics
            championMetrics = record.championMetrics
            thresholds = (try? JSONValue.parse(record.thresholds)) ?? .object(JSONObject())
            failures = record.failures
            datasetDigest = record.datasetDigest
            datasetPath = record.datasetPath
            pipelineRunID = record.pipelineRunID
            stageRunID = record.stageRunID
            time = record.time
            moves = record.moves.map { Move(alias: $0.alias, fromVersion: $0.fromVersion, toVersion: $0.toVersion) }
        }
    }

    struct Entries: Encodable, Sendable {
        var promotions: [Entry]
        @Nullable var nextPageToken: String?
    }

    struct OneEntry: Encodable, Sendable { var promotion: Entry }

    /// `POST /models/{name}/evaluate`: the decision and its log entry.
    struct Evaluation: Encodable, Sendable {
        var passed: Bool
        var promoted: Bool
        var candidateVersion: String
        @Nullable var championVersion: String?
        var datasetDigest: String
        var candidateMetrics: [String: Double]
        var championMetrics: [String: Double]
        var failures: [String]
        var promotion: Entry

        init(_ decision: GateDecision, _ record: PromotionRecord) {
            passed = decision.passed
            promoted = decision.promoted
            candidateVersion = decision.candidateVersion
            championVersion = decision.championVersion
            datasetDigest = decision.datasetDigest
            candidateMetrics = decision.candidateMetrics
            championMetrics = decision.championMetrics
            failures = decision.failures
            promotion = Entry(record)
        }
    }
}
