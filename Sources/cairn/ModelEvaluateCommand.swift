import ArgumentParser
import CairnClient
import CairnCore
import CairnPipelines
import Foundation

struct ModelEvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run the evaluation gate: score a candidate and the alias's version on held-out data, and move the alias if it passes.",
        discussion: """
            Each --metric is NAME>=THRESHOLD (greater is better), NAME<=THRESHOLD (lower is better) or a bare NAME, then
            comma-separated limits: min_absolute_change=X, min_relative_change=X, greater_is_better=true|false (a bare NAME needs
            greater_is_better and a limit; thresholds are inclusive, so > and < are refused).
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

    /// `accuracy_score>=0.8,min_absolute_change=0.01` → ("accuracy_score", {threshold, …}); a
    /// threshold MLflow could not mean is a usage error, before anything is sent.
    static func parseMetric(_ text: String) throws -> (String, JSONValue) {
        do {
            return try MetricThresholdArgument.parse(text)
        } catch {
            throw ValidationError(error.message)
        }
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
