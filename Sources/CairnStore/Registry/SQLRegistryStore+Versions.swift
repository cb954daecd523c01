import CairnCore
import Foundation
import SQLKit

extension SQLRegistryStore {
    /// Registers a new version (max + 1 for the model). The storage location is resolved
    /// here, once: `models:/<model_id>` points at the logged model's artifacts (and lends its
    /// run), `models:/<name>/<version|stage|latest>` and `models:/<name>@<alias>` at that
    /// version's location; any other source is its own location, after the checks MLflow's
    /// server applies (no local paths, no `..`, run and model sources must match the ids).
    public func createModelVersion(_ request: CreateModelVersion) async throws -> ModelVersion {
        let name = try RegistryValidation.validateModelName(request.name)
        guard !request.source.isEmpty else { throw CairnError.missingParameter("source") }
        for tag in request.tags { try RegistryValidation.validateTag(tag) }
        for (field, value) in [
            ("source", request.source), ("run_id", request.runID), ("run_link", request.runLink), ("description", request.description),
            ("model_id", request.modelID),
        ] {
            if let value { try TrackingValidation.validateText(value, name: field) }
        }
        let tags = SQLTrackingStore.lastWins(request.tags)
        let now = now()
        return try await database.transaction { sql in
            var source = request.source
            var runID = request.runID.flatMap { $0.isEmpty ? nil : $0 }
            var modelID = request.modelID.flatMap { $0.isEmpty ? nil : $0 }
            var storageLocation = source
            let uri = ModelSourceURI(source)
            if uri.scheme == "models" {
                guard uri.authority == nil else {
                    throw CairnError.invalidParameter(
                        "Invalid model version source: '\(source)'. Registered model sources must use the active model registry.")
                }
                let reference: ModelURI
                do {
                    reference = try ModelURI(parsing: source)
                } catch {
                    throw Self.invalidSource(source, "model_id")
                }
                switch reference {
                case .loggedModel(let sourceModelID):
                    guard let requested = modelID, requested == sourceModelID else { throw Self.invalidSource(source, "model_id") }
                    guard let model = try await Self.liveLoggedModel(sql, id: sourceModelID) else {
                        throw CairnError.invalidParameter(
                            "Unable to fetch model from model URI source artifact location '\(source)'.Error: Logged model with ID '\(sourceModelID)' not found."
                        )
                    }
                    storageLocation = model.artifactUri
                    if runID == nil, !model.sourceRunID.isEmpty { runID = model.sourceRunID }
                case .registered(let sourceName, let selector):
                    let resolved = try await Self.resolveRegistered(sql, name: sourceName, selector: selector)
                    // Set fields must agree with the referenced version; unset ones inherit.
                    let runMismatch = request.runID != nil && (request.runID ?? "") != (resolved.runID ?? "")
                    let modelMismatch = request.modelID != nil && (request.modelID ?? "") != (resolved.modelID ?? "")
                    if runMismatch || modelMismatch {
                        throw CairnError.invalidParameter(
                            "Invalid model version source: '\(source)'. The run_id and model_id request parameters must match the referenced model version."
                        )
                    }
                    source = "models:/\(resolved.name)/\(resolved.version)"
                    if request.runID == nil { runID = resolved.runID }
                    if request.modelID == nil { modelID = resolved.modelID }
                    storageLocation = try await Self.storageLocation(sql, name: resolved.name, version: resolved.number)
                case .run, .localDirectory:
                    // A models: URI parses to neither.
                    throw Self.invalidSource(source, "model_id")
                }
            } else if let modelID {
                try await Self.validateSource(sql, source: source, uri: uri, modelID: modelID)
            } else {
                try await Self.validateSource(sql, source: source, uri: uri, runID: runID)
            }
            if let modelID {
                // The logged model lends its run and receives the `mlflow.modelVersions` tag.
                guard let model = try await Self.liveLoggedModel(sql, id: modelID) else {
                    throw SQLLoggedModelStore.notFound(modelID)
                }
                if runID == nil, !model.sourceRunID.isEmpty { runID = model.sourceRunID }
            }

            // Touching the model first also locks its row on PostgreSQL, which serialises
            // concurrent registrations of the same model and keeps max + 1 unique.
            guard
                try await sql.raw(
                    """
                    UPDATE registered_models SET last_updated_time = \(bind: now) WHERE name = \(bind: name) RETURNING name
                    """
                ).first() != nil
            else {
                throw Self.modelNotFound(name)
            }
            let version = try await sql.raw("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE name = \(bind: name)")
                .first()!.decode(column: "next", as: Int64.self)
            try await sql.raw(
                """
                INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage,
                    source, storage_location, run_id, run_link, status, status_message, model_id)
                VALUES (\(bind: name), \(bind: version), \(bind: now), \(bind: now), \(bind: request.description ?? ""), NULL,
                    \(bind: ModelVersionStage.none.rawValue), \(bind: source), \(bind: storageLocation), \(bind: runID),
                    \(bind: request.runLink ?? ""), \(bind: ModelVersionStatus.ready.rawValue), NULL, \(bind: modelID))
                """
            ).run()
            try await Self.upsertTags(sql, name: name, version: version, tags: tags)
            if let modelID {
                try await SQLLoggedModelStore.appendModelVersionTag(sql, modelID: modelID, name: name, version: version)
            }
            return try await Self.requireModelVersion(sql, name: name, version: version)
        }
    }

    public func getModelVersion(name: String, version: String) async throws -> ModelVersion {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        return try await database.read { sql in
            try await Self.requireModelVersion(sql, name: name, version: number)
        }
    }

    /// Sets the description; nil clears it, as MLflow does when the field is absent.
    public func updateModelVersion(name: String, version: String, description: String?) async throws -> ModelVersion {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        if let description { try TrackingValidation.validateText(description, name: "description") }
        let now = now()
        return try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            try await sql.raw(
                """
                UPDATE model_versions SET description = \(bind: description), last_updated_time = \(bind: now)
                WHERE name = \(bind: name) AND version = \(bind: number)
                """
            ).run()
            return try await Self.requireModelVersion(sql, name: name, version: number)
        }
    }

    /// Deletes a version: its aliases and tags go, and the row stays redacted in an internal
    /// stage so that the number is never handed out again.
    public func deleteModelVersion(name: String, version: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        let now = now()
        try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            try await sql.raw("UPDATE registered_models SET last_updated_time = \(bind: now) WHERE name = \(bind: name)").run()
            try await sql.raw("DELETE FROM registered_model_aliases WHERE name = \(bind: name) AND version = \(bind: number)").run()
            try await sql.raw("DELETE FROM model_version_tags WHERE name = \(bind: name) AND version = \(bind: number)").run()
            try await sql.raw(
                """
                UPDATE model_versions SET current_stage = \(bind: Self.deletedStage), last_updated_time = \(bind: now),
                    description = NULL, user_id = NULL, source = 'REDACTED-SOURCE-PATH', storage_location = 'REDACTED-SOURCE-PATH',
                    run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL, model_id = NULL
                WHERE name = \(bind: name) AND version = \(bind: number)
                """
            ).run()
        }
    }

    public func setModelVersionTag(name: String, version: String, tag: KeyValue) async throws {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        try RegistryValidation.validateTag(tag)
        try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            try await Self.upsertTags(sql, name: name, version: number, tags: [tag])
        }
    }

    /// Deleting a tag the version does not have is not an error, as in MLflow.
    public func deleteModelVersionTag(name: String, version: String, key: String) async throws {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        try TrackingValidation.validateKey(key, kind: "key")
        try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            try await sql.raw(
                """
                DELETE FROM model_version_tags WHERE name = \(bind: name) AND version = \(bind: number) AND key = \(bind: key)
                """
            ).run()
        }
    }

    public func transitionModelVersionStage(name: String, version: String, stage: String, archiveExistingVersions: Bool) async throws
        -> ModelVersion
    {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        let target = try ModelVersionStage.canonical(stage)
        if archiveExistingVersions, !target.isActive {
            // MLflow raises this without an error code, i.e. as a 500; it is the client's mistake.
            throw CairnError.invalidParameter(
                "Model version transition cannot archive existing model versions because '\(stage)' is not an Active stage. Valid stages are ['Staging', 'Production']"
            )
        }
        let now = now()
        return try await database.transaction { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            if archiveExistingVersions {
                try await sql.raw(
                    """
                    UPDATE model_versions SET current_stage = \(bind: ModelVersionStage.archived.rawValue), last_updated_time = \(bind: now)
                    WHERE name = \(bind: name) AND version != \(bind: number) AND current_stage = \(bind: target.rawValue)
                    """
                ).run()
            }
            try await sql.raw(
                """
                UPDATE model_versions SET current_stage = \(bind: target.rawValue), last_updated_time = \(bind: now)
                WHERE name = \(bind: name) AND version = \(bind: number)
                """
            ).run()
            try await sql.raw("UPDATE registered_models SET last_updated_time = \(bind: now) WHERE name = \(bind: name)").run()
            return try await Self.requireModelVersion(sql, name: name, version: number)
        }
    }

    public func getModelVersionDownloadUri(name: String, version: String) async throws -> String {
        let name = try RegistryValidation.validateModelName(name)
        let number = try RegistryValidation.validateVersion(version)
        return try await database.read { sql in
            _ = try await Self.requireModelVersion(sql, name: name, version: number)
            return try await Self.storageLocation(sql, name: name, version: number)
        }
    }

    // MARK: - Source resolution

    static func invalidSource(_ source: String, _ idName: String) -> CairnError {
        .invalidParameter(
            "Invalid model version source: '\(source)'. The \(idName) request parameter must identify the resource that contains the source."
        )
    }

    static func storageLocation(_ sql: any SQLDatabase, name: String, version: Int64) async throws -> String {
        guard
            let row = try await sql.raw(
                """
                SELECT source, storage_location FROM model_versions WHERE name = \(bind: name) AND version = \(bind: version)
                """
            ).first()
        else {
            throw versionNotFound(name, version)
        }
        let location = try row.decode(column: "storage_location", as: String.self)
        return location.isEmpty ? try row.decode(column: "source", as: String.self) : location
    }

    static func liveLoggedModel(_ sql: any SQLDatabase, id: String) async throws -> LoggedModelInfo? {
        guard
            let row = try await sql.raw(
                """
                SELECT \(unsafeRaw: SQLLoggedModelStore.infoColumns) FROM logged_models lm
                WHERE lm.model_id = \(bind: id) AND lm.lifecycle_stage = 'active'
                """
            ).first()
        else { return nil }
        return try SQLLoggedModelStore.info(from: row)
    }

    struct ResolvedVersion {
        var name: String
        var number: Int64
        var version: String { String(number) }
        var runID: String?
        var modelID: String?
    }

    /// Resolves `models:/<name>/<selector>` to one live version, refusing prompts.
    static func resolveRegistered(_ sql: any SQLDatabase, name: String, selector: ModelURI.Selector) async throws -> ResolvedVersion {
        try await requireRegisteredModel(sql, name: name)
        if RegistryValidation.isPrompt(try await tags(sql, names: [name])[name] ?? []) {
            throw CairnError.invalidParameter(
                "Invalid model version source: 'models:/\(name)'. Prompt versions cannot be used as model version sources.")
        }
        let number: Int64
        switch selector {
        case .version(let value):
            number = value
        case .latest, .stage:
            var stages: [ModelVersionStage]? = nil
            if case .stage(let text) = selector { stages = [try ModelVersionStage.canonical(text)] }
            let latest = (try await latestVersions(sql, names: [name])[name] ?? [])
                .filter { stages?.contains($0.currentStage) ?? true }
            guard let highest = latest.compactMap({ Int64($0.version) }).max() else {
                let stageText = stages.map { " and stage '\($0[0].rawValue)'" } ?? ""
                throw CairnError.notFound("No versions of model with name '\(name)'\(stageText) found")
            }
            number = highest
        case .alias(let alias):
            guard
                let row = try await sql.raw(
                    """
                    SELECT version FROM registered_model_aliases WHERE name = \(bind: name) AND alias = \(bind: alias)
                    """
                ).first()
            else {
                throw CairnError.invalidParameter("Registered model alias \(alias) not found.")
            }
            number = try row.decode(column: "version", as: Int64.self)
        }
        let version = try await requireModelVersion(sql, name: name, version: number)
        return ResolvedVersion(name: name, number: number, runID: version.runID, modelID: version.modelID)
    }

    /// MLflow's `_validate_source_model`: a source registered with a `model_id` must lie in
    /// that model's artifacts (or be a non-local URI the server never reads).
    static func validateSource(_ sql: any SQLDatabase, source: String, uri: ModelSourceURI, modelID: String) async throws {
        try validateCommon(source: source, uri: uri, idName: "model_id")
        if uri.scheme == "runs" { throw invalidSource(source, "model_id") }
        if uri.isMlflowArtifacts {
            guard let model = try await liveLoggedModel(sql, id: modelID), uri.isWithin(ModelSourceURI(model.artifactUri)) else {
                throw invalidSource(source, "model_id")
            }
        }
    }

    /// MLflow's `_validate_source_run`: `runs:/<id>/…` must name the request's run, and proxied
    /// artifact URIs must lie in that run's artifacts.
    static func validateSource(_ sql: any SQLDatabase, source: String, uri: ModelSourceURI, runID: String?) async throws {
        try validateCommon(source: source, uri: uri, idName: "run_id")
        if uri.scheme == "runs" {
            guard uri.authority == nil, case .run(let sourceRun, _)? = try? ModelURI(parsing: source), let runID, sourceRun == runID else {
                throw invalidSource(source, "run_id")
            }
        }
        if uri.isMlflowArtifacts {
            guard let runID, let row = try await sql.raw("SELECT artifact_uri FROM runs WHERE run_uuid = \(bind: runID)").first(),
                uri.isWithin(ModelSourceURI(try row.decode(column: "artifact_uri", as: String.self)))
            else {
                throw invalidSource(source, "run_id")
            }
        }
    }

    /// Checks every non-`models:` source gets: no local paths (they would name files on the
    /// server), no host the server would connect to, no relative path segments.
    static func validateCommon(source: String, uri: ModelSourceURI, idName: String) throws(CairnError) {
        if uri.isLocal {
            throw CairnError.invalidParameter(
                "Invalid model version source: '\(source)'. To use a local path as a model version source, the \(idName) request parameter has to be specified and the local path has to be contained within the artifact directory of the \(idName == "run_id" ? "run specified by the run_id" : "run specified by the model_id")."
            )
        }
        if uri.isHostAddressed {
            throw CairnError.invalidParameter(
                "Invalid value for 'source': URIs with scheme '\(uri.scheme)' that name a host are not allowed, because the server would connect to that host."
            )
        }
        if !uri.hasSafePath {
            throw CairnError.invalidParameter(
                "Invalid model version source: '\(source)'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path."
            )
        }
    }
}

/// The parts of a model-version source URI that the registry checks, split the way Python's
/// `urllib.parse.urlparse` splits them.
struct ModelSourceURI {
    /// Lower-cased; empty for a bare path.
    var scheme: String
    /// The `//host` part, when present and non-empty.
    var authority: String?
    var path: String
    let original: String

    init(_ text: String) {
        original = text
        var rest = Substring(text)
        scheme = ""
        if let colon = rest.firstIndex(of: ":") {
            let candidate = rest[..<colon]
            if let first = candidate.first, first.isLetter, first.isASCII,
                candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
            {
                scheme = candidate.lowercased()
                rest = rest[rest.index(after: colon)...]
            }
        }
        authority = nil
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let host = rest[..<end]
            authority = host.isEmpty ? nil : String(host)
            rest = rest[end...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        path = String(rest)
    }

    /// A bare path or `file:` URI (on this host): it would name a file on the server.
    var isLocal: Bool {
        if scheme.isEmpty || scheme == "file" { return true }
        // A single letter is a Windows drive (`C:\…`) to MLflow.
        return scheme.count == 1
    }

    static let hostAddressedSchemes: Set<String> = [
        "ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss",
    ]

    /// Schemes whose artifact repositories connect to the host in the URI (SSRF).
    var isHostAddressed: Bool {
        Self.hostAddressedSchemes.contains(scheme) && authority != nil
    }

    /// `mlflow-artifacts:` URIs, and http(s) URIs through the proxied-artifacts route.
    var isMlflowArtifacts: Bool {
        if scheme == "mlflow-artifacts" { return true }
        guard scheme == "http" || scheme == "https" else { return false }
        let parts = Self.decodedParts(path)
        let route = ["api", "2.0", "mlflow-artifacts", "artifacts"]
        guard parts.count >= route.count else { return false }
        return (0...(parts.count - route.count)).contains { Array(parts[$0..<$0 + route.count]) == route }
    }

    /// No `..` segment and no NUL, however often percent-encoded, and an absolute path that
    /// normalises to itself (MLflow's `_validate_non_local_source_contains_relative_paths`).
    var hasSafePath: Bool {
        var decoded = original
        for _ in 0..<8 {
            let next = Self.percentDecode(decoded, plusAsSpace: true)
            if next == decoded { break }
            decoded = next
        }
        if decoded.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return false }
        var path = ModelSourceURI(decoded).path
        while path.contains("//") { path = path.replacingOccurrences(of: "//", with: "/") }
        while path.hasSuffix("/") { path.removeLast() }
        if path.utf8.contains(0) { return false }
        guard path.hasPrefix("/") else { return false }
        return TrackingValidation.normalizePosixPath(path) == path
    }

    /// Whether this URI lies under `root` (same scheme and authority, path prefix by segments).
    func isWithin(_ root: ModelSourceURI) -> Bool {
        let rootParts = Self.decodedParts(root.path)
        let parts = Self.decodedParts(path)
        return scheme == root.scheme && authority?.lowercased() == root.authority?.lowercased()
            && !rootParts.isEmpty && parts.count >= rootParts.count && Array(parts.prefix(rootParts.count)) == rootParts
    }

    static func decodedParts(_ path: String) -> [String] {
        path.split(separator: "/").map { part in
            var value = String(part)
            for _ in 0..<8 {
                let next = percentDecode(value, plusAsSpace: false)
                if next == value { break }
                value = next
            }
            return value
        }
    }

    /// One lenient round of Python's `unquote` (`unquote_plus` with `plusAsSpace`), as MLflow
    /// checks a source.
    static func percentDecode(_ text: String, plusAsSpace: Bool) -> String {
        String(decoding: PercentDecoding.unquote(text.utf8, mode: plusAsSpace ? .form : .path), as: UTF8.self)
    }
}
