import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Cairn's own monitoring API (`/api/cairn/v1/`), as `cairn monitor …` uses it.
extension CairnClient {
    /// Where the training data recorded with the version's run lives: the run's dataset input
    /// logged with context `training` (else its only dataset), when its source is a local file
    /// or an http(s) URL.
    public func trainingDataSource(name: String, version: String) async throws -> String {
        guard let runID = try await modelVersionRunID(name: name, version: version) else {
            throw CairnError.invalidParameter("Model '\(name)' version \(version) has no run; pass the training data with --data.")
        }
        let run = try await self.run(runID)
        guard case .array(let inputs)? = run["inputs"]?["dataset_inputs"], !inputs.isEmpty else {
            throw CairnError.invalidParameter("Run \(runID) recorded no dataset (mlflow.log_input); pass the training data with --data.")
        }
        func context(_ input: JSONValue) -> String? {
            guard case .array(let tags)? = input["tags"] else { return nil }
            for tag in tags {
                if case .string("mlflow.data.context")? = tag["key"], case .string(let value)? = tag["value"] { return value }
            }
            return nil
        }
        let training = inputs.filter { context($0) == "training" }
        guard let chosen = training.first ?? (inputs.count == 1 ? inputs.first : nil) else {
            throw CairnError.invalidParameter("Run \(runID) has \(inputs.count) datasets and none has context 'training'; pass --data.")
        }
        guard case .string(let sourceText)? = chosen["dataset"]?["source"],
            case .string(let uri)? = try? JSONValue.parse(sourceText)["uri"]
        else {
            throw CairnError.invalidParameter("The training dataset of run \(runID) has no source URI; pass --data.")
        }
        return uri
    }

    /// Reads training data from a local path (`file://` or plain) or an http(s) URL. The URL
    /// is not the tracking server's, so it gets none of its credentials.
    public func readData(_ location: String, threadPool: NIOThreadPool = .singleton) async throws -> [UInt8] {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            let response = try await http.execute(HTTPClientRequest(url: location), timeout: TimeAmount(configuration.transferTimeout))
            guard response.status.code < 300 else {
                throw CairnError.invalidParameter("Fetching \(location) answered \(response.status.code).")
            }
            return Array(try await response.body.collect(upTo: 512 << 20).readableBytesView)
        }
        let path = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
        return try await threadPool.runIfActive {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CairnError.invalidParameter("Cannot read the training data at \(path).")
            }
            return [UInt8](data)
        }
    }

    /// Uploads a version's reference data (CSV); answers the stored reference.
    public func uploadReference(name: String, version: String, csv: [UInt8], target: String?, prediction: String?) async throws -> JSONValue
    {
        var query = ["model_name": name, "version": version]
        if let target { query["target"] = target }
        if let prediction { query["prediction"] = prediction }
        return try await post("api/cairn/v1/references", query, body: csv, contentType: "text/csv")
    }

    /// A monitor's report evaluated now, as HTML or JSON.
    public func report(monitor: String, html: Bool) async throws -> [UInt8] {
        let path = "api/cairn/v1/monitors/\(Self.encode(monitor))/report"
        let query = ["format": html ? "html" : "json"]
        let body = try await bytes(
            path, query, expecting: html ? Expected(["text/html"], "an HTML report") : Expected(["application/json"], "a JSON report"))
        // A login page is HTML and any server's JSON is JSON: Cairn's report page has its
        // title (`MonitorReport.html()`), its JSON names the monitor.
        let isReport: Bool =
            if html {
                String(decoding: body.prefix(8192), as: UTF8.self).contains("Cairn monitor report</title>")
            } else if case .string? = (try? JSONValue.parse(body))?["monitor_id"] { true } else { false }
        guard isReport else {
            throw CairnError(
                .internalError,
                "Tracking server answered \(url(path, query)) with \(html ? "a page" : "JSON") that is not a monitor report: is the tracking URI a cairn server (and not a login page or proxy in front of it)?"
            )
        }
        return body
    }

    /// The inference log export (`format`, `model`, `version`, `start_ms`, `end_ms`,
    /// `max_results`).
    public func exportLog(_ query: [String: String]) async throws -> [UInt8] {
        try await bytes("api/cairn/v1/inference-log", query, expecting: Self.exportType(query))
    }

    /// The inference log export handed to `consume` chunk by chunk, in constant memory.
    public func exportLog(_ query: [String: String], into consume: (ByteBuffer) async throws -> Void) async throws {
        try await stream("api/cairn/v1/inference-log", query, expecting: Self.exportType(query), into: consume)
    }

    /// The content type Cairn's server sends each export format with
    /// (`InferenceLogExportFormat.contentType`).
    static func exportType(_ query: [String: String]) -> Expected {
        query["format"] == "csv"
            ? Expected(["text/csv"], "the inference log as CSV")
            : Expected(["application/x-ndjson"], "the inference log as JSON Lines")
    }
}
