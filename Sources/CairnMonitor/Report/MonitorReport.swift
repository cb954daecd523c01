import CairnStatistics

/// Everything one evaluation of a monitor found, as `GET /api/cairn/v1/monitors/{id}/report`
/// returns it (JSON) and renders it (HTML).
public struct MonitorReport: Codable, Sendable {
    public var monitorID: String
    public var monitorName: String
    public var model: String
    /// The alias the monitor follows, when it follows one.
    public var alias: String?
    /// The model version the window was read for.
    public var version: String?
    /// Milliseconds since the Unix epoch.
    public var generatedAt: Int64
    public var window: ReportWindow
    /// Rows of the reference profile, nil when the version has no reference.
    public var referenceRows: Int?
    /// Feature drift, nil when there is no reference or no logged rows.
    public var dataDrift: DatasetDrift?
    public var predictionDrift: FeatureDrift?
    /// Reference vs current distribution per feature (and `prediction`), for the charts.
    public var histograms: [FeatureHistogram]
    public var quality: QualityMetrics?
    public var service: ServiceStatistics
    public var checks: [CheckResult]
    /// Why parts of the report are missing (no reference, no feedback yet, …).
    public var notes: [String]

    public init(
        monitorID: String, monitorName: String, model: String, alias: String?, version: String?, generatedAt: Int64, window: ReportWindow,
        referenceRows: Int?, dataDrift: DatasetDrift?, predictionDrift: FeatureDrift?, histograms: [FeatureHistogram],
        quality: QualityMetrics?, service: ServiceStatistics, checks: [CheckResult], notes: [String]
    ) {
        self.monitorID = monitorID
        self.monitorName = monitorName
        self.model = model
        self.alias = alias
        self.version = version
        self.generatedAt = generatedAt
        self.window = window
        self.referenceRows = referenceRows
        self.dataDrift = dataDrift
        self.predictionDrift = predictionDrift
        self.histograms = histograms
        self.quality = quality
        self.service = service
        self.checks = checks
        self.notes = notes
    }
}

public struct ReportWindow: Codable, Sendable, Equatable {
    /// Milliseconds since the Unix epoch, of the oldest and newest record read.
    public var startMs: Int64?
    public var endMs: Int64?
    /// Logged requests and the rows they carried.
    public var requests: Int
    public var rows: Int
    /// Rows that had ground truth.
    public var labeledRows: Int

    public init(startMs: Int64?, endMs: Int64?, requests: Int, rows: Int, labeledRows: Int) {
        self.startMs = startMs
        self.endMs = endMs
        self.requests = requests
        self.rows = rows
        self.labeledRows = labeledRows
    }
}

/// Shares (each side sums to 1 over its non-null values) of one feature's values by bin.
/// Numeric features use the reference's quantile edges (`edges.count == labels.count + 1`);
/// categorical ones the reference's top categories, then 'other'.
public struct FeatureHistogram: Codable, Sendable, Equatable {
    public var feature: String
    public var kind: FeatureProfile.Kind
    public var labels: [String]
    public var edges: [Double]?
    public var reference: [Double]
    public var current: [Double]
    public var drifted: Bool

    public init(
        feature: String, kind: FeatureProfile.Kind, labels: [String], edges: [Double]?, reference: [Double], current: [Double],
        drifted: Bool
    ) {
        self.feature = feature
        self.kind = kind
        self.labels = labels
        self.edges = edges
        self.reference = reference
        self.current = current
        self.drifted = drifted
    }
}

public struct ServiceStatistics: Codable, Sendable, Equatable {
    public var requests: Int
    /// Share of requests the server failed (5xx): what the service owes its clients.
    public var errorRate: Double
    /// Share of requests refused as the client's mistake (4xx: a malformed body, a wrong
    /// content type, one too large), kept apart so a client's bug is not the service's outage.
    public var clientErrorRate: Double
    public var latencyP50Ms: Double?
    public var latencyP95Ms: Double?
    public var latencyP99Ms: Double?

    public init(
        requests: Int, errorRate: Double, clientErrorRate: Double = 0, latencyP50Ms: Double?, latencyP95Ms: Double?, latencyP99Ms: Double?
    ) {
        self.requests = requests
        self.errorRate = errorRate
        self.clientErrorRate = clientErrorRate
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
        self.latencyP99Ms = latencyP99Ms
    }
}

/// One check of a monitor on one evaluation.
public struct CheckResult: Codable, Sendable, Equatable {
    /// The check's kind: `feature_drift`, `prediction_drift`, `quality`, `error_rate`, `client_error_rate`, `latency_p99`.
    public var check: String
    /// The observed value (drifted share, drift score, metric, rate, milliseconds); nil when
    /// the window could not give one, in which case the check does not fire.
    public var value: Double?
    public var threshold: Double
    public var firing: Bool
    public var message: String

    public init(check: String, value: Double?, threshold: Double, firing: Bool, message: String) {
        self.check = check
        self.value = value
        self.threshold = threshold
        self.firing = firing
        self.message = message
    }
}
