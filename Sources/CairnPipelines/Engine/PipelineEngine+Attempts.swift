import CairnCore
import CairnStore
import Foundation
import Logging
import NIOPosix

/// Runs a stage's command (or gate) with Cairn's retries, backoff and timeout, which are the
/// same on every executor.
extension PipelineEngine {
    enum AttemptOutcome: Sendable {
        case exited(StageResult)
        case timedOut
        case cancelled
    }

    /// Where a stage's logs go: `<state>/runs/<run>/<stage>.out|.err` (the last attempt's).
    public func logPaths(runID: String, stage: String) -> (stdout: String, stderr: String) {
        let safe = String(stage.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "@" || $0 == "." ? $0 : "_" })
        let directory = "\(configuration.stateDirectory)/runs/\(runID)"
        return ("\(directory)/\(safe).out", "\(directory)/\(safe).err")
    }

    func attempts(
        _ stage: StageSpec, _ context: RunContext, wdir: String, row: inout StoredStageRun, record: inout RunRecorder.StageRecord
    ) async throws -> StageOutcome {
        if case .gate(let gate) = stage.kind {
            guard let evaluator = self.gate else { return .failed("no evaluation gate is configured on this server") }
            row.attempts = 1
            let decision = try await evaluator.evaluate(
                gate, runID: context.run.id, stageRunID: row.mlflowRunID ?? context.run.id, workingDirectory: wdir)
            if decision.alreadyCurrent {
                // Up to date: the candidate already holds the alias (a rerun with nothing changed).
                row.cacheHit = true
                row.reason = "version \(decision.candidateVersion) is already @\(gate.alias)"
                return .finished
            }
            for (name, value) in decision.candidateMetrics { record.metrics["candidate.\(name)"] = value }
            for (name, value) in decision.championMetrics { record.metrics["champion.\(name)"] = value }
            record.tags["cairn.gate.candidate_version"] = decision.candidateVersion
            if let champion = decision.championVersion { record.tags["cairn.gate.champion_version"] = champion }
            record.tags["cairn.gate.promoted"] = decision.promoted ? "true" : "false"
            if decision.passed, decision.promoted { return .finished }
            return .failed(decision.failures.isEmpty ? "the gate did not promote the candidate" : decision.failures.joined(separator: "; "))
        }
        guard case .command(let lines) = stage.kind else { return .failed("nothing to run") }
        guard let executor = executors[stage.executor] else {
            return .failed(
                "no executor named '\(stage.executor)' is configured (known: \(executors.keys.sorted().joined(separator: ", ")))")
        }
        let logs = logPaths(runID: context.run.id, stage: stage.name)
        try await threadPool.runIfActive { try LocalFiles.makeDirectories(PathText(path: logs.stdout).parent) }
        record.files["stdout.txt"] = logs.stdout
        record.files["stderr.txt"] = logs.stderr
        var environment = [
            "CAIRN_RUN_ID": context.run.id, "CAIRN_STAGE": stage.name, "CAIRN_PIPELINE": context.spec.name,
            "CAIRN_STAGE_RUN_ID": row.mlflowRunID ?? "",
        ]
        if let uri = configuration.trackingURI { environment["MLFLOW_TRACKING_URI"] = uri }
        if let token = configuration.trackingToken { environment["MLFLOW_TRACKING_TOKEN"] = token }
        // Lineage: `mlflow.start_run()` in the stage resumes the stage's run (MLflow reads
        // MLFLOW_RUN_ID), so what the stage logs and registers hangs off it. The script may end
        // that run itself; `finishStageRun` then still logs to it and sets the stage's status.
        if let stageRun = row.mlflowRunID {
            environment["MLFLOW_RUN_ID"] = stageRun
            environment["MLFLOW_EXPERIMENT_ID"] = context.experimentID
        }
        let maximum = max(0, stage.retries) + 1
        var attempt = 0
        while true {
            attempt += 1
            row.attempts = attempt
            let invocation = StageInvocation(
                runID: context.run.id, stage: stage.name, attempt: attempt, command: lines.joined(separator: " && "),
                workingDirectory: wdir, environment: environment, resources: stage.resources, stdoutPath: logs.stdout,
                stderrPath: logs.stderr)
            let failure: String
            let retryable: Bool
            do {
                switch try await Self.attempt(invocation, on: executor, timeout: stage.timeout, cancel: context.cancel) {
                case .exited(let result):
                    row.jobID = result.jobID
                    if result.succeeded { return .finished }
                    failure = "exited with status \(result.exitStatus)"
                    retryable = true
                case .timedOut:
                    return .failed("timed out after \(Self.seconds(stage.timeout ?? 0))s")
                case .cancelled:
                    return .cancelled
                }
            } catch let error as StageExecutionError {
                failure = error.reason
                retryable = error.transient
            }
            guard retryable, attempt < maximum else {
                return .failed(attempt > 1 ? "\(failure) (attempt \(attempt) of \(maximum))" : failure)
            }
            let delay = stage.backoff.delay(beforeRetry: attempt)
            logger.info(
                "Retrying a stage",
                metadata: ["stage": "\(stage.name)", "attempt": "\(attempt)", "reason": "\(failure)", "delay": "\(delay)"])
            if delay > 0, await Self.sleep(seconds: delay, unless: context.cancel) == false { return .cancelled }
            if context.cancel.isFired { return .cancelled }
        }
    }

    /// One attempt, stopped at `timeout` seconds or when the run is cancelled: the executor's
    /// task is cancelled, which kills what it started, and the executor is awaited before the
    /// outcome is returned, so nothing of the attempt outlives it.
    static func attempt(
        _ invocation: StageInvocation, on executor: any StageExecutor, timeout: Double?, cancel: CancelSignal
    ) async throws -> AttemptOutcome {
        try await withThrowingTaskGroup(of: AttemptOutcome?.self) { group in
            group.addTask { .exited(try await executor.run(invocation)) }
            if let timeout, timeout > 0 {
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return .timedOut
                }
            }
            group.addTask {
                await cancel.wait()
                return Task.isCancelled ? nil : .cancelled
            }
            while true {
                guard let next = try await group.next() else { return .cancelled }
                guard let outcome = next else { continue }
                group.cancelAll()
                if case .exited = outcome { return outcome }
                // Let the executor finish stopping its work before the stage is reported.
                do { while try await group.next() != nil {} } catch {}
                return outcome
            }
        }
    }

    /// Sleeps unless the run is cancelled first; false when it was.
    static func sleep(seconds: Double, unless cancel: CancelSignal) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await Task.sleep(for: .seconds(seconds))) != nil }
            group.addTask {
                await cancel.wait()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first && !cancel.isFired
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : "\(value)"
    }
}
