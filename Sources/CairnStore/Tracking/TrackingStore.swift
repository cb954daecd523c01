import CairnCore

/// One page of a search, with the token for the next page when there is one.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextPageToken: String?

    public init(items: [Item], nextPageToken: String?) {
        self.items = items
        self.nextPageToken = nextPageToken
    }
}

/// Experiments, runs and everything logged to them.
public protocol TrackingStore: Sendable {
    func createExperiment(name: String, artifactLocation: String?, tags: [KeyValue]) async throws -> String
    func getExperiment(id: String) async throws -> Experiment
    func getExperiment(name: String) async throws -> Experiment?
    func searchExperiments(_ query: ExperimentSearch) async throws -> Page<Experiment>
    /// How many experiments `query`'s filter and view match (its order and page are ignored).
    func countExperiments(_ query: ExperimentSearch) async throws -> Int
    func renameExperiment(id: String, newName: String) async throws
    func deleteExperiment(id: String) async throws
    func restoreExperiment(id: String) async throws
    func setExperimentTag(id: String, tag: KeyValue) async throws
    func deleteExperimentTag(id: String, key: String) async throws
    /// Removes a deleted experiment for good, with its runs and everything logged to them, as
    /// `mlflow gc --experiment-ids` does, in one transaction; answers the artifact locations
    /// the caller then deletes.
    func purgeExperiment(id: String) async throws -> ExperimentPurge

    func createRun(_ request: CreateRun) async throws -> Run
    func getRun(id: String) async throws -> Run
    func updateRun(id: String, status: RunStatus?, endTime: Int64?, runName: String?) async throws -> RunInfo
    func deleteRun(id: String) async throws
    func restoreRun(id: String) async throws
    func logBatch(runID: String, metrics: [Metric], params: [KeyValue], tags: [KeyValue]) async throws
    func deleteTag(runID: String, key: String) async throws
    func logInputs(runID: String, datasets: [DatasetInput], models: [ModelReference]) async throws
    func logOutputs(runID: String, models: [ModelReference]) async throws
    func getMetricHistory(runID: String, key: String, maxResults: Int?, pageToken: String?) async throws -> Page<Metric>
    /// The same page as `getMetricHistory`, read in bounded chunks. Arguments are checked here,
    /// before the first read.
    func metricHistory(runID: String, key: String, maxResults: Int?, pageToken: String?) throws -> MetricHistoryCursor
    func getMetricHistoryBulkInterval(runIDs: [String], key: String, startStep: Int64?, endStep: Int64?, maxResults: Int) async throws
        -> [Metric]
    func searchRuns(_ query: RunSearch) async throws -> Page<Run>
    /// A page of the web UI's runs table: only the chosen columns, nested runs under their parents.
    func runTable(_ query: RunTableQuery) async throws -> RunTablePage
    /// The param, metric and tag keys logged in the experiments, for a column picker.
    func runColumnKeys(experimentIDs: [String], viewType: ViewType, limit: Int) async throws -> RunColumnKeys
    /// Every point of one metric (within `xRange` of the axis when given) as columns, for
    /// charts that bucket series of millions of points. An unknown run is RESOURCE_DOES_NOT_EXIST.
    func metricSeries(runID: String, key: String, axis: MetricSeriesAxis, xRange: ClosedRange<Int64>?) async throws -> MetricSeries
    /// Minimum, maximum and point count of every metric of each run, NaN points apart.
    func metricSummaries(runIDs: [String]) async throws -> [MetricSummary]
}

/// What purging an experiment removed, and the artifact locations that held its files.
public struct ExperimentPurge: Sendable, Equatable {
    public var runCount: Int
    public var loggedModelCount: Int
    /// The runs' and logged models' artifact URIs (`mlflow-artifacts:/1/<run>/artifacts`).
    public var artifactLocations: [String]

    public init(runCount: Int, loggedModelCount: Int, artifactLocations: [String]) {
        self.runCount = runCount
        self.loggedModelCount = loggedModelCount
        self.artifactLocations = artifactLocations
    }
}

public struct CreateRun: Sendable {
    public var experimentID: String
    public var userID: String
    public var runName: String?
    public var startTime: Int64
    public var tags: [KeyValue]

    public init(experimentID: String, userID: String, runName: String?, startTime: Int64, tags: [KeyValue]) {
        self.experimentID = experimentID
        self.userID = userID
        self.runName = runName
        self.startTime = startTime
        self.tags = tags
    }
}

public struct ExperimentSearch: Sendable {
    public var filter: SearchFilter
    public var orderBy: [OrderByClause]
    public var viewType: ViewType
    public var maxResults: Int
    public var pageToken: String?

    public init(filter: SearchFilter, orderBy: [OrderByClause], viewType: ViewType, maxResults: Int, pageToken: String?) {
        self.filter = filter
        self.orderBy = orderBy
        self.viewType = viewType
        self.maxResults = maxResults
        self.pageToken = pageToken
    }
}

public struct RunSearch: Sendable {
    public var experimentIDs: [String]
    public var filter: SearchFilter
    public var orderBy: [OrderByClause]
    public var viewType: ViewType
    public var maxResults: Int
    public var pageToken: String?

    public init(
        experimentIDs: [String], filter: SearchFilter, orderBy: [OrderByClause], viewType: ViewType, maxResults: Int, pageToken: String?
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.orderBy = orderBy
        self.viewType = viewType
        self.maxResults = maxResults
        self.pageToken = pageToken
    }
}

/// Page tokens are opaque to clients; like MLflow's they carry an offset, base64-encoded
/// JSON so a token from one server is recognisably foreign to another.
public enum PageToken {
    public static func encode(offset: Int) -> String {
        Base64.encode(Array("{\"offset\": \(offset)}".utf8))
    }

    public static func decodeOffset(_ token: String?) throws(CairnError) -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let bytes = Base64.decode(token),
            case .object(let fields)? = try? JSONValue.parse(bytes),
            case .number(let value, _)? = fields["offset"],
            value >= 0, value <= Double(Int32.max), value == value.rounded()
        else {
            throw .invalidParameter("Invalid page token, could not base64-decode")
        }
        return Int(value)
    }
}
