import ArgumentParser
import CairnPipelines

/// Prints a pipeline's stage graph. Needs only the spec: it works without a server.
struct PipelineDagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dag",
        abstract: "Print the stage graph of a pipeline (its spec only; no server needed).",
        discussion: "json lists every resolved stage (foreach and matrix expanded, templates filled) with its command and upstream stages."
    )

    @Option(help: "dot (Graphviz), mermaid, or json.")
    var format: PipelineGraph.Format = .dot

    @Argument(help: "The project directory holding cairn.yaml or dvc.yaml, or a spec file.")
    var project = "."

    func run() throws {
        let spec = try PipelineSpecLoader().load(at: project)
        print(PipelineGraph(spec).render(format), terminator: "")
    }
}

extension PipelineGraph.Format: ExpressibleByArgument {}
