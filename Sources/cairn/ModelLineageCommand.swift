import ArgumentParser
import CairnClient
import CairnCore
import Foundation

/// `cairn model lineage NAME/VERSION` (or `--run RUN_ID`): what made a model version and what
/// happened to it, from `/api/cairn/v1/lineage/`.
struct ModelLineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract:
            "Show a model version's lineage: its run and datasets, the pipeline and stage that made it, gate decisions, alias moves, monitors.",
        discussion: "With --run RUN_ID instead, the run's pipeline and stage and the versions registered from it."
    )

    @Argument(help: "NAME/VERSION or models:/NAME/VERSION.")
    var modelVersion: String?

    @Option(name: .customLong("run"), help: "Show a run's lineage instead.")
    var runID: String?

    @Flag(help: "Print the API's JSON.")
    var json = false

    @OptionGroup var server: TrackingServerOptions

    func validate() throws {
        guard (modelVersion == nil) != (runID == nil) else { throw ValidationError("Give NAME/VERSION or --run RUN_ID (one of them).") }
        if let modelVersion, Self.split(modelVersion) == nil {
            throw ValidationError("'\(modelVersion)' is not NAME/VERSION (for example churn/3 or models:/churn/3).")
        }
    }

    /// `models:/churn/3` or `churn/3` → ("churn", "3"); a model name may itself hold `/`.
    static func split(_ text: String) -> (name: String, version: String)? {
        let plain = text.hasPrefix("models:/") ? String(text.dropFirst("models:/".count)) : text
        guard let slash = plain.lastIndex(of: "/") else { return nil }
        let name = String(plain[..<slash])
        let version = String(plain[plain.index(after: slash)...])
        guard !name.isEmpty, !version.isEmpty, version.allSatisfy(\.isNumber) else { return nil }
        return (name, version)
    }

    func run() async throws {
        let client = try await server.client()
        let answer: JSONValue
        if let runID {
            answer = try await client.runLineage(runID: runID)
        } else {
            let (name, version) = Self.split(modelVersion ?? "")!
            answer = try await client.modelVersionLineage(name: name, version: version)
        }
        if json {
            var writer = JSONWriter()
            writer.value(answer)
            print(String(decoding: writer.bytes, as: UTF8.self))
            return
        }
        print(runID == nil ? Self.describeModelVersion(answer) : Self.describeRun(answer), terminator: "")
    }

    static func time(_ value: JSONValue?) -> String {
        guard let milliseconds = value?.number else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: milliseconds / 1000))
    }

    static func runLines(_ answer: JSONValue) -> [String] {
        var lines: [String] = []
        if let run = answer["run"], run != .null {
            lines.append(
                "run          \(run["run_id"]?.text ?? "?") \"\(run["run_name"]?.text ?? "")\" (experiment \(run["experiment_id"]?.text ?? "?"), \(run["status"]?.text ?? "?"))"
            )
            for dataset in run["datasets"]?.items ?? [] {
                var line =
                    "dataset      \(dataset["name"]?.text ?? "?")  digest \(dataset["digest"]?.text ?? "?")  \(dataset["source_type"]?.text ?? "")"
                if let context = dataset["context"]?.text { line += "  (\(context))" }
                lines.append(line)
            }
        } else {
            lines.append("run          (none)")
        }
        if let pipeline = answer["pipeline_run"], pipeline != .null {
            var line =
                "pipeline     \(pipeline["pipeline"]?.text ?? "?")  run \(pipeline["run_id"]?.text ?? "?") (\(pipeline["status"]?.text ?? "?"), trigger \(pipeline["trigger"]?.text ?? "?")"
            if let event = pipeline["trigger_event_id"]?.text { line += " \(event)" }
            lines.append(line + ")")
        }
        if let stage = answer["stage_run"], stage != .null {
            lines.append(stageLine("stage        ", stage))
        }
        return lines
    }

    static func stageLine(_ prefix: String, _ stage: JSONValue) -> String {
        var line = "\(prefix)\(stage["stage"]?.text ?? "?")  run \(stage["run_id"]?.text ?? "-") (\(stage["status"]?.text ?? "?")"
        if stage["cache_hit"]?.flag == true { line += ", cache hit from \(stage["cache_source_run"]?.text ?? "?")" }
        return line + ")"
    }

    static func describeModelVersion(_ answer: JSONValue) -> String {
        let version = answer["model_version"] ?? .null
        let aliases = version["aliases"]?.items.compactMap(\.text) ?? []
        var lines = [
            "models:/\(version["name"]?.text ?? "?")/\(version["version"]?.text ?? "?")  \(version["status"]?.text ?? "")"
                + (aliases.isEmpty ? "" : "  @" + aliases.joined(separator: " @"))
        ]
        lines += runLines(answer)
        for entry in answer["promotions"]?.items ?? [] {
            var line =
                "promotion    \(time(entry["time"]))  \(entry["kind"]?.text ?? "?") \(entry["outcome"]?.text ?? "?") @\(entry["alias"]?.text ?? "?")  candidate \(entry["candidate_version"]?.text ?? "-") vs \(entry["champion_version"]?.text ?? "-")"
            if let run = entry["pipeline_run_id"]?.text { line += "  (pipeline run \(run))" }
            lines.append(line)
        }
        for move in answer["alias_moves"]?.items ?? [] {
            lines.append(
                "alias move   \(time(move["time"]))  @\(move["alias"]?.text ?? "?"): \(move["from_version"]?.text ?? "(none)") -> \(move["to_version"]?.text ?? "?")  (\(move["kind"]?.text ?? "?"))"
            )
        }
        for monitor in answer["monitors"]?.items ?? [] {
            let alias = monitor["alias"]?.text.map { "@\($0)" } ?? "every version"
            lines.append("monitor      \(monitor["name"]?.text ?? "?")  (\(alias))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describeRun(_ answer: JSONValue) -> String {
        var lines = runLines(answer)
        for stage in answer["stage_runs"]?.items ?? [] { lines.append(stageLine("  stage      ", stage)) }
        for version in answer["model_versions"]?.items ?? [] {
            let aliases = version["aliases"]?.items.compactMap(\.text) ?? []
            lines.append(
                "registered   models:/\(version["name"]?.text ?? "?")/\(version["version"]?.text ?? "?")"
                    + (aliases.isEmpty ? "" : "  @" + aliases.joined(separator: " @")))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
