import CairnCore
import CairnStore

/// Walks lineage across the stores: a model version → the run it was registered from → that
/// run's datasets → the pipeline run and stage run that made it (the run is the stage's own,
/// resumed through `MLFLOW_RUN_ID`, or nested under it) → the promotion log's decisions and
/// alias moves → the monitors watching it; and from a run to the versions registered from it.
struct LineageReader: Sendable {
    let tracking: any TrackingStore
    let registry: any RegistryStore
    let pipelines: (any PipelineStore)?
    let promotions: (any PromotionLogStore)?
    let monitors: (any MonitorStore)?

    /// How far up `mlflow.parentRunId` a stage run is looked for (a script's own nested runs).
    static let maximumDepth = 8

    func modelVersion(name: String, version: String) async throws -> LineageAPI.ModelVersionLineage {
        let modelVersion = try await registry.getModelVersion(name: name, version: version)
        var run: Run?
        if let runID = modelVersion.runID, !runID.isEmpty {
            run = try await existingRun(runID)
        }
        let (pipelineRun, stageRun) = try await pipelineOrigin(of: run)
        let entries = try await promotionEntries(model: name).filter { entry in
            entry.candidateVersion == version || entry.championVersion == version
                || entry.moves.contains { $0.fromVersion == version || $0.toVersion == version }
        }
        let moves = entries.flatMap { entry in
            entry.moves.filter { $0.fromVersion == version || $0.toVersion == version }.map {
                LineageAPI.AliasMove(
                    alias: $0.alias, fromVersion: $0.fromVersion, toVersion: $0.toVersion, time: entry.time, entryID: entry.id,
                    kind: entry.kind.rawValue)
            }
        }
        var watching: [LineageAPI.Monitor] = []
        for monitor in try await monitors?.listMonitors() ?? [] where monitor.modelName == name {
            guard monitor.alias.map({ modelVersion.aliases.contains($0) }) ?? true else { continue }
            watching.append(LineageAPI.Monitor(monitorID: monitor.id, name: monitor.name, alias: monitor.alias))
        }
        return LineageAPI.ModelVersionLineage(
            modelVersion: LineageAPI.ModelVersion(modelVersion), run: run.map(LineageAPI.Run.init),
            pipelineRun: pipelineRun.map(LineageAPI.PipelineRun.init), stageRun: stageRun.map(LineageAPI.StageRun.init),
            promotions: entries.map(PromotionAPI.Entry.init), aliasMoves: moves, monitors: watching)
    }

    func run(id: String) async throws -> LineageAPI.RunLineage {
        let run = try await tracking.getRun(id: id)
        let (pipelineRun, stageRun) = try await pipelineOrigin(of: run)
        var stageRuns: [StoredStageRun] = []
        if let pipelines, let own = try await storedPipelineRun(id) {
            stageRuns = try await pipelines.stageRuns(runID: own.id)
        }
        var versions: [ModelVersion] = []
        for runID in [id] + stageRuns.compactMap(\.mlflowRunID) {
            versions += try await registeredVersions(runID: runID)
        }
        return LineageAPI.RunLineage(
            run: LineageAPI.Run(run), pipelineRun: pipelineRun.map(LineageAPI.PipelineRun.init),
            stageRun: stageRun.map(LineageAPI.StageRun.init), stageRuns: stageRuns.map(LineageAPI.StageRun.init),
            modelVersions: versions.map(LineageAPI.ModelVersion.init))
    }

    // MARK: - Steps

    /// The run, or nil when it was removed (a version outlives its run).
    private func existingRun(_ id: String) async throws -> Run? {
        do {
            return try await tracking.getRun(id: id)
        } catch let error as CairnError where error.code == .resourceDoesNotExist {
            return nil
        }
    }

    private func storedPipelineRun(_ id: String) async throws -> StoredPipelineRun? {
        guard let pipelines else { return nil }
        do {
            return try await pipelines.getRun(id: id)
        } catch let error as CairnError where error.code == .resourceDoesNotExist {
            return nil
        }
    }

    /// The pipeline run and stage run `run` belongs to: the run itself when it is a stage's run
    /// (tagged `cairn.stage`), else the nearest such ancestor; or the pipeline run itself.
    private func pipelineOrigin(of run: Run?) async throws -> (StoredPipelineRun?, StoredStageRun?) {
        guard pipelines != nil, var current = run else { return (nil, nil) }
        for _ in 0..<Self.maximumDepth {
            let tags = Dictionary(current.data.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            let parent = tags["mlflow.parentRunId"]
            if let stage = tags["cairn.stage"], let parent, let pipelineRun = try await storedPipelineRun(parent) {
                let row = try await pipelines?.stageRuns(runID: parent).first { $0.stage == stage && $0.mlflowRunID == current.info.runID }
                return (pipelineRun, row)
            }
            if tags["cairn.pipeline"] != nil, let pipelineRun = try await storedPipelineRun(current.info.runID) {
                return (pipelineRun, nil)
            }
            guard let parent, let next = try await existingRun(parent) else { break }
            current = next
        }
        return (nil, nil)
    }

    /// Every entry of the model's promotion log, oldest first.
    private func promotionEntries(model: String) async throws -> [PromotionRecord] {
        guard let promotions else { return [] }
        var entries: [PromotionRecord] = []
        var token: String?
        repeat {
            let page = try await promotions.listPromotions(modelName: model, maxResults: 1000, pageToken: token)
            entries += page.items
            token = page.nextPageToken
        } while token != nil
        return entries.reversed()
    }

    private func registeredVersions(runID: String) async throws -> [ModelVersion] {
        let filter = try SearchFilter.parse("run_id = '\(String(runID.filter { $0 != "'" }))'", for: .modelVersions)
        var versions: [ModelVersion] = []
        var token: String?
        repeat {
            let page = try await registry.searchModelVersions(ModelVersionSearch(filter: filter, maxResults: 1000, pageToken: token))
            versions += page.items
            token = page.nextPageToken
        } while token != nil
        return versions
    }
}
