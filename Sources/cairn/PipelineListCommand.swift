import ArgumentParser
import CairnClient
import CairnCore
import Foundation

struct PipelineListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The server's registered pipelines, or one pipeline's runs.")

    @Argument(help: "A pipeline: list its runs instead.")
    var pipeline: String?

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let client = try await server.client()
        if let pipeline {
            for run in try await client.pipelineRuns(pipeline)["runs"]?.items ?? [] {
                var line = "\(run["run_id"]?.text ?? "?")  \(run["status"]?.text ?? "?")  \(run["trigger"]?.text ?? "")"
                if let reason = run["reason"]?.text { line += "  \(reason)" }
                print(line)
            }
            return
        }
        for pipeline in try await client.listPipelines()["pipelines"]?.items ?? [] {
            print("\(pipeline["name"]?.text ?? "?")  \(pipeline["project_dir"]?.text ?? "")")
        }
    }
}

struct PipelineShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A run's stages: status, cache hit, timing and reason.")

    @Argument(help: "The pipeline run id.")
    var runID: String

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let run = try await server.client().pipelineRun(runID)["run"] ?? .null
        print("run \(run["run_id"]?.text ?? runID)  pipeline \(run["pipeline"]?.text ?? "?")  \(run["status"]?.text ?? "?")")
        if let reason = run["reason"]?.text { print("reason: \(reason)") }
        if let origin = run["resumed_from"]?.text { print("resumed from: \(origin)") }
        for stage in run["stages"]?.items ?? [] {
            var line = "  \(stage["stage"]?.text ?? "?")  \(stage["status"]?.text ?? "?")"
            if stage["cache_hit"]?.flag == true { line += " cached from \(stage["source_run"]?.text ?? "?")" }
            if let ms = stage["duration_ms"]?.number { line += String(format: "  %.2fs", ms / 1000) }
            if let attempts = stage["attempts"]?.number, attempts > 1 { line += "  \(Int(attempts)) attempts" }
            if let reason = stage["reason"]?.text { line += "  — \(reason)" }
            print(line)
        }
    }
}

struct PipelineLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "A stage's stdout and stderr (its last attempt).")

    @Argument(help: "The pipeline run id.")
    var runID: String

    @Argument(help: "The stage.")
    var stage: String

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let logs = try await server.client().pipelineStageLogs(runID, stage: stage)
        if logs["truncated"]?.flag == true { print("(only the last MiB of each stream)") }
        print(logs["stdout"]?.text ?? "", terminator: "")
        let stderr = logs["stderr"]?.text ?? ""
        if !stderr.isEmpty { FileHandle.standardError.write(stderr.data(using: .utf8) ?? .init()) }
    }
}

struct PipelineCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a running run (its running stages are killed).")

    @Argument(help: "The pipeline run id.")
    var runID: String

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let answer = try await server.client().cancelPipelineRun(runID)
        if answer["cancelled"]?.flag == true {
            print("cancelling run \(runID)")
        } else {
            print("run \(runID) is not running (\(answer["run"]?["status"]?.text ?? "?"))")
        }
    }
}
