import AsyncHTTPClient
import CairnCore
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOPosix

/// A model found and downloaded: its files are in `directory`.
public struct ResolvedModel: Sendable {
    public var directory: String
    /// The registry version (`"3"`) when the URI went through the registry, else nil.
    public var version: String?
    /// What served responses are labelled with: the registry version, the logged-model id,
    /// or the run path.
    public var versionLabel: String
    /// Keeps a cached download from being pruned while the model may read its files; nil for
    /// a local directory, which is used in place.
    public var cacheLease: ModelCache.Lease?
}

/// Resolves model URIs through a Cairn (or MLflow) tracking server's REST API, the same
/// calls `mlflow.pyfunc.load_model` makes, and downloads the model's files through the
/// proxied artifact API into the model cache (once per model version).
public struct ModelResolver: Sendable {
    public var trackingURI: String?
    public var cache: ModelCache
    /// Checks the tracking server is up before a fetch, so a server that is down is a clear
    /// error in seconds.
    public var probe = TrackingServerProbe()
    let client: HTTPClient
    let logger: Logger

    public init(trackingURI: String?, cacheDirectory: String, client: HTTPClient = .shared, logger: Logger = Logger(label: "cairn")) {
        self.trackingURI = trackingURI.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.cache = ModelCache(directory: cacheDirectory)
        self.client = client
        self.logger = logger
    }

    /// The registry version an alias or `latest` points at now; nil for URIs that name a
    /// fixed model. Cheap: one REST call, used to poll for alias moves.
    public func currentVersion(of uri: ModelURI) async throws -> String? {
        switch uri {
        case .alias(let name, let alias):
            let answer = try await get("api/2.0/mlflow/registered-models/alias", ["name": name, "alias": alias])
            guard case .string(let version)? = answer["model_version"]?["version"] else {
                throw CairnError(.internalError, "The tracking server's alias answer has no version.")
            }
            return version
        case .version(let name, nil):
            let answer = try await post("api/2.0/mlflow/registered-models/get-latest-versions", .object(["name": .string(name)]))
            guard case .array(let versions)? = answer["model_versions"] else {
                throw CairnError(.resourceDoesNotExist, "Registered model '\(name)' has no versions.")
            }
            let numbers = versions.compactMap { version -> Int? in
                if case .string(let text)? = version["version"] { Int(text) } else { nil }
            }
            guard let latest = numbers.max() else { throw CairnError(.resourceDoesNotExist, "Registered model '\(name)' has no versions.") }
            return String(latest)
        case .version(_, let version?):
            return version
        default:
            return nil
        }
    }

    /// Finds the model's files and downloads them (for a local directory, checks it).
    public func fetch(_ uri: ModelURI, pinnedVersion: String? = nil) async throws -> ResolvedModel {
        if case .localDirectory = uri {} else {
            try await probe.waitUntilReachable(try baseURL(), logger: logger)
        }
        switch uri {
        case .localDirectory(let path):
            _ = try MLmodel(directory: path)
            return ResolvedModel(directory: path, version: nil, versionLabel: "local")
        case .alias(let name, _), .version(let name, _):
            let resolvedVersion: String?
            if let pinnedVersion { resolvedVersion = pinnedVersion } else { resolvedVersion = try await currentVersion(of: uri) }
            guard let version = resolvedVersion else { throw CairnError(.resourceDoesNotExist, "No version for \(uri).") }
            let answer = try await get("api/2.0/mlflow/model-versions/get-download-uri", ["name": name, "version": version])
            guard case .string(let artifactURI)? = answer["artifact_uri"] else {
                throw CairnError(.internalError, "The tracking server gave no download URI for \(name) version \(version).")
            }
            let location = try await resolveRunsURI(artifactURI)
            let entry = try await download(location, label: "\(name)-v\(version)")
            return ResolvedModel(directory: entry.path, version: version, versionLabel: version, cacheLease: entry.lease)
        case .loggedModel(let id):
            let answer = try await get("api/2.0/mlflow/logged-models/\(id)", [:])
            guard case .string(let artifactURI)? = answer["model"]?["info"]?["artifact_uri"] else {
                throw CairnError(.internalError, "The tracking server's logged model \(id) has no artifact URI.")
            }
            let entry = try await download(artifactURI, label: id)
            return ResolvedModel(directory: entry.path, version: nil, versionLabel: id, cacheLease: entry.lease)
        case .run(let runID, let path):
            let answer = try await get("api/2.0/mlflow/runs/get", ["run_id": runID])
            guard case .string(let runArtifacts)? = answer["run"]?["info"]?["artifact_uri"],
                  case .string(let experimentID)? = answer["run"]?["info"]?["experiment_id"] else {
                throw CairnError(.internalError, "The tracking server's run \(runID) has no artifact URI.")
            }
            if try await !listFiles(artifactsPath(runArtifacts + "/" + path)).isEmpty {
                let entry = try await download(runArtifacts + "/" + path, label: "\(runID)-\(path)")
                return ResolvedModel(directory: entry.path, version: nil, versionLabel: "\(runID)/\(path)", cacheLease: entry.lease)
            }
            // MLflow 3 logs models as logged models: find the one with this name from this run.
            let filter = "name = '\(path.replacingOccurrences(of: "'", with: "\\'"))'"
            let search = try await post("api/2.0/mlflow/logged-models/search", .object([
                "experiment_ids": .array([.string(experimentID)]), "filter": .string(filter),
            ]))
            guard case .array(let models)? = search["models"],
                  let match = models.first(where: { if case .string(runID)? = $0["info"]?["source_run_id"] { true } else { false } }),
                  case .string(let artifactURI)? = match["info"]?["artifact_uri"] else {
                throw CairnError(.resourceDoesNotExist, "No model at runs:/\(runID)/\(path).")
            }
            let entry = try await download(artifactURI, label: "\(runID)-\(path)")
            return ResolvedModel(directory: entry.path, version: nil, versionLabel: "\(runID)/\(path)", cacheLease: entry.lease)
        }
    }

    /// A version registered from `runs:/<run>/<path>` keeps that as its download URI (as in
    /// MLflow); it names the run's artifact folder.
    func resolveRunsURI(_ uri: String) async throws -> String {
        guard uri.hasPrefix("runs:/") else { return uri }
        guard case .run(let runID, let path) = try ModelURI(parsing: uri) else { return uri }
        let answer = try await get("api/2.0/mlflow/runs/get", ["run_id": runID])
        guard case .string(let runArtifacts)? = answer["run"]?["info"]?["artifact_uri"] else {
            throw CairnError(.internalError, "The tracking server's run \(runID) has no artifact URI.")
        }
        return runArtifacts + "/" + path
    }

    // MARK: - REST

    private func baseURL() throws -> String {
        guard let trackingURI, trackingURI.hasPrefix("http://") || trackingURI.hasPrefix("https://") else {
            throw CairnError(.invalidParameterValue, "A tracking server is needed to resolve this model URI: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
        }
        return trackingURI
    }

    func get(_ path: String, _ query: [String: String]) async throws -> JSONValue {
        var url = try baseURL() + "/" + path
        if !query.isEmpty {
            url += "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.encode($0.value))" }.joined(separator: "&")
        }
        return try await send(HTTPClientRequest(url: url))
    }

    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = HTTPClientRequest(url: try baseURL() + "/" + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        var writer = JSONWriter()
        writer.value(body)
        request.body = .bytes(ByteBuffer(bytes: writer.bytes))
        return try await send(request)
    }

    private func send(_ request: HTTPClientRequest) async throws -> JSONValue {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        let document = try? JSONValue.parse(body.readableBytesView)
        guard response.status.code < 300 else {
            if case .string(let code)? = document?["error_code"], let errorCode = ErrorCode(rawValue: code) {
                let message: String = if case .string(let text)? = document?["message"] { text } else { "" }
                throw CairnError(errorCode, "Tracking server: \(message)")
            }
            // No MLflow-shaped error: most often the URI points at something that is not one.
            throw CairnError(.internalError, "Tracking server answered \(response.status.code) to \(request.url) without an MLflow error: is the tracking URI a cairn or MLflow tracking server?")
        }
        guard let document else { throw CairnError(.internalError, "Tracking server sent a body that is not JSON for \(request.url).") }
        return document
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    // MARK: - Artifacts

    /// `mlflow-artifacts:/P` (or an http(s) URL of the proxied artifact API) → `P`.
    func artifactsPath(_ uri: String) throws -> String {
        if uri.hasPrefix("mlflow-artifacts:") {
            var rest = Substring(uri.dropFirst("mlflow-artifacts:".count))
            // `mlflow-artifacts://host:port/P` pins a host; the path is what matters here.
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
            }
            return rest.split(separator: "/").joined(separator: "/")
        }
        if let range = uri.range(of: "/api/2.0/mlflow-artifacts/artifacts/") {
            return String(uri[range.upperBound...])
        }
        throw CairnError(.invalidParameterValue, "Cannot download artifacts from '\(uri)': Cairn serves models stored through the tracking server's artifact proxy (mlflow-artifacts:/).")
    }

    /// Every file under `path`, recursively, as paths relative to it.
    func listFiles(_ path: String, relative: String = "") async throws -> [String] {
        let listing = try await get("api/2.0/mlflow-artifacts/artifacts", ["path": relative.isEmpty ? path : path + "/" + relative])
        guard case .array(let entries)? = listing["files"] else { return [] }
        var files: [String] = []
        for entry in entries {
            guard case .string(let name)? = entry["path"] else { continue }
            let child = relative.isEmpty ? name : relative + "/" + name
            guard !name.contains("/"), name != "..", name != "." else {
                throw CairnError(.internalError, "The artifact listing holds an unsafe name '\(name)'.")
            }
            if case .bool(true)? = entry["is_dir"] {
                files += try await listFiles(path, relative: child)
            } else {
                files.append(child)
            }
        }
        return files
    }

    /// The model at `uri` from the cache, downloaded first when it is not there (see
    /// `ModelCache` for how concurrent fetches and crashes are kept from leaving half a copy).
    /// Then the cache is pruned.
    func download(_ uri: String, label: String) async throws -> ModelCache.Entry {
        let path = try artifactsPath(uri)
        let key = ModelCache.key(label: label, source: try baseURL() + "\n" + path)
        let entry = try await cache.entry(key) { target in
            let files = try await listFiles(path)
            guard files.contains(MLmodel.fileName) else {
                throw CairnError(.resourceDoesNotExist, "No MLmodel file under \(uri).")
            }
            logger.info("Downloading model", metadata: ["uri": "\(uri)", "files": "\(files.count)", "cache": "\(cache.directory)"])
            for file in files {
                let destination = (target as NSString).appendingPathComponent(file)
                try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let encoded = (path + "/" + file).split(separator: "/").map { Self.encode(String($0)) }.joined(separator: "/")
                let response = try await client.execute(HTTPClientRequest(url: try baseURL() + "/api/2.0/mlflow-artifacts/artifacts/" + encoded), timeout: .seconds(300))
                guard response.status.code == 200 else {
                    throw CairnError(.internalError, "Downloading \(file) answered \(response.status.code).")
                }
                guard FileManager.default.createFile(atPath: destination, contents: nil),
                      let handle = FileHandle(forWritingAtPath: destination) else {
                    throw CairnError(.internalError, "Cannot write \(destination).")
                }
                defer { try? handle.close() }
                for try await chunk in response.body {
                    try handle.write(contentsOf: chunk.readableBytesView)
                }
            }
        }
        // Pruning walks the cache's files: blocking I/O, so off the concurrency pool.
        let removed = try await NIOThreadPool.singleton.runIfActive { [cache] in cache.prune() }
        if !removed.isEmpty { logger.info("Pruned the model cache", metadata: ["removed": "\(removed.joined(separator: ", "))"]) }
        return entry
    }
}
