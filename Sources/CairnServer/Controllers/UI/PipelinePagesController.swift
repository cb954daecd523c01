import CairnCore
import CairnPipelines
import CairnStore
import CairnUI
import Hummingbird
import NIOPosix

/// The pipeline pages: `/pipelines` (each with its last run), `/pipelines/{name}` (the DAG
/// drawn with the last run's states and cache hits, and the runs with their triggers) and
/// `/pipelines/{name}/runs/{id}` (stages with status, cache, timings, attempts and the tail of
/// their logs, and the promotion log entries the run's gate wrote).
struct PipelinePagesController: Sendable {
    let service: PipelineService
    let store: any PipelineStore
    /// Where the run's MLflow runs are, for their links.
    let tracking: any TrackingStore
    let promotions: (any PromotionLogStore)?
    let threadPool: NIOThreadPool
    let ui: UIPages
    let now: WallClock

    static var runsShown: Int { 100 }
    /// Each stream of a stage's log shows its last this many bytes (the API's logs endpoint
    /// answers up to a megabyte; a page shows every stage at once).
    static var logBytesShown: Int { 64 << 10 }
    /// Promotion log pages read to find a run's gate entries, newest first, stopping at the
    /// first entry older than the run.
    static var promotionPagesRead: Int { 10 }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("pipelines", use: list)
        group.get("pipelines/{name}", use: pipeline)
        group.get("pipelines/{name}/runs/{id}", use: run)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let chrome = ui.chrome(for: request, section: .pipelines, breadcrumbs: [.init("Pipelines")])
        let now = self.now()
        var rows: [PipelineListView.Row] = []
        for pipeline in try await store.listPipelines() {
            let last = try await store.listRuns(pipeline: pipeline.name, status: nil, limit: 1).first
            let path = "/pipelines/" + UIFormat.pathSegment(pipeline.name)
            rows.append(
                PipelineListView.Row(
                    name: pipeline.name, href: chrome.url(path), projectDirectory: pipeline.projectDirectory,
                    lastRun: last.map { LinkItem(text: $0.id, href: chrome.url(path + "/runs/" + UIFormat.pathSegment($0.id))) },
                    state: last.map { $0.status.rawValue.lowercased() } ?? "never run", trigger: last?.triggerKind ?? "",
                    started: last.map { UIFormat.time(milliseconds: $0.startTime) } ?? "",
                    startedTitle: last.map { UIFormat.relative(milliseconds: $0.startTime, now: now) } ?? ""))
        }
        return try ui.page("pipelines", title: "Pipelines", content: PipelineListView(rows: rows), chrome: chrome, request: request)
    }

    @Sendable func pipeline(_ request: Request, context: AppRequestContext) async throws -> Response {
        let stored = try await store.getPipeline(name: try PathParameters(context).required("name"))
        let chrome = ui.chrome(
            for: request, section: .pipelines, breadcrumbs: [.init("Pipelines", path: "/pipelines"), .init(stored.name)])
        let now = self.now()
        let path = "/pipelines/" + UIFormat.pathSegment(stored.name)
        let runs = try await store.listRuns(pipeline: stored.name, status: nil, limit: Self.runsShown)
        let lastStages = try await runs.first.asyncMap { try await store.stageRuns(runID: $0.id) } ?? []
        let (graph, specError) = await graph(of: stored.name)
        let runHref = runs.first.map { chrome.url(path + "/runs/" + UIFormat.pathSegment($0.id)) }
        let dag = Self.dag(graph: graph, rows: lastStages, href: runHref)
        let view = PipelineView(
            name: stored.name, projectDirectory: stored.projectDirectory, specFile: stored.specFile,
            dagSVG: dag.svg(title: "Stages of \(stored.name)"), specError: specError, stageCount: dag.boxes.count,
            edgeCount: dag.edges.count,
            runs: runs.map { run in
                PipelineView.Run(
                    id: run.id, href: chrome.url(path + "/runs/" + UIFormat.pathSegment(run.id)), status: run.status.rawValue.lowercased(),
                    trigger: run.triggerKind, triggerEvent: run.triggerEventID ?? "", started: UIFormat.time(milliseconds: run.startTime),
                    startedTitle: UIFormat.relative(milliseconds: run.startTime, now: now),
                    duration: Self.duration(run.startTime, run.endTime),
                    reason: run.reason ?? "")
            })
        return try ui.page("pipeline", title: "Pipeline \(stored.name)", content: view, chrome: chrome, request: request)
    }

    /// The pipeline's graph from its spec as it is now (read as the API's pipeline detail reads
    /// it); a spec that no longer loads leaves no graph, and its message for the page.
    func graph(of pipeline: String) async -> (PipelineGraph?, String?) {
        do {
            let (_, spec) = try await service.spec(of: pipeline)
            return (PipelineGraph(spec), nil)
        } catch let error as CairnError {
            return (nil, error.message)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// The DAG with each stage's state in `rows` (one run's stage rows); stages link to their
    /// part of the run page at `href`. Without a graph, the run's stages alone, unlinked.
    static func dag(graph: PipelineGraph?, rows: [StoredStageRun], href: String?) -> PipelineDAG {
        let byName = Dictionary(rows.map { ($0.stage, $0) }, uniquingKeysWith: { first, _ in first })
        let stages: [PipelineDAG.Stage]
        if let graph {
            stages = graph.stages.map { stage in
                let row = byName[stage.name]
                return PipelineDAG.Stage(
                    name: stage.name, upstream: graph.upstream[stage.name] ?? [], state: row?.status.rawValue,
                    cacheHit: row?.cacheHit ?? false,
                    href: row != nil ? href.map { $0 + "#" + anchor(stage.name) } : nil)
            }
        } else {
            stages = rows.map {
                row in
                PipelineDAG.Stage(
                    name: row.stage, upstream: [], state: row.status.rawValue, cacheHit: row.cacheHit,
                    href: href.map { $0 + "#" + anchor(row.stage) })
            }
        }
        return PipelineDAG(stages: stages)
    }

    @Sendable func run(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try PathParameters(context).required("name")
        let run = try await store.getRun(id: try PathParameters(context).required("id"))
        guard run.pipeline == name else { throw CairnError.notFound("Pipeline '\(name)' has no run '\(run.id)'.") }
        let path = "/pipelines/" + UIFormat.pathSegment(name)
        let chrome = ui.chrome(
            for: request, section: .pipelines,
            breadcrumbs: [.init("Pipelines", path: "/pipelines"), .init(name, path: path), .init("Run \(run.id)")])
        let now = self.now()
        let rows = try await store.stageRuns(runID: run.id)
        let logs = rows.map { service.engine.logPaths(runID: run.id, stage: $0.stage) }
        let limit = Self.logBytesShown
        let tails = try await threadPool.runIfActive {
            logs.map { files in
                let (out, err) = (
                    PipelinesController<AppRequestContext>.tail(files.stdout, limit: limit),
                    PipelinesController<AppRequestContext>.tail(files.stderr, limit: limit)
                )
                return (out.text, err.text, out.truncated || err.truncated)
            }
        }
        let (graph, _) = await graph(of: name)
        let runPath = path + "/runs/" + UIFormat.pathSegment(run.id)
        let dag = Self.dag(graph: graph, rows: rows, href: chrome.url(runPath))
        let experimentID = try? await tracking.getRun(id: run.id).info.experimentID
        func runLink(_ id: String) -> LinkItem? {
            experimentID.map {
                LinkItem(text: id, href: chrome.url("/experiments/\(UIFormat.pathSegment($0))/runs/\(UIFormat.pathSegment(id))"))
            }
        }
        let stages = zip(rows, tails).map { row, tail in
            PipelineRunView.Stage(
                name: row.stage, anchor: Self.anchor(row.stage), status: row.status.rawValue.lowercased(), cacheHit: row.cacheHit,
                attempts: row.attempts, started: row.startTime.map { UIFormat.time(milliseconds: $0) } ?? "",
                duration: row.startTime.map { Self.duration($0, row.endTime) } ?? "", stageReason: row.reason,
                stageRun: row.mlflowRunID.flatMap(runLink), sourceRun: row.sourceRun, stdout: tail.0, stderr: tail.1, logsTruncated: tail.2)
        }
        let view = PipelineRunView(
            pipeline: name, pipelineHref: chrome.url(path), id: run.id, status: run.status.rawValue.lowercased(), trigger: run.triggerKind,
            triggerEvent: run.triggerEventID ?? "", started: UIFormat.time(milliseconds: run.startTime),
            startedTitle: UIFormat.relative(milliseconds: run.startTime, now: now), duration: Self.duration(run.startTime, run.endTime),
            reason: run.reason, mlflowRun: runLink(run.id),
            resumedFrom: run.resumedFrom.map { LinkItem(text: $0, href: chrome.url(path + "/runs/" + UIFormat.pathSegment($0))) },
            dagSVG: dag.svg(title: "Stages of \(name) run \(run.id)"), stages: stages,
            promotions: try await gateEntries(of: run, graph: graph).map {
                ModelPagesController.promotion($0, version: nil, pipelineOf: [:], chrome: chrome, now: now)
            })
        return try ui.page("pipeline-run", title: "\(name) run \(run.id)", content: view, chrome: chrome, request: request)
    }

    /// The promotion log entries the run's gates wrote: the log is kept per model, so the
    /// models the spec's gates judge are read, newest first, back to the run's start.
    func gateEntries(of run: StoredPipelineRun, graph: PipelineGraph?) async throws -> [PromotionRecord] {
        guard let promotions, let graph else { return [] }
        var models: [String] = []
        for stage in graph.stages {
            if case .gate(let gate) = stage.kind, !models.contains(gate.model) { models.append(gate.model) }
        }
        var found: [PromotionRecord] = []
        for model in models {
            var token: String?
            for _ in 0..<Self.promotionPagesRead {
                let page: Page<PromotionRecord>
                do {
                    page = try await promotions.listPromotions(modelName: model, maxResults: 100, pageToken: token)
                } catch let error as CairnError where error.code == .resourceDoesNotExist {
                    break
                }
                found += page.items.filter { $0.pipelineRunID == run.id }
                guard let next = page.nextPageToken, let oldest = page.items.last, oldest.time >= run.startTime else { break }
                token = next
            }
        }
        return found.sorted { $0.time > $1.time }
    }

    static func anchor(_ stage: String) -> String {
        "stage-" + String(stage.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    static func duration(_ start: Int64, _ end: Int64?) -> String {
        end.map { UIFormat.duration(milliseconds: max(0, $0 - start)) } ?? "running"
    }
}
