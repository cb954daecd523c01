import ArgumentParser
import CairnClient
import CairnCore

struct ModelRollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Move an alias back to the version it pointed at before its last move (from the promotion log)."
    )

    @Argument(help: "models:/NAME@ALIAS")
    var modelURI: String

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        guard case .registered(let name, .alias(let alias)) = try ModelURI(loading: modelURI) else {
            throw CairnError.invalidParameter("Roll back an alias: models:/NAME@ALIAS, not '\(modelURI)'.")
        }
        let answer = try await server.client().rollbackAlias(model: name, alias: alias)
        guard case .string(let to)? = answer["promotion"]?["candidate_version"],
            case .string(let from)? = answer["promotion"]?["champion_version"]
        else {
            throw CairnError(.internalError, "The server's answer is not a rollback: is the tracking URI a cairn server?")
        }
        print("models:/\(name)@\(alias): version \(from) → version \(to)")
    }
}
