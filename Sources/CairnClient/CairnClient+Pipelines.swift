import CairnCore

/// Cairn's pipeline API (`/api/cairn/v1/pipelines`), as `cairn pipeline …` uses it. Answers
/// are the API's JSON (`{"pipeline": …}`, `{"run": …}`, `{"runs": […]}`…).
extension CairnClient {
    /// The flags of `cairn pipeline run`.
    public struct PipelineRunRequest: Sendable {
        public var targets: [String]
        public var from: String?
        public var downstream: Bool
        public var force: Bool
        public var singleItem: Bool
        public var jobs: Int?

        public init(
            targets: [String] = [], from: String? = nil, downstream: Bool = false, force: Bool = false, singleItem: Bool = false,
            jobs: Int? = nil
        ) {
            self.targets = targets
            self.from = from
            self.downstream = downstream
            self.force = force
            self.singleItem = singleItem
            self.jobs = jobs
        }

        var json: JSONValue {
            var fields: JSONObject = [
                "targets": .array(targets.map(JSONValue.string)), "downstream": .bool(downstream), "force": .bool(force),
                "single_item": .bool(singleItem),
            ]
            if let from { fields["from"] = .string(from) }
            if let jobs { fields["jobs"] = .number(Double(jobs), raw: "\(jobs)") }
            return .object(fields)
        }
    }

    /// Registers (or refreshes) the pipeline whose spec is in `projectDirectory` (absolute).
    public func registerPipeline(projectDirectory: String) async throws -> JSONValue {
        try await post("api/cairn/v1/pipelines", json: .object(["project_dir": .string(projectDirectory)]), idempotent: true)
    }

    public func listPipelines() async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines")
    }

    /// The pipeline's stages and last run.
    public func pipeline(_ name: String) async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines/\(Self.encode(name))")
    }

    /// Starts a run; answers `{"run": …}` as started.
    public func startPipelineRun(_ name: String, _ request: PipelineRunRequest) async throws -> JSONValue {
        try await post("api/cairn/v1/pipelines/\(Self.encode(name))/runs", json: request.json, idempotent: false)
    }

    /// One `backfill` trigger event per tick of the pipeline's schedule in `[from, to]`
    /// (milliseconds since the epoch), each dispatched in order; answers `{"events": […]}`.
    /// Not retried: a second call would store the same ticks again as one event each (they
    /// are de-duplicated by tick), so it is safe, but it is the caller's choice.
    public func backfillPipeline(_ name: String, from: Int64, to: Int64) async throws -> JSONValue {
        try await post(
            "api/cairn/v1/pipelines/\(Self.encode(name))/backfill",
            json: .object(["from": .number(Double(from), raw: "\(from)"), "to": .number(Double(to), raw: "\(to)")]), idempotent: false)
    }

    public func pipelineRuns(_ name: String, maxResults: Int = 100) async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines/\(Self.encode(name))/runs", ["max_results": "\(maxResults)"])
    }

    /// A run with its stages.
    public func pipelineRun(_ runID: String) async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines/runs/\(Self.encode(runID))")
    }

    public func cancelPipelineRun(_ runID: String) async throws -> JSONValue {
        try await post("api/cairn/v1/pipelines/runs/\(Self.encode(runID))/cancel", json: .object([:]), idempotent: true)
    }

    /// A new run reusing the finished stages of `runID`.
    public func resumePipelineRun(_ runID: String, jobs: Int? = nil) async throws -> JSONValue {
        var fields: JSONObject = [:]
        if let jobs { fields["jobs"] = .number(Double(jobs), raw: "\(jobs)") }
        return try await post("api/cairn/v1/pipelines/runs/\(Self.encode(runID))/resume", json: .object(fields), idempotent: false)
    }

    public func pipelineStatus(_ name: String, why: Bool) async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines/\(Self.encode(name))/status", ["why": why ? "true" : "false"])
    }

    /// `{"stdout": …, "stderr": …, "truncated": …}` of the stage's last attempt.
    public func pipelineStageLogs(_ runID: String, stage: String) async throws -> JSONValue {
        try await get("api/cairn/v1/pipelines/runs/\(Self.encode(runID))/stages/\(Self.encode(stage))/logs")
    }
}
