import ArgumentParser
import CairnClient
import CairnCore
import CairnMonitor
import Foundation
import NIOCore
import NIOFoundationCompat

struct MonitorLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Export a cairn server's inference log as JSON Lines or CSV."
    )

    @Option(help: "Only this served model.")
    var model: String?

    @Option(help: "Only this model version.")
    var version: String?

    @Option(help: "Records from this time on: ISO-8601 (2026-11-25T10:00:00Z) or milliseconds since the epoch.")
    var since: String?

    @Option(help: "Records before this time: ISO-8601 or milliseconds since the epoch.")
    var until: String?

    @Option(help: "The newest this many records.")
    var maxResults = 10_000

    @Option(help: "jsonl or csv.")
    var format = "jsonl"

    @Option(help: "Output file ('-' for standard output).")
    var out = "-"

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        guard InferenceLogExportFormat(rawValue: format) != nil else { throw ValidationError("--format must be jsonl or csv.") }
        var query = ["format": format, "max_results": String(maxResults)]
        if let model { query["model"] = model }
        if let version { query["version"] = version }
        if let since { query["start_ms"] = try Self.milliseconds(since) }
        if let until { query["end_ms"] = try Self.milliseconds(until) }
        let client = try await server.client()
        if out == "-" {
            try await client.exportLog(query) { chunk in
                do { try FileHandle.standardOutput.write(contentsOf: chunk.readableBytesView) } catch { try exitQuietlyOnBrokenPipe(error) }
            }
            return
        }
        // Streamed to a temporary file beside `out`, renamed once complete: a failed export
        // leaves no half-written file behind.
        let partial = out + ".part-\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw CairnError.invalidParameter("Cannot write \(out): \(String(cString: strerror(errno))).")
        }
        do {
            try await client.exportLog(query) { chunk in
                do { try handle.write(contentsOf: chunk.readableBytesView) } catch { throw cannotWrite(out, error) }
            }
            try handle.close()
            // rename(2): replaces an existing file at once, and unlike replaceItemAt does not
            // need one to exist.
            guard rename(partial, out) == 0 else {
                throw CairnError.invalidParameter("Cannot write \(out): \(String(cString: strerror(errno))).")
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    static func milliseconds(_ text: String) throws -> String {
        if let value = Int64(text) { return String(value) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) else {
            throw ValidationError("'\(text)' is neither ISO-8601 nor milliseconds since the epoch.")
        }
        return String(Int64(date.timeIntervalSince1970 * 1000))
    }
}
