/// How the engine runs a `gate:` stage (implemented by `EvaluationGate`). The engine calls it
/// in place of an executor; the evaluator scores, judges, logs the decision (pass or fail) to
/// the promotion log and, on a pass, moves the alias with a compare-and-set, all before it
/// returns.
public protocol GateEvaluating: Sendable {
    /// - Parameters:
    ///   - runID: the pipeline run; `stageRunID`: the stage's own MLflow run (for the log).
    ///   - workingDirectory: absolute; `gate.data` and a candidate file are relative to it.
    /// - Throws: `CairnError` when the gate cannot judge at all (the dataset is missing, the
    ///   candidate does not exist, the model cannot be scored). A rejection is not an error.
    func evaluate(_ gate: GateSpec, runID: String, stageRunID: String, workingDirectory: String) async throws -> GateDecision
}

/// One judged comparison, as logged.
public struct GateDecision: Sendable, Equatable {
    public var passed: Bool
    public var candidateVersion: String
    /// Nil when the alias pointed nowhere (the first model is judged on absolute thresholds only).
    public var championVersion: String?
    /// sha256 of the held-out file, the dataset's version.
    public var datasetDigest: String
    public var candidateMetrics: [String: Double]
    public var championMetrics: [String: Double]
    /// One line per failed check (empty on a pass).
    public var failures: [String]
    /// Whether the alias moved (a pass whose compare-and-set found the alias moved meanwhile
    /// is refused: `passed` true, `promoted` false, and a failure line saying so).
    public var promoted: Bool
    /// The alias already points at the candidate: nothing was judged or logged (a pipeline
    /// rerun whose model was promoted before is up to date, not compared with itself).
    public var alreadyCurrent: Bool

    public init(
        passed: Bool, candidateVersion: String, championVersion: String?, datasetDigest: String,
        candidateMetrics: [String: Double], championMetrics: [String: Double], failures: [String], promoted: Bool,
        alreadyCurrent: Bool = false
    ) {
        self.alreadyCurrent = alreadyCurrent
        self.passed = passed
        self.candidateVersion = candidateVersion
        self.championVersion = championVersion
        self.datasetDigest = datasetDigest
        self.candidateMetrics = candidateMetrics
        self.championMetrics = championMetrics
        self.failures = failures
        self.promoted = promoted
    }
}
