import ArgumentParser
import CairnClient
import CairnCore
import Foundation

/// `cairn pipeline …`: DVC-compatible pipelines (`cairn.yaml` or `dvc.yaml`) that a cairn
/// server runs; each subcommand lives in its own `Pipeline*Command.swift`.
struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Pipelines: DVC-compatible stages (cairn.yaml or dvc.yaml) run, cached and triggered by a cairn server.",
        subcommands: [
            PipelineRunCommand.self, PipelineStatusCommand.self, PipelineResumeCommand.self, PipelineListCommand.self,
            PipelineShowCommand.self, PipelineLogsCommand.self, PipelineCancelCommand.self, PipelineDagCommand.self,
            PipelineBackfillCommand.self,
        ]
    )
}

/// The project directory option of the commands that register the pipeline in it first.
struct PipelineProjectOptions: ParsableArguments {
    @Option(help: "The project directory holding cairn.yaml or dvc.yaml (default: the current directory).")
    var projectDir: String?

    /// Registers (or refreshes) the project's pipeline on the server; returns its name.
    func register(_ client: CairnClient) async throws -> String {
        let directory = URL(fileURLWithPath: projectDir ?? FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let answer = try await client.registerPipeline(projectDirectory: directory)
        guard case .string(let name)? = answer["pipeline"]?["name"] else {
            throw CairnError(.internalError, "The server's answer names no pipeline.")
        }
        return name
    }
}

extension JSONValue {
    var text: String? { if case .string(let text) = self { text } else { nil } }
    var number: Double? { if case .number(let value, _) = self { value } else { nil } }
    var flag: Bool? { if case .bool(let value) = self { value } else { nil } }
    var items: [JSONValue] { if case .array(let items) = self { items } else { [] } }
}
