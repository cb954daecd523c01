import AsyncHTTPClient
import CairnCore
import CairnServing
import Foundation
import Logging
import NIOCore

/// What `cairn monitor …` asks of a `cairn server`: reference uploads, reports and log
/// exports, plus finding a model version's training data through the tracking API.
public struct MonitorClient: Sendable {
    public let trackingURI: String
    let client: HTTPClient

    public init(trackingURI: String?, client: HTTPClient = .shared) throws(CairnError) {
        guard let trackingURI, trackingURI.hasPrefix("http://") || trackingURI.hasPrefix("https://") else {
            throw CairnError(.invalidParameterValue, "A tracking server is needed: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
        }
        self.trackingURI = trackingURI.hasSuffix("/") ? String(trackingURI.dropLast()) : trackingURI
        self.client = client
    }

    /// Waits (briefly, logging each retry) for the server to accept connections, else throws
    /// naming its URL: without this a server that is down holds a command for a request's
    /// whole timeout.
    public func checkReachable(probe: TrackingServerProbe = TrackingServerProbe(), logger: Logger) async throws {
        try await probe.waitUntilReachable(trackingURI, logger: logger)
    }

    /// The registered name and version a `models:/` URI names now.
    public func resolve(_ uri: String) async throws -> (name: String, version: String) {
        let parsed = try ModelURI(parsing: uri)
        switch parsed {
        case .alias(let name, _), .version(let name, _):
            let resolver = ModelResolver(trackingURI: trackingURI, cacheDirectory: NSTemporaryDirectory(), client: client)
            guard let version = try await resolver.currentVersion(of: parsed) else {
                throw CairnError.invalidParameter("'\(uri)' does not name a registered model version.")
            }
            return (name, version)
        default:
            throw CairnError.invalidParameter("'\(uri)' must be models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest.")
        }
    }

    /// Where the training data recorded with the version's run lives: the run's dataset input
    /// logged with context `training` (else its only dataset), when its source is a local file
    /// or an http(s) URL.
    public func trainingDataSource(name: String, version: String) async throws -> String {
        let modelVersion = try await json(get: "api/2.0/mlflow/model-versions/get", ["name": name, "version": version])
        guard case .string(let runID)? = modelVersion["model_version"]?["run_id"], !runID.isEmpty else {
            throw CairnError.invalidParameter("Model '\(name)' version \(version) has no run; pass the training data with --data.")
        }
        let run = try await json(get: "api/2.0/mlflow/runs/get", ["run_id": runID])
        guard case .array(let inputs)? = run["run"]?["inputs"]?["dataset_inputs"], !inputs.isEmpty else {
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
              case .string(let uri)? = try? JSONValue.parse(sourceText)["uri"] else {
            throw CairnError.invalidParameter("The training dataset of run \(runID) has no source URI; pass --data.")
        }
        return uri
    }

    /// Reads training data from a local path (`file://` or plain) or an http(s) URL.
    public func readData(_ location: String) async throws -> [UInt8] {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            let response = try await client.execute(HTTPClientRequest(url: location), timeout: .seconds(300))
            guard response.status.code < 300 else {
                throw CairnError.invalidParameter("Fetching \(location) answered \(response.status.code).")
            }
            return Array(try await response.body.collect(upTo: 512 << 20).readableBytesView)
        }
        let path = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnError.invalidParameter("Cannot read the training data at \(path).")
        }
        return [UInt8](data)
    }

    public func uploadReference(name: String, version: String, csv: [UInt8], target: String?, prediction: String?) async throws -> JSONValue {
        var query = ["model_name": name, "version": version]
        if let target { query["target"] = target }
        if let prediction { query["prediction"] = prediction }
        var request = HTTPClientRequest(url: url("api/cairn/v1/references", query))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/csv")
        request.body = .bytes(ByteBuffer(bytes: csv))
        return try JSONValue.parse(try await send(request))
    }

    public func report(monitor: String, html: Bool) async throws -> [UInt8] {
        try await send(HTTPClientRequest(url: url("api/cairn/v1/monitors/\(Self.encode(monitor))/report", ["format": html ? "html" : "json"])))
    }

    /// The export, handed to `body` a chunk at a time as it arrives: a million records never
    /// sit in memory.
    public func exportLog(_ query: [String: String], into body: ([UInt8]) async throws -> Void) async throws {
        let request = HTTPClientRequest(url: url("api/cairn/v1/inference-log", query))
        let response = try await client.execute(request, timeout: .seconds(3_600))
        guard response.status.code < 300 else {
            throw Self.failure(request, status: response.status.code, body: Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        }
        for try await chunk in response.body { try await body(Array(chunk.readableBytesView)) }
    }

    // MARK: - HTTP

    func json(get path: String, _ query: [String: String]) async throws -> JSONValue {
        try JSONValue.parse(try await send(HTTPClientRequest(url: url(path, query))))
    }

    func url(_ path: String, _ query: [String: String]) -> String {
        var url = trackingURI + "/" + path
        if !query.isEmpty {
            url += "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.encode($0.value))" }.joined(separator: "&")
        }
        return url
    }

    /// The body of a 2xx answer; otherwise the server's MLflow-shaped error, rethrown.
    func send(_ request: HTTPClientRequest) async throws -> [UInt8] {
        let response = try await client.execute(request, timeout: .seconds(600))
        let body = Array(try await response.body.collect(upTo: 1 << 30).readableBytesView)
        guard response.status.code < 300 else { throw Self.failure(request, status: response.status.code, body: body) }
        return body
    }

    /// The server's MLflow-shaped error of a non-2xx answer.
    static func failure(_ request: HTTPClientRequest, status: UInt, body: [UInt8]) -> CairnError {
        let document = try? JSONValue.parse(body)
        if case .string(let code)? = document?["error_code"], let errorCode = ErrorCode(rawValue: code) {
            let message: String = if case .string(let text)? = document?["message"] { text } else { "" }
            return CairnError(errorCode, message)
        }
        // No MLflow-shaped error: most often the URI points at something that is not one.
        return CairnError(.internalError, "\(request.url) answered \(status) without an MLflow error: is the tracking URI a cairn server?")
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}
