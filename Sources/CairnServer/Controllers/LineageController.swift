import CairnCore
import Hummingbird

/// `/api/cairn/v1/lineage/`: a model version's lineage (the run, datasets, pipeline and stage
/// runs that made it, the gate's decisions and alias moves, the monitors watching it), and a
/// run's (what it belongs to and the versions registered from it).
struct LineageController<Context: CairnRequestContext>: Sendable {
    let reader: LineageReader

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("lineage/model-versions/{name}/{version}", use: mlflowWithPath(modelVersion))
        group.get("lineage/runs/{run_id}", use: mlflowWithPath(run))
    }

    @Sendable func modelVersion(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        LineageAPI.ModelVersionLineage
    > {
        CairnAPIBody(try await reader.modelVersion(name: try path.required("name"), version: try path.required("version")))
    }

    @Sendable func run(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        LineageAPI.RunLineage
    > {
        CairnAPIBody(try await reader.run(id: try path.required("run_id")))
    }
}
