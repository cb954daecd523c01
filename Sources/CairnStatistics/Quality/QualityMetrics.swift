/// Live model quality over a window: predictions joined with the ground truth that came back
/// as feedback. Classification fills the classification fields, regression the error fields;
/// a metric that is undefined on the window (ROC AUC with one class present) is nil.
public struct QualityMetrics: Codable, Sendable, Equatable {
    public enum Task: String, Codable, Sendable, CaseIterable {
        case classification
        case regression
    }

    public var task: Task
    /// Labelled rows the metrics were computed on.
    public var rows: Int
    public var accuracy: Double?
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    public var rocAUC: Double?
    public var mae: Double?
    public var rmse: Double?

    public init(
        task: Task, rows: Int, accuracy: Double? = nil, precision: Double? = nil, recall: Double? = nil, f1: Double? = nil,
        rocAUC: Double? = nil, mae: Double? = nil, rmse: Double? = nil
    ) {
        self.task = task
        self.rows = rows
        self.accuracy = accuracy
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.rocAUC = rocAUC
        self.mae = mae
        self.rmse = rmse
    }

    /// A metric by its API name (`accuracy`, `precision`, `recall`, `f1`, `roc_auc`, `mae`,
    /// `rmse`), as monitors name them in their checks.
    public func value(of metric: String) -> Double? {
        switch metric {
        case "accuracy": accuracy
        case "precision": precision
        case "recall": recall
        case "f1": f1
        case "roc_auc": rocAUC
        case "mae": mae
        case "rmse": rmse
        default: nil
        }
    }

    public static let metricNames = ["accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse"]

    /// Error metrics are bad when high; the rest when low.
    public static func higherIsBetter(_ metric: String) -> Bool {
        metric != "mae" && metric != "rmse"
    }

    /// The task a metric belongs to: the regression errors, else classification.
    public static func task(of metric: String) -> Task {
        metric == "mae" || metric == "rmse" ? .regression : .classification
    }
}
