import CairnCore
import CairnStore
import Hummingbird

/// `/mlflow/experiments/*`: MLflow's experiment API.
struct ExperimentsController<Context: CairnRequestContext>: Sendable {
    let store: any TrackingStore

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("experiments/create", use: mlflow(create))
        group.get("experiments/get", use: mlflow(get))
        group.get("experiments/get-by-name", use: mlflow(getByName))
        group.post("experiments/search", use: mlflow(search))
        group.get("experiments/search", use: mlflow(search))
        group.post("experiments/update", use: mlflow(update))
        group.post("experiments/delete", use: mlflow(delete))
        group.post("experiments/restore", use: mlflow(restore))
        group.post("experiments/set-experiment-tag", use: mlflow(setTag))
        group.post("experiments/delete-experiment-tag", use: mlflow(deleteTag))
    }

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let name = try TrackingValidation.validateExperimentName(try parameters.string("name"))
        let id = try await store.createExperiment(
            name: name,
            artifactLocation: try parameters.string("artifact_location"),
            tags: try parameters.keyValues("tags")
        )
        return .object {
            $0.key("experiment_id")
            $0.string(id)
        }
    }

    @Sendable func get(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let experiment = try await store.getExperiment(id: try parameters.requiredString("experiment_id"))
        return .object {
            $0.key("experiment")
            $0.write(experiment)
        }
    }

    @Sendable func getByName(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let name = try parameters.requiredString("experiment_name")
        guard let experiment = try await store.getExperiment(name: name) else {
            throw CairnError.notFound("Could not find experiment with name '\(name)'")
        }
        return .object {
            $0.key("experiment")
            $0.write(experiment)
        }
    }

    @Sendable func search(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let maxResults = try parameters.int("max_results") ?? 1000
        guard (1...TrackingLimits.maxResultsThreshold).contains(maxResults) else {
            throw CairnError.invalidParameter(
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(TrackingLimits.maxResultsThreshold), and at least 1."
            )
        }
        let query = ExperimentSearch(
            filter: try SearchRequest.filter(try parameters.string("filter"), kind: .experiments),
            orderBy: try SearchRequest.orderBy(try parameters.strings("order_by"), kind: .experiments),
            viewType: try parameters.enumValue("view_type", as: ViewType.self) ?? .activeOnly,
            maxResults: maxResults,
            pageToken: try parameters.string("page_token")
        )
        let page = try await store.searchExperiments(query)
        return .object { writer in
            // With --auth, only what the caller may read (a page may then come back short).
            writer.list("experiments", page.items.filter { context.canRead(.experiment, $0.experimentID) })
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    @Sendable func update(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let id = try parameters.requiredString("experiment_id")
        if let newName = try parameters.string("new_name") {
            try await store.renameExperiment(id: id, newName: newName)
        } else {
            _ = try await store.getExperiment(id: id)
        }
        return .empty
    }

    @Sendable func delete(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteExperiment(id: try parameters.requiredString("experiment_id"))
        return .empty
    }

    @Sendable func restore(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.restoreExperiment(id: try parameters.requiredString("experiment_id"))
        return .empty
    }

    @Sendable func setTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let tag = KeyValue(key: try parameters.requiredString("key"), value: try parameters.string("value") ?? "")
        guard parameters.fields["value"] != nil else { throw CairnError.missingParameter("value") }
        try await store.setExperimentTag(id: try parameters.requiredString("experiment_id"), tag: tag)
        return .empty
    }

    @Sendable func deleteTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteExperimentTag(id: try parameters.requiredString("experiment_id"), key: try parameters.requiredString("key"))
        return .empty
    }
}
