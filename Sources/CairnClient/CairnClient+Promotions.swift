import CairnCore

/// Cairn's promotion API (`/api/cairn/v1/`), as `cairn model …` uses it.
extension CairnClient {
    /// The promotion log of `model`, newest first.
    public func promotions(model: String, maxResults: Int? = nil, pageToken: String? = nil) async throws -> JSONValue {
        var query = ["model": model]
        if let maxResults { query["max_results"] = String(maxResults) }
        if let pageToken { query["page_token"] = pageToken }
        return try await get("api/cairn/v1/promotions", query)
    }

    /// Moves `alias` back to the version it pointed at before its last recorded move; answers
    /// the rollback's log entry (`promotion`).
    public func rollbackAlias(model: String, alias: String) async throws -> JSONValue {
        try await post(
            "api/cairn/v1/models/\(Self.encode(model))/aliases/\(Self.encode(alias))/rollback", json: .object(JSONObject()),
            idempotent: false)
    }

    /// Runs the evaluation gate on the server: `request` holds `candidate`, `alias`, `target`,
    /// `data` (the CSV's text), `data_path` and `thresholds`. Answers the decision and its log entry.
    public func evaluateModel(model: String, request: JSONValue) async throws -> JSONValue {
        try await post("api/cairn/v1/models/\(Self.encode(model))/evaluate", json: request, idempotent: false)
    }
}

/// Cairn's lineage API, as `cairn model lineage` uses it.
extension CairnClient {
    /// A model version's lineage: its run and datasets, the pipeline and stage runs that made
    /// it, the gate's decisions and alias moves, the monitors watching it.
    public func modelVersionLineage(name: String, version: String) async throws -> JSONValue {
        try await get("api/cairn/v1/lineage/model-versions/\(Self.encode(name))/\(Self.encode(version))", [:])
    }

    /// A run's lineage: the pipeline and stage run it belongs to, and the versions registered from it.
    public func runLineage(runID: String) async throws -> JSONValue {
        try await get("api/cairn/v1/lineage/runs/\(Self.encode(runID))", [:])
    }
}
