import ArgumentParser
import CairnClient
import CairnCore
import Dispatch
import Foundation
import Synchronization

struct PipelineRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Register the pipeline in this directory and run it on the server, following its progress.",
        discussion: "Exits non-zero when the run fails. Ctrl-C cancels the run."
    )

    @Argument(help: "Stages to run, with what they depend on (default: every stage).")
    var targets: [String] = []

    @Option(help: "Run this stage and everything downstream of it.")
    var from: String?

    @Flag(help: "Run the targets and everything downstream of them instead of their upstream.")
    var downstream = false

    @Flag(help: "Run the selected stages even when they are up to date or cached.")
    var force = false

    @Flag(name: .customLong("single-item"), help: "Run only the targets, not their upstream.")
    var singleItem = false

    @Option(help: "Stages at once (default: the server's core count).")
    var jobs: Int?

    @Flag(help: "Print the run id and return without following the run.")
    var detach = false

    @OptionGroup var project: PipelineProjectOptions
    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let client = try await server.client()
        let name = try await project.register(client)
        let answer = try await client.startPipelineRun(
            name,
            .init(targets: targets, from: from, downstream: downstream, force: force, singleItem: singleItem, jobs: jobs))
        guard let runID = answer["run"]?["run_id"]?.text else { throw CairnError(.internalError, "The server's answer names no run.") }
        if detach {
            print(runID)
            return
        }
        try await RunFollower(client: client, runID: runID).follow()
    }
}

struct PipelineResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Start a new run that reuses every finished stage of RUN_ID whose inputs still match, and follow it."
    )

    @Argument(help: "The run to resume (a pipeline run id).")
    var runID: String

    @Option(help: "Stages at once.")
    var jobs: Int?

    @Flag(help: "Print the new run's id and return.")
    var detach = false

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let client = try await server.client()
        let answer = try await client.resumePipelineRun(runID, jobs: jobs)
        guard let newID = answer["run"]?["run_id"]?.text else { throw CairnError(.internalError, "The server's answer names no run.") }
        if detach {
            print(newID)
            return
        }
        try await RunFollower(client: client, runID: newID).follow()
    }
}

/// Follows a run to its end: on a terminal a progress line redrawn in place (stages done of
/// total, the running ones, elapsed), otherwise one line per stage event. Ctrl-C cancels the
/// run on the server; the exit status is non-zero unless the run finished.
struct RunFollower {
    let client: CairnClient
    let runID: String

    func follow() async throws {
        let interrupted = InterruptFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { interrupted.value.store(true, ordering: .relaxed) }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        let terminal = isatty(STDOUT_FILENO) == 1
        let started = ContinuousClock.now
        var reported: [String: String] = [:]
        var cancelled = false
        print("run \(runID)")
        while true {
            if interrupted.value.load(ordering: .relaxed), !cancelled {
                cancelled = true
                if terminal { print("") }
                print("cancelling run \(runID)…")
                _ = try await client.cancelPipelineRun(runID)
            }
            let run = try await client.pipelineRun(runID)["run"] ?? .null
            let status = run["status"]?.text ?? "RUNNING"
            let stages = run["stages"]?.items ?? []
            if terminal {
                let done = stages.filter { ["FINISHED", "FAILED", "KILLED", "SKIPPED"].contains($0["status"]?.text ?? "") }.count
                let running = stages.filter { $0["status"]?.text == "RUNNING" }.compactMap { $0["stage"]?.text }
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                var line = "[\(done)/\(stages.count)] \(String(format: "%.1fs", seconds))"
                if !running.isEmpty { line += " running: \(running.joined(separator: ", "))" }
                FileHandle.standardOutput.write(Data("\r\u{1B}[K\(line)".utf8))
            }
            for stage in stages {
                guard let name = stage["stage"]?.text, let state = stage["status"]?.text else { continue }
                let event = state == "WAITING" ? nil : state
                guard let event, reported[name] != event else { continue }
                reported[name] = event
                guard !terminal || (event != "RUNNING") else { continue }
                var line = "stage \(name): \(event)"
                if stage["cache_hit"]?.flag == true { line += " (cached)" }
                if let ms = stage["duration_ms"]?.number, event != "RUNNING" { line += String(format: " %.2fs", ms / 1000) }
                if let reason = stage["reason"]?.text, event != "FINISHED" || reason == "frozen" { line += " — \(reason)" }
                print(terminal ? "\r\u{1B}[K\(line)" : line)
            }
            if status != "RUNNING" {
                if terminal { print("") }
                let reason = run["reason"]?.text.map { ": \($0)" } ?? ""
                print("run \(runID) \(status)\(reason)")
                if status != "FINISHED" { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .milliseconds(terminal ? 200 : 100))
        }
    }
}

/// Set by the SIGINT handler, read by the follow loop.
final class InterruptFlag: Sendable {
    let value = Atomic<Bool>(false)
}
