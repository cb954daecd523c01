import CairnCore

/// MLflow 3 logged models: models with their own identity, artifact location, params, tags
/// and metrics, produced by runs or registered from outside them.
public protocol LoggedModelStore: Sendable {
    func createLoggedModel(_ request: CreateLoggedModel) async throws -> LoggedModel
    /// A deleted model is found only with `allowDeleted`.
    func getLoggedModel(id: String, allowDeleted: Bool) async throws -> LoggedModel
    func finalizeLoggedModel(id: String, status: LoggedModelStatus) async throws -> LoggedModel
    func deleteLoggedModel(id: String) async throws
    func setLoggedModelTags(id: String, tags: [KeyValue]) async throws
    func deleteLoggedModelTag(id: String, key: String) async throws
    func logLoggedModelParams(id: String, params: [KeyValue]) async throws
    func searchLoggedModels(_ query: LoggedModelSearch) async throws -> Page<LoggedModel>
}

public struct CreateLoggedModel: Sendable {
    public var experimentID: String
    /// Generated when nil.
    public var name: String?
    public var modelType: String?
    public var sourceRunID: String?
    public var params: [KeyValue]
    public var tags: [KeyValue]

    public init(
        experimentID: String, name: String? = nil, modelType: String? = nil, sourceRunID: String? = nil, params: [KeyValue] = [],
        tags: [KeyValue] = []
    ) {
        self.experimentID = experimentID
        self.name = name
        self.modelType = modelType
        self.sourceRunID = sourceRunID
        self.params = params
        self.tags = tags
    }
}

/// A `datasets` entry of `logged-models/search`: metric filters and the dataset-only filter
/// consider points logged on one of these datasets.
public struct LoggedModelDatasetFilter: Sendable, Equatable {
    public var name: String
    public var digest: String?

    public init(name: String, digest: String? = nil) {
        self.name = name
        self.digest = digest
    }
}

/// One `order_by` object of `logged-models/search`; metric orders may be scoped to a dataset.
public struct LoggedModelOrder: Sendable, Equatable {
    public var clause: OrderByClause
    public var datasetName: String?
    public var datasetDigest: String?

    public init(clause: OrderByClause, datasetName: String? = nil, datasetDigest: String? = nil) {
        self.clause = clause
        self.datasetName = datasetName
        self.datasetDigest = datasetDigest
    }
}

public struct LoggedModelSearch: Sendable {
    public var experimentIDs: [String]
    public var filter: SearchFilter
    public var datasets: [LoggedModelDatasetFilter]
    public var orderBy: [LoggedModelOrder]
    public var maxResults: Int
    public var pageToken: String?

    public init(
        experimentIDs: [String], filter: SearchFilter = SearchFilter(), datasets: [LoggedModelDatasetFilter] = [],
        orderBy: [LoggedModelOrder] = [], maxResults: Int = RegistryLimits.defaultLoggedModelSearchMaxResults, pageToken: String? = nil
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.datasets = datasets
        self.orderBy = orderBy
        self.maxResults = maxResults
        self.pageToken = pageToken
    }
}
