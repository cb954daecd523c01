import CairnCore
import CairnPipelines
import CairnStore
import Hummingbird

/// `/api/cairn/v1/`: the evaluation gate's promotion log, alias rollback, and the gate run on
/// demand (`cairn model evaluate`), outside a pipeline.
struct PromotionsController<Context: CairnRequestContext>: Sendable {
    let store: any PromotionLogStore
    let registry: any RegistryStore
    let gate: EvaluationGate
    let now: WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("promotions", use: mlflow(list))
        group.post("models/{name}/aliases/{alias}/rollback", use: mlflowWithPath(rollback))
        group.post("models/{name}/evaluate", use: mlflowWithPath(evaluate))
    }

    /// `?model=NAME[&max_results=N&page_token=T]`, newest first; RESOURCE_DOES_NOT_EXIST for a
    /// model the registry does not have, as MLflow answers for an unknown model.
    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<PromotionAPI.Entries> {
        let model = try parameters.requiredString("model")
        _ = try await registry.getRegisteredModel(name: model)
        let page = try await store.listPromotions(
            modelName: model, maxResults: try parameters.int("max_results") ?? 100, pageToken: try parameters.string("page_token"))
        return CairnAPIBody(PromotionAPI.Entries(promotions: page.items.map(PromotionAPI.Entry.init), nextPageToken: page.nextPageToken))
    }

    @Sendable func rollback(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PromotionAPI.OneEntry
    > {
        let record = try await store.rollback(modelName: try path.required("name"), alias: try path.required("alias"), time: now())
        return CairnAPIBody(PromotionAPI.OneEntry(promotion: PromotionAPI.Entry(record)))
    }

    /// Body: `candidate` (a version or an alias), `alias` (default `champion`), `target`,
    /// `data` (the held-out CSV's text), `data_path` (what to log as its path), `thresholds`
    /// (`{name: {threshold, min_absolute_change, min_relative_change, greater_is_better}}`),
    /// optional `keep_previous_as`. The CSV travels in the body (within the 32 MiB JSON limit)
    /// so the server never reads a path a client names.
    @Sendable func evaluate(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PromotionAPI.Evaluation
    > {
        guard let limits = try parameters.object("thresholds"), !limits.fields.isEmpty else {
            throw CairnError.invalidParameter("'thresholds' must name at least one metric.")
        }
        var thresholds: [String: MetricThreshold] = [:]
        for name in limits.fields.keys.sorted() {
            guard let limit = try limits.object(name) else { throw CairnError.invalidParameter("Threshold '\(name)' must be an object.") }
            thresholds[name] = try MetricThreshold.checked(
                metric: name, threshold: try limit.double("threshold"), minAbsoluteChange: try limit.double("min_absolute_change"),
                minRelativeChange: try limit.double("min_relative_change"), greaterIsBetter: try limit.bool("greater_is_better"))
        }
        let data = try parameters.requiredString("data")
        let dataPath = try parameters.string("data_path") ?? "(uploaded)"
        let spec = GateSpec(
            model: try path.required("name"), candidate: try parameters.requiredString("candidate"),
            alias: try parameters.string("alias") ?? "champion", data: dataPath, target: try parameters.requiredString("target"),
            thresholds: thresholds, keepPreviousAs: try parameters.string("keep_previous_as"))
        let (decision, record) = try await gate.judge(
            spec, data: Array(data.utf8), dataPath: dataPath, runID: nil, stageRunID: nil, workingDirectory: nil)
        return CairnAPIBody(PromotionAPI.Evaluation(decision, record))
    }
}
