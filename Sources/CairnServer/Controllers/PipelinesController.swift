import CairnCore
import CairnPipelines
import CairnStore
import Foundation
import Hummingbird
import NIOPosix

/// `/api/cairn/v1/pipelines`: registering pipelines by project directory, starting,
/// following, cancelling and resuming runs, status with `why`, and stage logs.
///
/// A run refused because the pipeline is at its concurrency limit is 409 RESOURCE_CONFLICT:
/// the request was fine, the pipeline's state is what conflicts, and a client may retry later.
struct PipelinesController<Context: CairnRequestContext>: Sendable {
    let service: PipelineService
    let store: any PipelineStore
    let threadPool: NIOThreadPool

    /// A stage log answer holds at most this much of each stream (its tail).
    static var maximumLogBytes: Int { 1 << 20 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("pipelines", use: mlflow(register))
        group.get("pipelines", use: mlflow(list))
        group.get("pipelines/runs/{run_id}", use: mlflowWithPath(getRun))
        group.post("pipelines/runs/{run_id}/cancel", use: mlflowWithPath(cancel))
        group.post("pipelines/runs/{run_id}/resume", use: mlflowWithPath(resume))
        group.get("pipelines/runs/{run_id}/stages/{stage}/logs", use: mlflowWithPath(logs))
        group.get("pipelines/{name}", use: mlflowWithPath(get))
        group.post("pipelines/{name}/runs", use: mlflowWithPath(startRun))
        group.get("pipelines/{name}/runs", use: mlflowWithPath(listRuns))
        group.get("pipelines/{name}/status", use: mlflowWithPath(status))
    }

    @Sendable func register(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<PipelineAPI.OnePipeline> {
        let directory = try parameters.requiredString("project_dir")
        guard directory.hasPrefix("/") else {
            throw CairnError.invalidParameter("project_dir must be an absolute path (the server and the CLI share a filesystem)")
        }
        let (pipeline, _) = try await service.register(projectDirectory: directory)
        return CairnAPIBody(PipelineAPI.OnePipeline(pipeline: PipelineAPI.Pipeline(pipeline)))
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<PipelineAPI.Pipelines> {
        CairnAPIBody(PipelineAPI.Pipelines(pipelines: try await store.listPipelines().map(PipelineAPI.Pipeline.init)))
    }

    @Sendable func get(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.PipelineDetail
    > {
        let (pipeline, spec) = try await service.spec(of: try path.required("name"))
        let upstream = PipelineEngine.upstream(of: spec)
        let stages = spec.stages.map { stage -> PipelineAPI.Stage in
            var command: String?
            var kind = "cmd"
            switch stage.kind {
            case .command(let lines): command = lines.joined(separator: " && ")
            case .gate: kind = "gate"
            }
            return PipelineAPI.Stage(
                name: stage.name, kind: kind, cmd: command, wdir: stage.workingDirectory, deps: stage.deps, outs: stage.writtenPaths,
                upstream: (upstream[stage.name] ?? []).sorted(), frozen: stage.frozen, executor: stage.executor,
                line: stage.location.line)
        }
        let last = try await store.listRuns(pipeline: pipeline.name, status: nil, limit: 1).first
        let lastRun = try await last.asyncMap { PipelineAPI.Run($0, stages: try await store.stageRuns(runID: $0.id)) }
        return CairnAPIBody(PipelineAPI.PipelineDetail(pipeline: PipelineAPI.Pipeline(pipeline), stages: stages, lastRun: lastRun))
    }

    @Sendable func startRun(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.OneRun
    > {
        let options = PipelineRunOptions(
            targets: try parameters.strings("targets"), from: try parameters.string("from"),
            downstream: try parameters.bool("downstream") ?? false, force: try parameters.bool("force") ?? false,
            singleItem: try parameters.bool("single_item") ?? false, jobs: try parameters.int("jobs"))
        let run = try await service.startRun(pipeline: try path.required("name"), options: options)
        return CairnAPIBody(PipelineAPI.OneRun(run: PipelineAPI.Run(run, stages: try await store.stageRuns(runID: run.id))))
    }

    @Sendable func listRuns(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.Runs
    > {
        let pipeline = try await store.getPipeline(name: try path.required("name"))
        let limit = try parameters.int("max_results") ?? 100
        guard (1...1000).contains(limit) else { throw CairnError.invalidParameter("max_results must be between 1 and 1000") }
        let runs = try await store.listRuns(pipeline: pipeline.name, status: nil, limit: limit)
        return CairnAPIBody(PipelineAPI.Runs(runs: runs.map { PipelineAPI.Run($0, stages: nil) }))
    }

    @Sendable func getRun(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.OneRun
    > {
        let run = try await store.getRun(id: try path.required("run_id"))
        return CairnAPIBody(PipelineAPI.OneRun(run: PipelineAPI.Run(run, stages: try await store.stageRuns(runID: run.id))))
    }

    @Sendable func cancel(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.Cancelled
    > {
        let id = try path.required("run_id")
        let cancelled = try await service.cancel(runID: id)
        let run = try await store.getRun(id: id)
        return CairnAPIBody(
            PipelineAPI.Cancelled(run: PipelineAPI.Run(run, stages: try await store.stageRuns(runID: id)), cancelled: cancelled))
    }

    @Sendable func resume(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.OneRun
    > {
        let run = try await service.resume(
            runID: try path.required("run_id"), options: PipelineRunOptions(jobs: try parameters.int("jobs")))
        return CairnAPIBody(PipelineAPI.OneRun(run: PipelineAPI.Run(run, stages: try await store.stageRuns(runID: run.id))))
    }

    @Sendable func status(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.Status
    > {
        let (pipeline, spec) = try await service.spec(of: try path.required("name"))
        let why = try parameters.bool("why") ?? false
        return CairnAPIBody(PipelineAPI.Status(pipeline: pipeline.name, stages: try await service.engine.status(spec, why: why)))
    }

    @Sendable func logs(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineAPI.Logs
    > {
        let run = try await store.getRun(id: try path.required("run_id"))
        let stage = try path.required("stage")
        guard try await store.stageRuns(runID: run.id).contains(where: { $0.stage == stage }) else {
            throw CairnError.notFound("Run '\(run.id)' has no stage '\(stage)'.")
        }
        let files = service.engine.logPaths(runID: run.id, stage: stage)
        let limit = Self.maximumLogBytes
        let (stdout, stderr, truncated) = try await threadPool.runIfActive {
            let out = Self.tail(files.stdout, limit: limit)
            let err = Self.tail(files.stderr, limit: limit)
            return (out.text, err.text, out.truncated || err.truncated)
        }
        return CairnAPIBody(PipelineAPI.Logs(runID: run.id, stage: stage, stdout: stdout, stderr: stderr, truncated: truncated))
    }

    /// The last `limit` bytes of a file ("" when absent). Blocking.
    static func tail(_ path: String, limit: Int) -> (text: String, truncated: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ("", false) }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(limit) ? size - UInt64(limit) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        return (String(decoding: data, as: UTF8.self), start > 0)
    }
}
