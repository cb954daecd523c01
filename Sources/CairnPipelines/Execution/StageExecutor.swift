/// Runs one attempt of one command stage somewhere: a local process group, or a Ray job.
///
/// The engine owns retries, backoff and timeouts; an executor runs exactly one attempt. To
/// stop an attempt (timeout or cancel) the engine cancels the task calling `run`: the
/// executor must then stop the work and everything it started (the whole process group; the
/// Ray job via its stop endpoint) before it returns, and throw `CancellationError`.
/// Infrastructure failures (cannot spawn, the Ray head is down or refuses the token) are
/// thrown as `StageExecutionError`; a command that ran and failed is a `StageResult` with
/// a non-zero exit status.
public protocol StageExecutor: Sendable {
    /// `local` or `ray`: the `executor:` value that selects it.
    var name: String { get }
    /// What about the executor changes results (part of the cache key): for `local` just
    /// `local`; for `ray` the name and, when known, the Ray version.
    var fingerprint: String { get }
    func run(_ invocation: StageInvocation) async throws -> StageResult
}

public struct StageInvocation: Sendable, Equatable {
    /// The pipeline run (an MLflow run id).
    public var runID: String
    public var stage: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// Run by `/bin/sh -c` (each of several `cmd` lines joined with ` && `).
    public var command: String
    /// Absolute.
    public var workingDirectory: String
    /// Added to the executor's environment (`CAIRN_RUN_ID`, `CAIRN_STAGE`, `MLFLOW_TRACKING_URI`…).
    public var environment: [String: String]
    public var resources: StageSpec.Resources
    /// The attempt's stdout and stderr are written here (created or truncated), absolute.
    public var stdoutPath: String
    public var stderrPath: String

    public init(
        runID: String, stage: String, attempt: Int, command: String, workingDirectory: String,
        environment: [String: String], resources: StageSpec.Resources, stdoutPath: String, stderrPath: String
    ) {
        self.runID = runID
        self.stage = stage
        self.attempt = attempt
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.resources = resources
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Ray's `submission_id` for this attempt: the same attempt submitted twice is one job.
    public var submissionID: String { "cairn-\(runID)-\(stage.jobIDSafe())-\(attempt)" }
}

extension String {
    /// Stage names may hold `@` and other characters a job id should not.
    fileprivate func jobIDSafe() -> String {
        String(map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}

public struct StageResult: Sendable, Equatable {
    /// The command's exit status (for a signal, 128 + the signal number).
    public var exitStatus: Int32
    /// The executor's id for the work (a pid, a Ray submission id), for the stage run's tags.
    public var jobID: String?
    public init(exitStatus: Int32, jobID: String? = nil) {
        self.exitStatus = exitStatus
        self.jobID = jobID
    }
    public var succeeded: Bool { exitStatus == 0 }
}

/// The executor could not run the attempt at all.
public struct StageExecutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var stage: String
    public var reason: String
    /// Worth retrying (a connection refused, a 5xx), as opposed to a refused token.
    public var transient: Bool
    public init(stage: String, reason: String, transient: Bool) {
        self.stage = stage
        self.reason = reason
        self.transient = transient
    }
    public var description: String { "stage '\(stage)': \(reason)" }
}
