import ArgumentParser

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Judge, promote and roll back registered models on a cairn server.",
        subcommands: [ModelEvaluateCommand.self, ModelRollbackCommand.self, ModelPromotionsCommand.self, ModelLineageCommand.self]
    )
}
