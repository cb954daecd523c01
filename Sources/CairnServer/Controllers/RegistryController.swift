import CairnCore
import CairnStore
import Hummingbird

/// `/mlflow/registered-models/*` and `/mlflow/model-versions/*`: MLflow's model registry.
struct RegistryController<Context: CairnRequestContext>: Sendable {
    let store: any RegistryStore

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("registered-models/create", use: mlflow(createModel))
        group.get("registered-models/get", use: mlflow(getModel))
        group.post("registered-models/rename", use: mlflow(renameModel))
        group.patch("registered-models/update", use: mlflow(updateModel))
        group.delete("registered-models/delete", use: mlflow(deleteModel))
        group.get("registered-models/search", use: mlflow(searchModels))
        // POST is the binding the client uses; GET is the fallback it retries with.
        group.post("registered-models/get-latest-versions", use: mlflow(getLatestVersions))
        group.get("registered-models/get-latest-versions", use: mlflow(getLatestVersions))
        group.post("registered-models/set-tag", use: mlflow(setModelTag))
        group.delete("registered-models/delete-tag", use: mlflow(deleteModelTag))
        group.post("registered-models/alias", use: mlflow(setAlias))
        group.delete("registered-models/alias", use: mlflow(deleteAlias))
        group.get("registered-models/alias", use: mlflow(getByAlias))

        group.post("model-versions/create", use: mlflow(createVersion))
        group.get("model-versions/get", use: mlflow(getVersion))
        group.patch("model-versions/update", use: mlflow(updateVersion))
        group.delete("model-versions/delete", use: mlflow(deleteVersion))
        group.get("model-versions/search", use: mlflow(searchVersions))
        group.get("model-versions/get-download-uri", use: mlflow(getDownloadUri))
        group.post("model-versions/transition-stage", use: mlflow(transitionStage))
        group.post("model-versions/set-tag", use: mlflow(setVersionTag))
        group.delete("model-versions/delete-tag", use: mlflow(deleteVersionTag))
    }

    // MARK: - Registered models

    @Sendable func createModel(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let model = try await store.createRegisteredModel(
            name: try parameters.requiredString("name"),
            tags: try parameters.keyValues("tags"),
            description: try parameters.string("description")
        )
        return .object {
            $0.key("registered_model")
            $0.write(model)
        }
    }

    @Sendable func getModel(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let model = try await store.getRegisteredModel(name: try parameters.requiredString("name"))
        return .object {
            $0.key("registered_model")
            $0.write(model)
        }
    }

    @Sendable func renameModel(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let model = try await store.renameRegisteredModel(
            name: try parameters.requiredString("name"),
            newName: try parameters.requiredString("new_name")
        )
        return .object {
            $0.key("registered_model")
            $0.write(model)
        }
    }

    @Sendable func updateModel(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        // An absent description clears it, as in MLflow (proto2 reads it as "").
        let model = try await store.updateRegisteredModel(
            name: try parameters.requiredString("name"),
            description: try parameters.string("description") ?? ""
        )
        return .object {
            $0.key("registered_model")
            $0.write(model)
        }
    }

    @Sendable func deleteModel(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteRegisteredModel(name: try parameters.requiredString("name"))
        return .empty
    }

    @Sendable func searchModels(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let maxResults = try parameters.int("max_results") ?? RegistryLimits.defaultRegisteredModelSearchMaxResults
        guard (1...RegistryLimits.maxRegisteredModelSearchResults).contains(maxResults) else {
            throw CairnError.invalidParameter(
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(RegistryLimits.maxRegisteredModelSearchResults), and at least 1."
            )
        }
        let page = try await store.searchRegisteredModels(
            RegisteredModelSearch(
                filter: try SearchRequest.filter(try parameters.string("filter"), kind: .registeredModels),
                orderBy: try SearchRequest.orderBy(try parameters.strings("order_by"), kind: .registeredModels),
                maxResults: maxResults,
                pageToken: try parameters.string("page_token")
            ))
        return .object { writer in
            // With --auth, only what the caller may read (a page may then come back short).
            writer.list("registered_models", page.items.filter { context.canRead(.registeredModel, $0.name) })
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    @Sendable func getLatestVersions(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let versions = try await store.getLatestVersions(
            name: try parameters.requiredString("name"),
            stages: try parameters.strings("stages")
        )
        return .object { $0.list("model_versions", versions) }
    }

    @Sendable func setModelTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.setRegisteredModelTag(
            name: try parameters.requiredString("name"),
            tag: KeyValue(key: try parameters.requiredString("key"), value: try Self.requiredValue(parameters))
        )
        return .empty
    }

    @Sendable func deleteModelTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteRegisteredModelTag(name: try parameters.requiredString("name"), key: try parameters.requiredString("key"))
        return .empty
    }

    @Sendable func setAlias(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.setRegisteredModelAlias(
            name: try parameters.requiredString("name"),
            alias: try parameters.requiredString("alias"),
            version: try parameters.requiredString("version")
        )
        return .empty
    }

    @Sendable func deleteAlias(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteRegisteredModelAlias(
            name: try parameters.requiredString("name"), alias: try parameters.requiredString("alias"))
        return .empty
    }

    @Sendable func getByAlias(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let version = try await store.getModelVersion(
            name: try parameters.requiredString("name"), alias: try parameters.requiredString("alias"))
        return .object {
            $0.key("model_version")
            $0.write(version)
        }
    }

    // MARK: - Model versions

    @Sendable func createVersion(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let version = try await store.createModelVersion(
            CreateModelVersion(
                name: try parameters.requiredString("name"),
                source: try parameters.requiredString("source"),
                runID: try parameters.string("run_id"),
                tags: try parameters.keyValues("tags"),
                runLink: try parameters.string("run_link"),
                description: try parameters.string("description"),
                modelID: try parameters.string("model_id")
            ))
        return .object {
            $0.key("model_version")
            $0.write(version)
        }
    }

    @Sendable func getVersion(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let version = try await store.getModelVersion(
            name: try parameters.requiredString("name"), version: try parameters.requiredString("version"))
        return .object {
            $0.key("model_version")
            $0.write(version)
        }
    }

    @Sendable func updateVersion(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let version = try await store.updateModelVersion(
            name: try parameters.requiredString("name"),
            version: try parameters.requiredString("version"),
            description: try parameters.string("description")
        )
        return .object {
            $0.key("model_version")
            $0.write(version)
        }
    }

    @Sendable func deleteVersion(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteModelVersion(name: try parameters.requiredString("name"), version: try parameters.requiredString("version"))
        return .empty
    }

    @Sendable func searchVersions(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let maxResults = try parameters.int("max_results") ?? RegistryLimits.defaultModelVersionSearchMaxResults
        guard (1...RegistryLimits.maxModelVersionSearchResults).contains(maxResults) else {
            throw CairnError.invalidParameter(
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(RegistryLimits.maxModelVersionSearchResults), and at least 1."
            )
        }
        let page = try await store.searchModelVersions(
            ModelVersionSearch(
                filter: try SearchRequest.filter(try parameters.string("filter"), kind: .modelVersions),
                orderBy: try SearchRequest.orderBy(try parameters.strings("order_by"), kind: .modelVersions),
                maxResults: maxResults,
                pageToken: try parameters.string("page_token")
            ))
        return .object { writer in
            writer.list("model_versions", page.items.filter { context.canRead(.registeredModel, $0.name) })
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    @Sendable func getDownloadUri(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let uri = try await store.getModelVersionDownloadUri(
            name: try parameters.requiredString("name"), version: try parameters.requiredString("version"))
        return .object {
            $0.key("artifact_uri")
            $0.string(uri)
        }
    }

    @Sendable func transitionStage(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let version = try await store.transitionModelVersionStage(
            name: try parameters.requiredString("name"),
            version: try parameters.requiredString("version"),
            stage: try parameters.requiredString("stage"),
            archiveExistingVersions: try parameters.bool("archive_existing_versions") ?? false
        )
        return .object {
            $0.key("model_version")
            $0.write(version)
        }
    }

    @Sendable func setVersionTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.setModelVersionTag(
            name: try parameters.requiredString("name"),
            version: try parameters.requiredString("version"),
            tag: KeyValue(key: try parameters.requiredString("key"), value: try Self.requiredValue(parameters))
        )
        return .empty
    }

    @Sendable func deleteVersionTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteModelVersionTag(
            name: try parameters.requiredString("name"),
            version: try parameters.requiredString("version"),
            key: try parameters.requiredString("key")
        )
        return .empty
    }

    static func requiredValue(_ parameters: RequestParameters) throws(CairnError) -> String {
        guard let value = try parameters.string("value") else { throw .missingParameter("value") }
        return value
    }
}
