import ArgumentParser
import CairnClient
import CairnCore
import Foundation

struct ModelEvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run the evaluation gate: score a candidate and the alias's version on held-out data, and move the alias if it passes.",
        discussion: """
            Each --metric is NAME>=THRESHOLD (greater is better), NAME<=THRESHOLD (lower is better) or a bare NAME, then
            comma-separated limits: min_absolute_change=X, min_relative_change=X, greater_is_better=true|false.
            Example: --metric 'accuracy_score>=0.8,min_absolute_change=0.01'. Names are MLflow's (accuracy_score, precision_score,
            recall_score, f1_score, roc_auc, mean_absolute_error, mean_squared_error, root_mean_squared_error, r2_score) or
            short (accuracy, precision, recall, f1, auc, mae, mse, rmse, r2). Exits 1 when the alias did not move.
            """
    )

    @Argument(help: "The registered model: NAME or models:/NAME.")
    var model: String

    @Option(help: "The candidate: a version number or an alias.")
    var candidate: String

    @Option(help: "The alias judged against, moved on a pass.")
    var alias = "champion"

    @Option(help: "Held-out CSV with a header row (sent to the server).")
    var data: String

    @Option(help: "The label column in --data.")
    var target: String

    @Option(help: "A metric threshold (repeatable).")
    var metric: [String]

    @Option(help: "After a pass, point this alias at the previous version.")
    var keepPreviousAs: String?

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let name = model.hasPrefix("models:/") ? String(model.dropFirst("models:/".count)) : model
        var thresholds = JSONObject()
        for text in metric {
            let (metricName, limit) = try Self.parseMetric(text)
            thresholds[metricName] = limit
        }
        guard let csv = FileManager.default.contents(atPath: data) else { throw CairnError.invalidParameter("Cannot read \(data).") }
        var request = JSONObject()
        request["candidate"] = .string(candidate)
        request["alias"] = .string(alias)
        request["target"] = .string(target)
        request["data"] = .string(String(decoding: csv, as: UTF8.self))
        request["data_path"] = .string(URL(fileURLWithPath: data).standardizedFileURL.path)
        request["thresholds"] = .object(thresholds)
        if let keepPreviousAs { request["keep_previous_as"] = .string(keepPreviousAs) }
        let answer = try await server.client().evaluateModel(model: name, request: .object(request))
        guard case .bool(let promoted)? = answer["promoted"], case .object(let entry)? = answer["promotion"] else {
            throw CairnError(.internalError, "The server's answer is not a gate decision: is the tracking URI a cairn server?")
        }
        var writer = JSONWriter()
        writer.value(answer)
        print(String(decoding: writer.bytes, as: UTF8.self))
        let outcome = entry["outcome"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? "?"
        FileHandle.standardError.write(Data("models:/\(name) candidate \(candidate): \(outcome)\n".utf8))
        if !promoted { throw ExitCode(1) }
    }

    /// `accuracy_score>=0.8,min_absolute_change=0.01` → ("accuracy_score", {threshold, …}).
    static func parseMetric(_ text: String) throws -> (String, JSONValue) {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let head = parts.removeFirst()
        var limit = JSONObject()
        var name = head
        for (marker, greater) in [(">=", true), ("<=", false)] {
            guard let range = head.range(of: marker) else { continue }
            name = String(head[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
            let value = String(head[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            guard let number = Double(value) else { throw CairnError.invalidParameter("--metric '\(text)': '\(value)' is not a number.") }
            limit["threshold"] = .number(number, raw: value)
            limit["greater_is_better"] = .bool(greater)
            break
        }
        guard !name.isEmpty, !name.contains("=") else {
            throw CairnError.invalidParameter("--metric '\(text)': start with NAME>=X, NAME<=X or NAME.")
        }
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw CairnError.invalidParameter("--metric '\(text)': '\(part)' is not KEY=VALUE.") }
            switch pair[0] {
            case "min_absolute_change", "min_relative_change", "threshold":
                guard let number = Double(pair[1]) else {
                    throw CairnError.invalidParameter("--metric '\(text)': \(pair[0]) '\(pair[1])' is not a number.")
                }
                limit[pair[0]] = .number(number, raw: pair[1])
            case "greater_is_better":
                guard let flag = ["true": true, "false": false][pair[1].lowercased()] else {
                    throw CairnError.invalidParameter("--metric '\(text)': greater_is_better is true or false.")
                }
                limit["greater_is_better"] = .bool(flag)
            default:
                throw CairnError.invalidParameter(
                    "--metric '\(text)': unknown limit '\(pair[0])' (threshold, min_absolute_change, min_relative_change, greater_is_better)."
                )
            }
        }
        return (name, .object(limit))
    }
}

struct ModelPromotionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promotions",
        abstract: "Print a model's promotion log (gate decisions, rollbacks, alias moves) as JSON, newest first."
    )

    @Argument(help: "The registered model: NAME or models:/NAME.")
    var model: String

    @Option(help: "Entries per page.")
    var maxResults: Int?

    @Option(help: "The next_page_token of a previous page.")
    var pageToken: String?

    @OptionGroup var server: TrackingServerOptions

    func run() async throws {
        let name = model.hasPrefix("models:/") ? String(model.dropFirst("models:/".count)) : model
        var writer = JSONWriter()
        writer.value(try await server.client().promotions(model: name, maxResults: maxResults, pageToken: pageToken))
        print(String(decoding: writer.bytes, as: UTF8.self))
    }
}
