import ArgumentParser

/// `cairn pipeline …`: DVC-compatible pipelines (`cairn.yaml` or `dvc.yaml`) that a cairn
/// server runs; each subcommand lives in its own `Pipeline*Command.swift`.
struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Pipelines: DVC-compatible stages (cairn.yaml or dvc.yaml) run, cached and triggered by a cairn server.",
        subcommands: [PipelineDagCommand.self]
    )
}
