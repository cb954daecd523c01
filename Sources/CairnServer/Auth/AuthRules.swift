import CairnAuth
import CairnCore
import CairnStore
import HTTPTypes

/// Which permission each route needs, with MLflow's mapping (`mlflow.server.auth`'s
/// validators): READ to read an experiment, run, registered model or version; EDIT to write
/// one; MANAGE to delete one or move a protected alias. A run, logged model or artifact is
/// judged by its experiment. Routes nobody listed here need an admin (fail closed), so a route
/// added later is never open by accident.
struct AuthRules: Sendable {
    let access: AccessControl
    let tracking: any TrackingStore

    /// Liveness, version and the capabilities a client reads before logging in (public in
    /// MLflow's basic-auth app too), the UI's stylesheet and script, and its sign-in pages.
    static func isOpen(_ path: String) -> Bool {
        path == "/health" || path == "/version" || path == "/api/3.0/mlflow/server-info" || path.hasPrefix("/static-files/")
            || path == "/login" || path == "/logout"
    }

    static let mlflowPrefixes = ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"]
    /// MLflow's users, grants and roles API: the handlers decide who may (admins, the user
    /// themselves, a resource's or a workspace's managers).
    static let userPrefixes = [
        "/api/3.0/mlflow/users/", "/ajax-api/3.0/mlflow/users/", "/api/3.0/mlflow/roles/", "/ajax-api/3.0/mlflow/roles/",
    ]
    static let cairnPrefix = "/api/cairn/v1/"
    static let artifactPrefixes = [
        "/api/2.0/mlflow-artifacts/artifacts/", "/api/2.0/mlflow-artifacts/mpu/create/", "/api/2.0/mlflow-artifacts/mpu/complete/",
        "/api/2.0/mlflow-artifacts/mpu/abort/", "/api/2.0/mlflow-artifacts/presigned/",
    ]

    /// The MLflow API route a path names (`runs/get`), or nil when it is not one.
    static func mlflowRoute(_ path: String) -> String? {
        for prefix in mlflowPrefixes where path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        return nil
    }

    /// The requirement of a request that is not one of MLflow's JSON API calls (those go
    /// through `requirement(mlflowRoute:…)` with their fields).
    func requirement(method: HTTPRequest.Method, path: String, query: RequestParameters) async throws -> AccessRequirement {
        if Self.userPrefixes.contains(where: { path.hasPrefix($0) }) { return .authenticated }
        if path == "/api/2.0/mlflow-artifacts/artifacts" {
            return try await artifact(path: (try? query.string("path")) ?? "", method: method)
        }
        for prefix in Self.artifactPrefixes where path.hasPrefix(prefix) {
            let raw = path.dropFirst(prefix.count)
            guard let decoded = try? PercentDecoding.decode(raw, mode: .path) else { return .admin }
            return try await artifact(path: decoded, method: prefix.contains("/presigned/") ? .get : method)
        }
        if path.hasPrefix(Self.cairnPrefix) { return cairn(method: method, route: String(path.dropFirst(Self.cairnPrefix.count))) }
        if path == "/metrics" { return .authenticated }
        if path.hasPrefix("/api/") || path.hasPrefix("/ajax-api/") { return .unlisted }
        // The UI's pages read the stores directly, unfiltered: they are for callers who may
        // read everything; its forms change things and are for admins.
        return method == .get || method == .head ? .readsEverything : .admin
    }

    func cairn(method: HTTPRequest.Method, route: String) -> AccessRequirement {
        let segments = route.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.first == "tokens" { return .authenticated }
        if segments.first == "audit" { return .admin }
        // A part of an upload whose id the creator was given when its create was authorized.
        if segments.count == 5, segments[0] == "artifacts", segments[1] == "mpu", segments[3] == "parts" { return .authenticated }
        if segments.count >= 3, segments[0] == "models", let name = try? PercentDecoding.decode(segments[1], mode: .path) {
            if segments.count == 5, segments[2] == "aliases", segments[4] == "rollback" { return .on(.registeredModel, name, .manage) }
            if segments.count == 3, segments[2] == "evaluate" { return .on(.registeredModel, name, .update) }
        }
        // Monitors, alerts, feedback, references, inference-log exports, pipelines, triggers,
        // promotions and lineage span resources: reading them is for callers who may read
        // everything, changing them is an admin's.
        return method == .get || method == .head ? .readsEverything : .admin
    }

    /// An artifact by its path, `<experiment id>/<run id>/artifacts/…` (or a logged model's
    /// `<experiment id>/models/<model id>/…`): judged by the experiment, and refused when the
    /// run named is another experiment's.
    func artifact(path: String, method: HTTPRequest.Method) async throws -> AccessRequirement {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let experiment = segments.first, experiment.allSatisfy({ $0.isASCII && $0.isNumber }),
            !segments.contains(where: { $0 == "." || $0 == ".." })
        else { return .admin }
        let action: AuthAction =
            switch method {
            case .get, .head: .read
            case .delete: .delete
            default: .update
            }
        if segments.count > 1, segments[1].count == 32, let owner = try await access.experimentID(ofRun: segments[1]), owner != experiment {
            return .admin
        }
        return .on(.experiment, experiment, action)
    }

    /// The requirement of one of MLflow's API calls, read from its fields.
    func requirement(mlflowRoute route: String, method: HTTPRequest.Method, _ p: RequestParameters) async throws -> AccessRequirement {
        func text(_ name: String) -> String { (try? p.string(name)) ?? "" }
        func experiment(_ action: AuthAction) -> AccessRequirement { .on(.experiment, text("experiment_id"), action) }
        func model(_ action: AuthAction) -> AccessRequirement { .on(.registeredModel, text("name"), action) }
        func run(_ id: String, _ action: AuthAction) async throws -> AccessRequirement {
            // An unknown run is judged as an unknown experiment (the default permission), so
            // the answer does not tell whether the run exists.
            .on(.experiment, try await access.experimentID(ofRun: id) ?? "", action)
        }
        func runParameter(_ action: AuthAction) async throws -> AccessRequirement {
            let id = text("run_id").isEmpty ? text("run_uuid") : text("run_id")
            return try await run(id, action)
        }

        switch route {
        case "experiments/create":
            return AccessRequirement(checks: [.authenticated], follow: .creatorOfExperiment(name: text("name")))
        case "experiments/get": return experiment(.read)
        case "experiments/get-by-name":
            let found = try await tracking.getExperiment(name: text("experiment_name"))
            return .on(.experiment, found?.experimentID ?? "", .read)
        case "experiments/search", "runs/search", "registered-models/search", "model-versions/search", "logged-models/search":
            // The handlers return only what the caller may read.
            return .authenticated
        case "experiments/update", "experiments/set-experiment-tag", "experiments/delete-experiment-tag": return experiment(.update)
        case "experiments/delete", "experiments/restore": return experiment(.delete)
        case "runs/create", "logged-models": return experiment(.update)
        case "runs/get", "metrics/get-history", "artifacts/list": return try await runParameter(.read)
        case "runs/update", "runs/log-metric", "runs/log-parameter", "runs/log-batch", "runs/set-tag", "runs/delete-tag", "runs/log-inputs",
            "runs/outputs":
            return try await runParameter(.update)
        case "runs/delete", "runs/restore": return try await runParameter(.delete)
        case "metrics/get-history-bulk-interval":
            var checks: [AccessRequirement.Check] = []
            for id in (try? p.strings("run_ids")) ?? [] { checks += try await run(id, .read).checks }
            return AccessRequirement(checks: checks.isEmpty ? [.authenticated] : checks)
        case "registered-models/create":
            return AccessRequirement(checks: [.authenticated], follow: .creatorOfModel(name: text("name")))
        case "registered-models/get", "registered-models/get-latest-versions", "model-versions/get", "model-versions/get-download-uri":
            return model(.read)
        case "registered-models/rename":
            return AccessRequirement(checks: model(.update).checks, follow: .renameModel(from: text("name"), to: text("new_name")))
        case "registered-models/update", "registered-models/set-tag", "registered-models/delete-tag", "model-versions/update",
            "model-versions/transition-stage", "model-versions/set-tag":
            return model(.update)
        case "registered-models/delete":
            return AccessRequirement(checks: model(.delete).checks, follow: .dropModel(name: text("name")))
        case "model-versions/delete", "model-versions/delete-tag": return model(.delete)
        case "registered-models/alias":
            switch method {
            case .get, .head: return model(.read)
            case .delete: return model(.delete)
            default: return model(access.policy.protectedAliases.contains(text("alias")) ? .manage : .update)
            }
        case "model-versions/create":
            var checks = model(.update).checks
            // Registering a run's model reads the run.
            if !text("run_id").isEmpty { checks += try await run(text("run_id"), .read).checks }
            return AccessRequirement(checks: checks)
        default:
            break
        }
        let segments = route.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.first == "logged-models", segments.count >= 2, let id = try? PercentDecoding.decode(segments[1], mode: .path) {
            let experimentID = try await access.experimentID(ofLoggedModel: id) ?? ""
            let action: AuthAction =
                switch method {
                case .get, .head: .read
                case .delete: .delete
                default: .update
                }
            return .on(.experiment, experimentID, action)
        }
        if segments.first == "users" || segments.count >= 2 && segments[1] == "permissions" { return .authenticated }
        // Webhooks are for admins, as in MLflow.
        if segments.first == "webhooks" { return .admin }
        return .unlisted
    }
}
