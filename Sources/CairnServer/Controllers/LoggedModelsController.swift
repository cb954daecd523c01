import CairnCore
import CairnStore
import Hummingbird

/// `/mlflow/logged-models/*`: MLflow 3 logged models, addressed by id in the path.
struct LoggedModelsController<Context: CairnRequestContext>: Sendable {
    let store: any LoggedModelStore

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("logged-models", use: mlflow(create))
        group.post("logged-models/search", use: mlflow(search))
        group.get("logged-models/{model_id}", use: mlflowWithPath(get))
        group.patch("logged-models/{model_id}", use: mlflowWithPath(finalize))
        group.delete("logged-models/{model_id}", use: mlflowWithPath(delete))
        group.patch("logged-models/{model_id}/tags", use: mlflowWithPath(setTags))
        group.delete("logged-models/{model_id}/tags/{tag_key}", use: mlflowWithPath(deleteTag))
        group.post("logged-models/{model_id}/params", use: mlflowWithPath(logParams))
    }

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let model = try await store.createLoggedModel(
            CreateLoggedModel(
                experimentID: try parameters.requiredString("experiment_id"),
                name: try parameters.string("name").flatMap { $0.isEmpty ? nil : $0 },
                modelType: try parameters.string("model_type"),
                sourceRunID: try parameters.string("source_run_id"),
                params: try parameters.keyValues("params"),
                tags: try parameters.keyValues("tags")
            ))
        return .object {
            $0.key("model")
            $0.write(model)
        }
    }

    @Sendable func get(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        let allowDeleted = try parameters.string("allow_deleted")?.lowercased() == "true"
        let model = try await store.getLoggedModel(id: try path.required("model_id"), allowDeleted: allowDeleted)
        return .object {
            $0.key("model")
            $0.write(model)
        }
    }

    @Sendable func finalize(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        let model = try await store.finalizeLoggedModel(id: try path.required("model_id"), status: try Self.status(parameters))
        return .object {
            $0.key("model")
            $0.write(model)
        }
    }

    @Sendable func delete(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        try await store.deleteLoggedModel(id: try path.required("model_id"))
        return .empty
    }

    @Sendable func setTags(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        try await store.setLoggedModelTags(id: try path.required("model_id"), tags: try parameters.keyValues("tags"))
        return .empty
    }

    @Sendable func deleteTag(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        try await store.deleteLoggedModelTag(id: try path.required("model_id"), key: try path.required("tag_key"))
        return .empty
    }

    @Sendable func logParams(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        try await store.logLoggedModelParams(id: try path.required("model_id"), params: try parameters.keyValues("params"))
        return .empty
    }

    @Sendable func search(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        guard parameters.fields["experiment_ids"] != nil else { throw CairnError.missingParameter("experiment_ids") }
        let maxResults = try parameters.int("max_results") ?? RegistryLimits.defaultLoggedModelSearchMaxResults
        guard (1...RegistryLimits.maxLoggedModelSearchResults).contains(maxResults) else {
            throw CairnError.invalidParameter(
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(RegistryLimits.maxLoggedModelSearchResults), and at least 1."
            )
        }
        var datasets: [LoggedModelDatasetFilter] = []
        for dataset in try parameters.objects("datasets") {
            datasets.append(
                LoggedModelDatasetFilter(
                    name: try dataset.string("dataset_name") ?? "",
                    digest: try dataset.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 }
                ))
        }
        var orderBy: [LoggedModelOrder] = []
        for order in try parameters.objects("order_by") {
            let clause: OrderByClause
            do {
                clause = try OrderByClause.loggedModelField(
                    try order.requiredString("field_name"), ascending: try order.bool("ascending") ?? true)
            } catch let error as SearchGrammarError {
                throw error.cairnError
            }
            orderBy.append(
                LoggedModelOrder(
                    clause: clause,
                    datasetName: try order.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 },
                    datasetDigest: try order.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 }
                ))
        }
        let page = try await store.searchLoggedModels(
            LoggedModelSearch(
                // With --auth, experiments the caller may not read are dropped.
                experimentIDs: try parameters.strings("experiment_ids").filter { context.canRead(.experiment, $0) },
                filter: try SearchRequest.filter(try parameters.string("filter"), kind: .loggedModels),
                datasets: datasets,
                orderBy: orderBy,
                maxResults: maxResults,
                pageToken: try parameters.string("page_token")
            ))
        return .object { writer in
            writer.list("models", page.items)
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    /// The finalize status: an enum name, as the client sends it, or its proto number.
    static func status(_ parameters: RequestParameters) throws(CairnError) -> LoggedModelStatus {
        switch parameters.fields["status"] {
        case nil, .null?:
            throw .missingParameter("status")
        case .string(let name)?:
            if let status = LoggedModelStatus(rawValue: name) { return status }
            if let number = Int64(name), let status = LoggedModelStatus(number: number) { return status }
            throw .invalidParameter("Unknown model status: \(name)")
        case .number(_, let raw)?:
            guard let number = Int64(raw), let status = LoggedModelStatus(number: number) else {
                throw .invalidParameter("Unknown model status: \(raw)")
            }
            return status
        default:
            throw .invalidParameter("Invalid value for parameter 'status' supplied")
        }
    }
}

/// Path parameters of a route (`{model_id}`), percent-decoded as Flask decodes them.
struct PathParameters: Sendable {
    var values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    /// The route's parameters, percent-decoded.
    init(_ context: some RequestContext) throws(CairnError) {
        var values: [String: String] = [:]
        for (name, raw) in context.parameters {
            // NUL can never name a stored row, and PostgreSQL refuses it in text parameters.
            guard let decoded = try? PercentDecoding.decode(raw, mode: .path), !decoded.utf8.contains(0) else {
                throw CairnError.invalidParameter("Malformed path parameter '\(name)'")
            }
            values[String(name)] = decoded
        }
        self.values = values
    }

    func required(_ name: String) throws(CairnError) -> String {
        guard let value = values[name], !value.isEmpty else { throw .missingParameter(name) }
        return value
    }
}

/// `mlflow(_:)` for routes with path parameters.
func mlflowWithPath<Context: CairnRequestContext, Output: ResponseGenerator>(
    _ handler: @escaping @Sendable (RequestParameters, PathParameters, Context) async throws -> Output
) -> @Sendable (Request, Context) async throws -> Output {
    { request, context in
        try await handler(try await RequestParameters.of(request, context), try PathParameters(context), context)
    }
}
