import ArgumentParser
import CairnCore

@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Cairn: experiment tracking, model registry, serving and monitoring in one binary.",
        version: CairnVersion.current,
        subcommands: [
            ServerCommand.self, ServeCommand.self, PredictCommand.self, MonitorCommand.self, ModelCommand.self, PipelineCommand.self,
        ]
    )
}
