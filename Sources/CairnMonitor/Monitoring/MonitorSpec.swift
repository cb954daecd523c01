import CairnCore
import CairnStatistics
import Foundation

/// What a monitor watches and when it complains, as clients send it to
/// `POST /api/cairn/v1/monitors` (snake_case JSON) and as the store keeps it.
public struct MonitorSpec: Codable, Sendable, Equatable {
    public var name: String
    /// The registered model, and the alias whose current version is watched; without an
    /// alias the newest version that has logged traffic is watched.
    public var modelName: String
    public var alias: String?
    public var window: Window
    /// Seconds between scheduled evaluations.
    public var intervalSeconds: Int
    public var checks: [Check]
    /// Per-feature drift methods and thresholds, and the dataset drift share.
    public var drift: DriftConfiguration
    /// Called with a JSON body when an alert fires or resolves.
    public var webhooks: [String]
    /// Delivery attempts per webhook call before it is given up (with exponential backoff).
    public var webhookMaxAttempts: Int
    /// Pipelines to run when an alert opens (a `monitor_alert` trigger event each, keyed by
    /// the alert, so one alert starts each pipeline once).
    public var pipelines: [String]
    /// `classification` or `regression`; inferred from the predictions when absent.
    public var task: QualityMetrics.Task?
    /// The class that counts as positive for binary precision, recall, F1 and ROC AUC.
    public var positiveLabel: String?
    /// Checks need at least this many rows in the window (labelled rows for quality) before
    /// they may fire: a verdict on three requests is noise.
    public var minRows: Int

    /// The data one evaluation reads: the last `seconds` of traffic, or the last `rows` rows.
    public struct Window: Codable, Sendable, Equatable {
        public var seconds: Int?
        public var rows: Int?

        public init(seconds: Int? = nil, rows: Int? = nil) {
            self.seconds = seconds
            self.rows = rows
        }
    }

    public struct Check: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            /// Fires when the share of drifted features reaches `threshold` (default: the
            /// dataset drift share, 0.5).
            case featureDrift = "feature_drift"
            /// Fires when the prediction column drifts by its test (threshold overrides the
            /// method's default).
            case predictionDrift = "prediction_drift"
            /// Fires when `metric` falls below `threshold` (rises above it for mae and rmse).
            case quality
            /// Fires when the share of server errors (5xx) exceeds `threshold`.
            case errorRate = "error_rate"
            /// Fires when the share of client errors (4xx: bodies the server refused) exceeds
            /// `threshold`; apart from `error_rate` so a misbehaving client is not an outage.
            case clientErrorRate = "client_error_rate"
            /// Fires when p99 latency in milliseconds exceeds `threshold`.
            case latencyP99 = "latency_p99"
        }

        public var type: Kind
        public var threshold: Double?
        public var metric: String?

        public init(type: Kind, threshold: Double? = nil, metric: String? = nil) {
            self.type = type
            self.threshold = threshold
            self.metric = metric
        }

        /// The check's name in alerts and metrics: its kind, with the metric for quality.
        public var name: String {
            type == .quality ? "quality:\(metric ?? "")" : type.rawValue
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, alias, window, checks, drift, webhooks, task, pipelines
        case modelName = "model_name"
        case intervalSeconds = "interval_seconds"
        case webhookMaxAttempts = "webhook_max_attempts"
        case positiveLabel = "positive_label"
        case minRows = "min_rows"
    }

    public init(
        name: String, modelName: String, alias: String? = nil, window: Window = Window(seconds: 3600), intervalSeconds: Int = 60,
        checks: [Check] = [], drift: DriftConfiguration = DriftConfiguration(), webhooks: [String] = [], webhookMaxAttempts: Int = 5,
        task: QualityMetrics.Task? = nil, positiveLabel: String? = nil, minRows: Int = 30, pipelines: [String] = []
    ) {
        self.pipelines = pipelines
        self.name = name
        self.modelName = modelName
        self.alias = alias
        self.window = window
        self.intervalSeconds = intervalSeconds
        self.checks = checks
        self.drift = drift
        self.webhooks = webhooks
        self.webhookMaxAttempts = webhookMaxAttempts
        self.task = task
        self.positiveLabel = positiveLabel
        self.minRows = minRows
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        modelName = try c.decode(String.self, forKey: .modelName)
        alias = try c.decodeIfPresent(String.self, forKey: .alias)
        window = try c.decodeIfPresent(Window.self, forKey: .window) ?? Window(seconds: 3600)
        intervalSeconds = try c.decodeIfPresent(Int.self, forKey: .intervalSeconds) ?? 60
        checks = try c.decodeIfPresent([Check].self, forKey: .checks) ?? []
        drift = try c.decodeIfPresent(DriftConfiguration.self, forKey: .drift) ?? DriftConfiguration()
        webhooks = try c.decodeIfPresent([String].self, forKey: .webhooks) ?? []
        webhookMaxAttempts = try c.decodeIfPresent(Int.self, forKey: .webhookMaxAttempts) ?? 5
        pipelines = try c.decodeIfPresent([String].self, forKey: .pipelines) ?? []
        task = try c.decodeIfPresent(QualityMetrics.Task.self, forKey: .task)
        positiveLabel = try c.decodeIfPresent(String.self, forKey: .positiveLabel)
        minRows = try c.decodeIfPresent(Int.self, forKey: .minRows) ?? 30
    }

    /// Decodes and validates a client's JSON; every refusal is an INVALID_PARAMETER_VALUE
    /// that names the field.
    public static func decode(_ bytes: some Collection<UInt8>) throws(CairnError) -> MonitorSpec {
        try precheck(bytes)
        let spec: MonitorSpec
        do {
            spec = try JSONDecoder().decode(MonitorSpec.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw CairnError.invalidParameter("Invalid monitor: \(Self.describe(error))")
        } catch {
            throw CairnError.invalidParameter("Invalid monitor: \(error)")
        }
        try spec.validate()
        return spec
    }

    /// A monitor as a client creates or replaces it: `decode`'s rules, and it must check
    /// something, since a monitor without checks never alerts. (Specs stored before this rule
    /// still load through `decode`.)
    public static func decodeSubmitted(_ bytes: some Collection<UInt8>) throws(CairnError) -> MonitorSpec {
        let spec = try decode(bytes)
        guard !spec.checks.isEmpty else {
            throw CairnError.invalidParameter(
                "Invalid monitor: 'checks' must list at least one check, each with a 'type' (one of \(Self.kinds)); "
                    + #"for example "checks": [{"type": "feature_drift"}]."#)
        }
        return spec
    }

    /// Names the refusal `decode` would give, for the values Foundation's decoder describes
    /// in its own terms.
    static var kinds: String { Check.Kind.allCases.map(\.rawValue).joined(separator: ", ") }

    /// Checks Foundation's decoder cannot explain in a client's terms: a misspelt field would
    /// otherwise be dropped without a word and the monitor run on a default the client never
    /// chose; a number too large for a double, or a whole number too large for its type,
    /// would be called "not valid JSON"; an unknown enum value would be named by its Swift type.
    static func precheck(_ bytes: some Collection<UInt8>) throws(CairnError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw CairnError.invalidParameter("Invalid monitor: the body is not valid JSON (\(error.message) at byte \(error.offset)).")
        }
        guard case .object(let fields) = document else {
            throw CairnError.invalidParameter("Invalid monitor: the body must be a JSON object.")
        }
        try refuseOutOfRange(document, at: "")
        func whole(_ value: JSONValue?, _ place: String) throws(CairnError) {
            guard case .number(let number, _)? = value else { return }
            guard number.rounded() == number, abs(number) < 1e15 else {
                throw CairnError.invalidParameter("Invalid monitor: '\(place)' must be a whole number in range.")
            }
        }
        for key in ["interval_seconds", "webhook_max_attempts", "min_rows"] { try whole(fields[key], key) }
        if case .object(let window)? = fields["window"] {
            try whole(window["seconds"], "window.seconds")
            try whole(window["rows"], "window.rows")
        }
        func refuse(_ object: JSONObject, _ known: Set<String>, in place: String) throws(CairnError) {
            if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
                throw CairnError.invalidParameter(
                    "Invalid monitor: unknown field '\(place)\(unknown)'; the fields are \(known.sorted().joined(separator: ", ")).")
            }
        }
        func choice<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, _ place: String, _ type: T.Type) throws(CairnError)
        where T.RawValue == String {
            guard case .string(let text)? = value, T(rawValue: text) == nil else { return }
            throw CairnError.invalidParameter(
                "Invalid monitor: \(place): '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        try refuse(
            fields,
            Set([
                "name", "model_name", "alias", "window", "interval_seconds", "checks", "drift", "webhooks",
                "webhook_max_attempts", "task", "positive_label", "min_rows", "pipelines",
            ]), in: "")
        try choice(fields["task"], "task", QualityMetrics.Task.self)
        if case .object(let window)? = fields["window"] { try refuse(window, ["seconds", "rows"], in: "window.") }
        if case .object(let drift)? = fields["drift"] {
            try refuse(drift, ["methods", "thresholds", "drift_share"], in: "drift.")
            if case .object(let methods)? = drift["methods"] {
                for (feature, method) in methods { try choice(method, "drift.methods.\(feature)", DriftMethod.self) }
            }
        }
        if case .array(let checks)? = fields["checks"] {
            for (index, item) in checks.enumerated() {
                guard case .object(let check) = item else { continue }
                try refuse(check, ["type", "threshold", "metric"], in: "checks[\(index)].")
                try choice(check["type"], "checks[\(index)].type", Check.Kind.self)
            }
        }
    }

    /// JSON allows numbers no double holds (`1e400`); they parse as infinite and would be
    /// refused as "not valid JSON".
    static func refuseOutOfRange(_ value: JSONValue, at place: String) throws(CairnError) {
        switch value {
        case .number(let number, let raw) where !number.isFinite:
            throw CairnError.invalidParameter(
                "Invalid monitor: \(place.isEmpty ? "the body" : place): the number \(raw.prefix(64)) is out of range.")
        case .array(let items):
            for (index, item) in items.enumerated() { try refuseOutOfRange(item, at: "\(place)[\(index)]") }
        case .object(let object):
            for (key, item) in object { try refuseOutOfRange(item, at: place.isEmpty ? key : "\(place).\(key)") }
        default:
            break
        }
    }

    public func validate() throws(CairnError) {
        func check(_ condition: Bool, _ message: String) throws(CairnError) {
            if !condition { throw CairnError.invalidParameter(message) }
        }
        try check(
            !name.isEmpty && name.utf8.count <= 256 && !name.contains(where: \.isNewline), "'name' must be 1 to 256 characters on one line."
        )
        try check(!modelName.isEmpty && modelName.utf8.count <= 256, "'model_name' must be 1 to 256 characters.")
        if let alias { try check(!alias.isEmpty && alias.utf8.count <= 256, "'alias' must be 1 to 256 characters.") }
        switch (window.seconds, window.rows) {
        case (let seconds?, nil): try check((1...366 * 86_400).contains(seconds), "'window.seconds' must be between 1 and 31622400.")
        case (nil, let rows?): try check((1...10_000_000).contains(rows), "'window.rows' must be between 1 and 10000000.")
        default: throw CairnError.invalidParameter("'window' must give exactly one of 'seconds' or 'rows'.")
        }
        try check((1...366 * 86_400).contains(intervalSeconds), "'interval_seconds' must be between 1 and 31622400.")
        try check(checks.count <= 64, "A monitor takes at most 64 checks.")
        var names = Set<String>()
        for item in checks {
            try check(names.insert(item.name).inserted, "Check '\(item.name)' is given twice.")
            if let threshold = item.threshold { try check(threshold.isFinite, "A check's 'threshold' must be a finite number.") }
            // A threshold outside what the check can measure would fire always or never.
            let threshold = item.threshold
            switch item.type {
            case .quality:
                let metrics = QualityMetrics.metricNames.joined(separator: ", ")
                guard let metric = item.metric else {
                    throw CairnError.invalidParameter("A quality check needs 'metric', one of \(metrics).")
                }
                guard QualityMetrics.metricNames.contains(metric) else {
                    throw CairnError.invalidParameter("The quality check's 'metric': '\(metric)' is not one of \(metrics).")
                }
                guard let threshold else { throw CairnError.invalidParameter("The quality check on '\(metric)' needs a 'threshold'.") }
                if QualityMetrics.higherIsBetter(metric) {
                    try check((0...1).contains(threshold), "The quality check on '\(metric)' needs a 'threshold' between 0 and 1.")
                } else {
                    try check(threshold >= 0, "The quality check on '\(metric)' needs a 'threshold' ≥ 0.")
                }
            case .errorRate, .clientErrorRate:
                try check(item.metric == nil, "'metric' applies to quality checks only.")
                try check(
                    threshold.map { (0...1).contains($0) } ?? false,
                    "The \(item.type.rawValue) check needs a 'threshold' between 0 and 1 (a share of requests).")
            case .latencyP99:
                try check(item.metric == nil, "'metric' applies to quality checks only.")
                try check(threshold.map { $0 > 0 } ?? false, "The latency_p99 check needs a 'threshold' > 0 (milliseconds).")
            case .featureDrift:
                try check(item.metric == nil, "'metric' applies to quality checks only.")
                if let threshold {
                    try check(threshold > 0 && threshold <= 1, "The feature_drift check's 'threshold' is a share of features, in (0, 1].")
                }
            case .predictionDrift:
                try check(item.metric == nil, "'metric' applies to quality checks only.")
                if let threshold { try check(threshold >= 0, "The prediction_drift check's 'threshold' must be ≥ 0.") }
            }
        }
        try check(drift.driftShare > 0 && drift.driftShare <= 1, "'drift.drift_share' must be in (0, 1].")
        for (feature, threshold) in drift.thresholds {
            try check(threshold.isFinite && threshold >= 0, "The drift threshold for '\(feature)' must be a finite number ≥ 0.")
        }
        try check(webhooks.count <= 16, "A monitor takes at most 16 webhooks.")
        for url in webhooks {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = parsed.host, !host.isEmpty, url.utf8.count <= 2048
            else {
                throw CairnError.invalidParameter("Webhook '\(url)' is not an http(s) URL.")
            }
        }
        try check((1...20).contains(webhookMaxAttempts), "'webhook_max_attempts' must be between 1 and 20.")
        try check(pipelines.count <= 16, "A monitor runs at most 16 pipelines.")
        for pipeline in pipelines {
            try check(
                !pipeline.isEmpty && pipeline.utf8.count <= 256 && !pipeline.contains(where: { $0.isNewline || $0 == "/" }),
                "Pipeline '\(pipeline)' is not a pipeline name (1 to 256 characters on one line, no '/').")
        }
        try check(Set(pipelines).count == pipelines.count, "A monitor names each pipeline once.")
        try check((1...1_000_000).contains(minRows), "'min_rows' must be between 1 and 1000000.")
    }

    /// Refuses per-feature drift settings for a column the watched version does not have,
    /// which would otherwise be ignored at every evaluation without a word. `features` are the
    /// columns known for the version (its signature's inputs, its reference's features);
    /// `version` names it in the message ("model 'churn' version 3"). The predictions are always known, as `prediction`.
    public func validateDriftFeatures(_ features: Set<String>, of version: String) throws(CairnError) {
        let known = features.union([MonitorReference.predictionName])
        for (field, names) in [("drift.methods", Array(drift.methods.keys)), ("drift.thresholds", Array(drift.thresholds.keys))] {
            let unknown = names.filter { !known.contains($0) }.sorted()
            guard !unknown.isEmpty else { continue }
            throw CairnError.invalidParameter(
                "Invalid monitor: '\(field)' names \(unknown.map { "'\($0)'" }.joined(separator: ", ")), not a feature of \(version); "
                    + "its features are \(features.sorted().joined(separator: ", ")) (and '\(MonitorReference.predictionName)' for its predictions)."
            )
        }
    }

    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let place = Self.place(context.codingPath)
            return place.isEmpty ? "the body" : "'\(place)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing '\(Self.place(context.codingPath + [key]))'."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)) has the wrong type."
        case .dataCorrupted(let context):
            // What precheck lets through is valid JSON of the right shape; the decoder's own
            // words (which name Swift types) are kept out of the answer.
            return "\(path(context)) has an invalid value."
        @unknown default:
            return "the body has an invalid value."
        }
    }

    /// `checks[0].type`, as a client writes the field.
    static func place(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text
    }
}
