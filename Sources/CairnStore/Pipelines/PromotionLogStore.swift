import CairnCore
import Foundation

/// One entry of the promotion log: a gate's decision or a rollback, with everything it was
/// judged on and the alias moves it made.
public struct PromotionRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case decision
        case rollback
    }

    public enum Outcome: String, Sendable, CaseIterable {
        /// The candidate passed and the alias moved to it.
        case promoted
        /// The candidate failed a check; nothing moved.
        case rejected
        /// The candidate passed, but the alias had moved since it was read: nothing moved.
        case refused
        /// A rollback moved the alias back.
        case rolledBack = "rolled_back"
    }

    public struct AliasMove: Sendable, Equatable {
        public var alias: String
        /// Nil when the move created the alias.
        public var fromVersion: String?
        public var toVersion: String
        public init(alias: String, fromVersion: String?, toVersion: String) {
            self.alias = alias
            self.fromVersion = fromVersion
            self.toVersion = toVersion
        }
    }

    public var id: String
    public var modelName: String
    /// One model's entries in order (set by the store).
    public var sequence: Int64
    public var kind: Kind
    public var outcome: Outcome
    /// The alias judged against and moved (for a rollback, the alias rolled back).
    public var alias: String
    /// The version judged (for a rollback, the version the alias went back to).
    public var candidateVersion: String?
    /// The version the alias pointed at when it was read; nil when it pointed nowhere.
    public var championVersion: String?
    public var candidateMetrics: [String: Double]
    public var championMetrics: [String: Double]
    /// The limits as JSON text (`{"accuracy_score": {"threshold": 0.8, …}}`), written by the gate.
    public var thresholds: String
    public var failures: [String]
    /// sha256 of the held-out data, its version.
    public var datasetDigest: String?
    public var datasetPath: String?
    public var pipelineRunID: String?
    public var stageRunID: String?
    /// Milliseconds since the epoch.
    public var time: Int64
    /// The moves made, in order (set by the store).
    public var moves: [AliasMove]

    public init(
        id: String = CairnID.make(), modelName: String, kind: Kind, outcome: Outcome, alias: String, candidateVersion: String?,
        championVersion: String?, candidateMetrics: [String: Double] = [:], championMetrics: [String: Double] = [:],
        thresholds: String = "{}", failures: [String] = [], datasetDigest: String? = nil, datasetPath: String? = nil,
        pipelineRunID: String? = nil, stageRunID: String? = nil, time: Int64, sequence: Int64 = 0, moves: [AliasMove] = []
    ) {
        self.id = id
        self.modelName = modelName
        self.sequence = sequence
        self.kind = kind
        self.outcome = outcome
        self.alias = alias
        self.candidateVersion = candidateVersion
        self.championVersion = championVersion
        self.candidateMetrics = candidateMetrics
        self.championMetrics = championMetrics
        self.thresholds = thresholds
        self.failures = failures
        self.datasetDigest = datasetDigest
        self.datasetPath = datasetPath
        self.pipelineRunID = pipelineRunID
        self.stageRunID = stageRunID
        self.time = time
        self.moves = moves
    }
}

/// The append-only promotion log, and the alias moves that go with it: a promotion's
/// compare-and-set and its log entry commit together, so there is never a move without its
/// record or a "promoted" record whose move did not happen.
public protocol PromotionLogStore: Sendable {
    /// Records a decision. For `outcome == .promoted` the store first moves `alias` from
    /// `championVersion` to `candidateVersion` with a compare-and-set and, when that wins and
    /// `keepPreviousAs` is set, points that alias at the old champion; if the alias moved
    /// since it was read, nothing moves and the entry is recorded as `.refused` with a line
    /// saying so. Returns the entry as stored.
    func recordDecision(_ record: PromotionRecord, keepPreviousAs: String?) async throws -> PromotionRecord
    /// Moves `alias` back to the version it pointed at before its last recorded move, as a
    /// compare-and-set, and records it. Refused with a clear error when no move is recorded,
    /// the last move created the alias, or the alias moved outside the log since.
    func rollback(modelName: String, alias: String, time: Int64) async throws -> PromotionRecord
    /// A model's entries, newest first.
    func listPromotions(modelName: String, maxResults: Int, pageToken: String?) async throws -> Page<PromotionRecord>
}
