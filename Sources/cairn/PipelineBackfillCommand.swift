import ArgumentParser
import CairnClient
import CairnCore
import Foundation

/// `cairn pipeline backfill NAME --from T --to T`: the explicit catch-up a schedule never does
/// by itself (one run per missed tick, in order, each a stored `backfill` event; ticks beyond the
/// pipeline's `concurrency` are queued and run one after another).
struct PipelineBackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill", abstract: "Run a scheduled pipeline once per tick of its schedule between two times (UTC).")

    @Argument(help: "The pipeline.")
    var pipeline: String

    @Option(help: "The first time, ISO 8601 (2026-12-01T00:00:00Z) or milliseconds since the epoch.")
    var from: String

    @Option(help: "The last time (inclusive), as --from.")
    var to: String

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        guard let start = Self.milliseconds(from), let end = Self.milliseconds(to) else {
            throw ValidationError("--from and --to must be ISO 8601 times (2026-12-01T00:00:00Z) or milliseconds since the epoch.")
        }
        guard start <= end else { throw ValidationError("--from must not be after --to.") }
        let answer = try await server.client().backfillPipeline(pipeline, from: start, to: end)
        let events = answer["events"]?.items ?? []
        for event in events {
            // A pending backfill tick is queued: it runs, in tick order, when the pipeline has a free slot.
            let state = event["state"]?.text.map { $0 == "pending" ? "queued" : $0 } ?? "?"
            var line = "\(event["dedupe_key"]?.text ?? "?")  \(state)"
            if let run = event["run_id"]?.text { line += "  run \(run)" }
            if let reason = event["reason"]?.text { line += "  — \(reason)" }
            print(line)
        }
        print("\(events.count) tick\(events.count == 1 ? "" : "s")")
    }

    static func milliseconds(_ text: String) -> Int64? {
        if let number = Int64(text) { return number }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}
