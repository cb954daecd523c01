import ArgumentParser
import CairnClient
import CairnCore
import Foundation

struct PipelineStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Which stages are up to date, stale, never run, frozen or uncacheable; --why names what changed."
    )

    @Flag(help: "Name the first part of each stale stage's key that changed (deps, params, cmd, outs).")
    var why = false

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    @OptionGroup var project: PipelineProjectOptions
    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let client = try await server.client()
        let name = try await project.register(client)
        let answer = try await client.pipelineStatus(name, why: why)
        if json {
            var writer = JSONWriter()
            writer.value(answer)
            print(String(decoding: writer.bytes, as: UTF8.self))
            return
        }
        let stages = answer["stages"]?.items ?? []
        let width = stages.compactMap { $0["stage"]?.text?.count }.max() ?? 0
        for stage in stages {
            let name = stage["stage"]?.text ?? "?"
            var line = name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (stage["state"]?.text ?? "?")
            if stage["cacheable"]?.flag == false { line += " (uncacheable: \(stage["uncacheable_reason"]?.text ?? "?"))" }
            if let reason = stage["why"]?.text { line += " — \(reason)" }
            print(line)
        }
        if stages.allSatisfy({ $0["state"]?.text == "up to date" || $0["state"]?.text == "frozen" }) {
            print("Pipeline '\(name)' is up to date.")
        }
    }
}
