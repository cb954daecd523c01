import CairnCore
import Foundation

/// The registry and tracking calls behind `models:/` and `runs:/` URIs, the same ones
/// `mlflow.pyfunc.load_model` makes.
extension CairnClient {
    /// The registry version a `models:/` URI names now: one call for an alias, `latest` or a
    /// stage (cheap enough to poll for moves); none for a fixed version. Nil for URIs that do
    /// not go through the registry.
    public func currentVersion(of uri: ModelURI) async throws -> String? {
        guard case .registered(let name, let selector) = uri else { return nil }
        switch selector {
        case .version(let number):
            return String(number)
        case .alias(let alias):
            let answer = try await get("api/2.0/mlflow/registered-models/alias", ["name": name, "alias": alias])
            guard case .string(let version)? = answer["model_version"]?["version"] else {
                throw CairnError(.internalError, "The tracking server's alias answer has no version.")
            }
            return version
        case .latest, .stage:
            var request: JSONObject = ["name": .string(name)]
            if case .stage(let stage) = selector { request["stages"] = .array([.string(stage)]) }
            let answer = try await post("api/2.0/mlflow/registered-models/get-latest-versions", json: .object(request), idempotent: true)
            let versions: [JSONValue] = if case .array(let list)? = answer["model_versions"] { list } else { [] }
            let numbers = versions.compactMap { version -> Int64? in
                if case .string(let text)? = version["version"] { Int64(text) } else { nil }
            }
            guard let latest = numbers.max() else {
                let stageText = if case .stage(let stage) = selector { " and stage '\(stage)'" } else { "" }
                throw CairnError(.resourceDoesNotExist, "No versions of model with name '\(name)'\(stageText) found")
            }
            return String(latest)
        }
    }

    /// The registered name and version a `models:/` URI names now (`cairn monitor reference`).
    public func registeredVersion(_ uri: ModelURI) async throws -> (name: String, version: String) {
        guard case .registered(let name, _) = uri, let version = try await currentVersion(of: uri) else {
            throw CairnError.invalidParameter(
                "'\(uri)' must name a registered model version: models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/<stage> or models:/<name>/latest."
            )
        }
        return (name, version)
    }

    /// Where a version's files are (`get-download-uri`).
    public func downloadURI(name: String, version: String) async throws -> String {
        let answer = try await get("api/2.0/mlflow/model-versions/get-download-uri", ["name": name, "version": version])
        guard case .string(let uri)? = answer["artifact_uri"] else {
            throw CairnError(.internalError, "The tracking server gave no download URI for \(name) version \(version).")
        }
        return uri
    }

    /// The run a version was registered from, if any.
    public func modelVersionRunID(name: String, version: String) async throws -> String? {
        let answer = try await get("api/2.0/mlflow/model-versions/get", ["name": name, "version": version])
        guard case .string(let runID)? = answer["model_version"]?["run_id"], !runID.isEmpty else { return nil }
        return runID
    }

    /// `runs/get`: the run's JSON (`info`, `data`, `inputs`).
    public func run(_ runID: String) async throws -> JSONValue {
        let answer = try await get("api/2.0/mlflow/runs/get", ["run_id": runID])
        guard let run = answer["run"] else { throw CairnError(.internalError, "The tracking server's answer for run \(runID) has no run.") }
        return run
    }

    /// A run's artifact root and experiment.
    public func runArtifacts(_ runID: String) async throws -> (artifactURI: String, experimentID: String) {
        let run = try await self.run(runID)
        guard case .string(let artifactURI)? = run["info"]?["artifact_uri"], case .string(let experimentID)? = run["info"]?["experiment_id"]
        else {
            throw CairnError(.internalError, "The tracking server's run \(runID) has no artifact URI.")
        }
        return (artifactURI, experimentID)
    }

    /// A logged model's artifact root.
    public func loggedModelArtifacts(_ modelID: String) async throws -> String {
        let answer = try await get("api/2.0/mlflow/logged-models/\(Self.encode(modelID))")
        guard case .string(let artifactURI)? = answer["model"]?["info"]?["artifact_uri"] else {
            throw CairnError(.internalError, "The tracking server's logged model \(modelID) has no artifact URI.")
        }
        return artifactURI
    }

    /// The artifact root of the logged model named `name` that run `runID` logged (MLflow 3
    /// logs models as logged models, not under the run's artifacts), if there is one.
    public func loggedModelArtifacts(run runID: String, experimentID: String, name: String) async throws -> String? {
        let filter = "name = '\(name.replacingOccurrences(of: "'", with: "\\'"))'"
        let search = try await post(
            "api/2.0/mlflow/logged-models/search",
            json: .object([
                "experiment_ids": .array([.string(experimentID)]), "filter": .string(filter),
            ]), idempotent: true)
        guard case .array(let models)? = search["models"],
            let match = models.first(where: { if case .string(runID)? = $0["info"]?["source_run_id"] { true } else { false } }),
            case .string(let artifactURI)? = match["info"]?["artifact_uri"]
        else { return nil }
        return artifactURI
    }

    /// A download URI as the artifact store's path: a version registered from
    /// `runs:/<run>/<path>` keeps that as its download URI (as in MLflow); it names a folder
    /// of the run's artifacts.
    public func resolveRunsURI(_ uri: String) async throws -> String {
        guard uri.hasPrefix("runs:"), case .run(let runID, let path) = try ModelURI(parsing: uri) else { return uri }
        let root = try await runArtifacts(runID).artifactURI
        return path.map { root + "/" + $0 } ?? root
    }
}
