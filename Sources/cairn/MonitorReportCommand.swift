import ArgumentParser
import CairnClient

struct MonitorReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evaluate a monitor now and write its report, as a self-contained HTML page or JSON."
    )

    @Argument(help: "The monitor's id or name.")
    var monitor: String

    @Option(help: "Output file ('-' for standard output).")
    var out = "-"

    @Option(help: "html or json (default: html when --out ends in .html, else json).")
    var format: String?

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let html = (format ?? (out.hasSuffix(".html") ? "html" : "json")) == "html"
        if let format, format != "html", format != "json" {
            throw ValidationError("--format must be html or json.")
        }
        try writeOutput(try await server.client().report(monitor: monitor, html: html), to: out)
    }
}
