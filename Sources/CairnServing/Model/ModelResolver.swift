import CairnClient
import CairnCore
import Foundation
import Logging
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

/// Resolves model URIs through a Cairn (or MLflow) tracking server with `CairnClient`, and
/// downloads the model's files through the proxied artifact API into the model cache (once
/// per model version).
public struct ModelResolver: Sendable {
    public var tracking: ClientConfiguration
    public var cache: ModelCache
    /// Checks the tracking server is up before a fetch, so a server that is down is a clear
    /// error in seconds.
    public var probe = TrackingServerProbe()
    let logger: Logger

    public init(tracking: ClientConfiguration, cacheDirectory: String, logger: Logger = Logger(label: "cairn")) {
        self.tracking = tracking
        self.cache = ModelCache(directory: cacheDirectory)
        self.logger = logger
    }

    /// The client of the tracking server, for URIs that need one.
    func makeClient() throws(CairnError) -> CairnClient {
        // A URI that is set but not a server's is refused by the client, saying what is wrong.
        guard tracking.trackingURI != nil else {
            throw CairnError(
                .invalidParameterValue,
                "A tracking server is needed to resolve this model URI: pass --tracking-uri http://host:port or set MLFLOW_TRACKING_URI.")
        }
        var client = try CairnClient(tracking, logger: logger)
        client.probe = probe
        return client
    }

    /// The registry version an alias, stage or `latest` points at now; nil for URIs that
    /// name a fixed model. Cheap: one REST call, used to poll for moves.
    public func currentVersion(of uri: ModelURI) async throws -> String? {
        guard case .registered = uri else { return nil }
        return try await makeClient().currentVersion(of: uri)
    }

    /// Finds the model's files and downloads them (for a local directory, checks it).
    public func fetch(_ uri: ModelURI, pinnedVersion: String? = nil) async throws -> ResolvedModel {
        if case .localDirectory(let path) = uri {
            _ = try MLmodel(directory: path)
            return ResolvedModel(directory: path, version: nil, versionLabel: "local")
        }
        let client = try makeClient()
        try await client.checkReachable()
        switch uri {
        case .localDirectory:
            preconditionFailure("handled above")
        case .registered(let name, _):
            let resolvedVersion: String?
            if let pinnedVersion { resolvedVersion = pinnedVersion } else { resolvedVersion = try await client.currentVersion(of: uri) }
            guard let version = resolvedVersion else { throw CairnError(.resourceDoesNotExist, "No version for \(uri).") }
            let location = try await client.resolveRunsURI(try await client.downloadURI(name: name, version: version))
            let entry = try await download(location, label: "\(name)-v\(version)", client: client)
            return ResolvedModel(directory: entry.path, version: version, versionLabel: version, cacheLease: entry.lease)
        case .loggedModel(let id):
            let entry = try await download(try await client.loggedModelArtifacts(id), label: id, client: client)
            return ResolvedModel(directory: entry.path, version: nil, versionLabel: id, cacheLease: entry.lease)
        case .run(let runID, let path):
            let (runArtifacts, experimentID) = try await client.runArtifacts(runID)
            let label = path.map { "\(runID)/\($0)" } ?? runID
            let location = path.map { runArtifacts + "/" + $0 } ?? runArtifacts
            if try await !client.listArtifacts(CairnClient.artifactsPath(location)).isEmpty {
                let entry = try await download(location, label: path.map { "\(runID)-\($0)" } ?? runID, client: client)
                return ResolvedModel(directory: entry.path, version: nil, versionLabel: label, cacheLease: entry.lease)
            }
            // MLflow 3 logs models as logged models: find the one with this name from this run.
            guard let path, let artifactURI = try await client.loggedModelArtifacts(run: runID, experimentID: experimentID, name: path)
            else {
                throw CairnError(.resourceDoesNotExist, "No model at \(uri).")
            }
            let entry = try await download(artifactURI, label: "\(runID)-\(path)", client: client)
            return ResolvedModel(directory: entry.path, version: nil, versionLabel: label, cacheLease: entry.lease)
        }
    }

    /// The model at `uri` from the cache, downloaded first when it is not there (see
    /// `ModelCache` for how concurrent fetches and crashes are kept from leaving half a copy).
    /// Then the cache is pruned.
    func download(_ uri: String, label: String, client: CairnClient) async throws -> ModelCache.Entry {
        let path = try CairnClient.artifactsPath(uri)
        let key = ModelCache.key(label: label, source: client.trackingURI + "\n" + path)
        let entry = try await cache.entry(key) { target in
            let files = try await client.listArtifacts(path)
            guard files.contains(MLmodel.fileName) else {
                throw CairnError(.resourceDoesNotExist, "No MLmodel file under \(uri).")
            }
            logger.info("Downloading model", metadata: ["uri": "\(uri)", "files": "\(files.count)", "cache": "\(cache.directory)"])
            for file in files {
                try await client.downloadArtifact(path + "/" + file, to: (target as NSString).appendingPathComponent(file))
            }
        }
        // Pruning walks the cache's files: blocking I/O, so off the concurrency pool.
        let removed = try await NIOThreadPool.singleton.runIfActive { [cache] in cache.prune() }
        if !removed.isEmpty { logger.info("Pruned the model cache", metadata: ["removed": "\(removed.joined(separator: ", "))"]) }
        return entry
    }
}
