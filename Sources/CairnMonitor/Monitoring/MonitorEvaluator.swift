import CairnCore
import CairnStatistics
import CairnStore
import Foundation
import NIOPosix
import Synchronization

/// Runs one monitor over its window of logged traffic: drift against the version's reference,
/// quality from feedback, service statistics, and each check's verdict. Reading only: alerts
/// are the scheduler's business.
public struct MonitorEvaluator: Sendable {
    let store: any MonitorStore
    let registry: any RegistryStore
    let log: InferenceLogReader
    let now: WallClock
    let limits: Limits
    let references = ReferenceCache()

    /// What one evaluation may hold in memory, whatever the window's traffic: the newest
    /// `maxPayloadBytes` of logged records are decoded, into at most `maxRows` rows; older
    /// records in the window still count in the service statistics (status and latency).
    public struct Limits: Sendable {
        public var maxPayloadBytes: Int
        public var maxRows: Int

        public init(maxPayloadBytes: Int = 64 << 20, maxRows: Int = 1_000_000) {
            self.maxPayloadBytes = max(1, maxPayloadBytes)
            self.maxRows = max(1, maxRows)
        }
    }

    /// Feedback younger than this is not yet called unmatched: the log is written
    /// asynchronously, and a label may arrive before its request's record.
    static let feedbackGraceMs: Int64 = 60_000

    public init(
        store: any MonitorStore, registry: any RegistryStore, log: InferenceLogReader, limits: Limits = Limits(), now: @escaping WallClock
    ) {
        self.store = store
        self.registry = registry
        self.log = log
        self.limits = limits
        self.now = now
    }

    public func evaluate(_ monitor: StoredMonitor) async throws -> MonitorReport {
        let spec = try MonitorSpec.decode(Array(monitor.spec.utf8))
        let generatedAt = now()
        var notes: [String] = []

        // The version under watch: the alias's, else the newest one with traffic.
        var version: String?
        if let alias = spec.alias {
            do {
                version = try await registry.getModelVersion(name: spec.modelName, alias: alias).version
            } catch {
                notes.append("Alias '\(alias)' of model '\(spec.modelName)' does not resolve: \(Self.describe(error)).")
            }
        } else {
            let log = self.log
            version = try await log.threadPool.runIfActive { [spec] in
                try log.readWindow(InferenceLogQuery(model: spec.modelName, lastRecords: 1)).lastVersion
            }
        }

        // The reference first: its column order names positional inputs as the window is read.
        var reference: MonitorReference?
        var referenceNote: String?
        if let version {
            if let stored = try await store.getReference(modelName: spec.modelName, version: version) {
                reference = try references.reference(stored)
            } else {
                referenceNote =
                    "Model '\(spec.modelName)' version \(version) has no reference profile: drift is not computed (upload one with `cairn monitor reference`)."
            }
        }
        var window = MonitorWindow(entries: [])
        if let version {
            var query = InferenceLogQuery(model: spec.modelName, version: version)
            if let seconds = spec.window.seconds { query.since = generatedAt - Int64(seconds) * 1000 }
            // Every request carries at least one row, so the last N rows are among the last N requests.
            query.lastRecords = spec.window.rows
            query.maxPayloadBytes = limits.maxPayloadBytes
            // Reading the log and decoding what the sidecar does not hold is blocking work.
            let (log, limits, positionalNames) = (self.log, self.limits, reference?.featureOrder)
            let (read, skipped) = try await log.threadPool.runIfActive { [spec, query] in
                let logged = try log.readWindow(query)
                return (
                    MonitorWindow(logged, rowLimit: spec.window.rows, positionalNames: positionalNames, maxRows: limits.maxRows),
                    logged.skippedLines
                )
            }
            window = read
            if skipped > 0 { notes.append("\(skipped) unreadable inference log lines were skipped.") }
        }
        if let referenceNote { notes.append(referenceNote) }
        if window.undecodedRequests > 0 {
            notes.append(
                "The \(window.undecodedRequests) oldest successful requests in the window were not decoded: an evaluation reads at most "
                    + "\(limits.maxPayloadBytes >> 20) MiB of logged records and \(limits.maxRows) rows, newest first; they count in the service statistics only."
            )
        }
        if window.unreadableRequests > 0 {
            notes.append(
                "\(window.unreadableRequests) requests had inputs that could not be read back into named columns"
                    + " (positional inputs are named by the reference's column order when their widths match).")
        }

        // Drift over the reference features the window carries.
        var dataDrift: DatasetDrift?
        var predictionDrift: FeatureDrift?
        var histograms: [FeatureHistogram] = []
        if let reference, window.rowCount > 0 {
            var columns: [String: FeatureColumn] = [:]
            var present: [FeatureProfile] = []
            for feature in reference.features.features {
                if let column = window.featureColumn(feature.name, kind: feature.kind), column.hasValues {
                    columns[feature.name] = column
                    present.append(feature)
                } else {
                    notes.append("Feature '\(feature.name)' has no values in the window.")
                }
            }
            if !present.isEmpty {
                let detector = DriftDetector(reference: ReferenceProfile(features: present), configuration: spec.drift)
                let drift = try await detector.datasetDrift(columns)
                dataDrift = drift
                for (feature, result) in zip(present, drift.features) {
                    guard let column = columns[feature.name] else { continue }
                    histograms.append(FeatureHistogram(feature, current: column, drifted: result.drifted))
                }
            }
            if let profile = reference.prediction {
                let column = window.predictionColumn(kind: profile.kind)
                if column.hasValues {
                    let detector = DriftDetector(reference: ReferenceProfile(features: [profile]), configuration: spec.drift)
                    let result = try detector.featureDrift(MonitorReference.predictionName, current: column)
                    predictionDrift = result
                    histograms.append(
                        FeatureHistogram(classesOf: profile, current: column, drifted: result.drifted)
                            ?? FeatureHistogram(profile, current: column, drifted: result.drifted))
                } else {
                    notes.append("No prediction in the window could be read back.")
                }
            }
        } else if window.rowCount == 0 {
            notes.append("No successful request of the watched version was logged in the window.")
        }

        let (quality, labeled, qualityNotes) = try await self.quality(window, spec: spec)
        notes += qualityNotes
        if version != nil, let start = window.firstTimestamp ?? (spec.window.seconds.map { generatedAt - Int64($0) * 1000 }) {
            notes += try await unmatchedFeedback(since: start, until: generatedAt - Self.feedbackGraceMs, window: window)
        }
        if quality == nil, window.rowCount > 0 { notes.append("No ground truth has been sent for the window's requests yet.") }
        let service = Self.serviceStatistics(statuses: window.statuses, latencies: window.latencies)

        let checks = spec.checks.map { check in
            Self.verdict(
                check, spec: spec, rows: window.rowCount, labeled: labeled, drift: dataDrift, prediction: predictionDrift, quality: quality,
                service: service)
        }
        return MonitorReport(
            monitorID: monitor.id, monitorName: spec.name, model: spec.modelName, alias: spec.alias, version: version,
            generatedAt: generatedAt,
            window: ReportWindow(
                startMs: window.firstTimestamp, endMs: window.lastTimestamp,
                requests: window.requestCount, rows: window.rowCount, labeledRows: labeled),
            referenceRows: reference?.rowCount, dataDrift: dataDrift, predictionDrift: predictionDrift, histograms: histograms,
            quality: quality, service: service, checks: checks, notes: notes)
    }

    // MARK: - Quality

    /// Predictions joined with the feedback for their requests, row by row, and notes on
    /// feedback that could not be used.
    ///
    /// Feedback is used only when it has one label per row of the request it names: a count
    /// that does not match, or an id logged for more than one request in the window (its rows
    /// add up to more than any one request's), cannot be lined up with rows and is left out.
    func quality(_ window: MonitorWindow, spec: MonitorSpec) async throws -> (metrics: QualityMetrics?, labeled: Int, notes: [String]) {
        // The id → rows map of a million one-row requests costs more than the lookup: it is
        // built only once some feedback is found (an id repeated in the list finds the same).
        let feedback = try await store.feedback(requestIDs: window.rowSourceRequestIDs)
        guard !feedback.isEmpty else { return (nil, 0, []) }
        let rowsByRequest = window.requestRows
        var labelsByRequest: [String: [JSONValue]] = [:]
        var mismatched: [(id: String, labels: Int, rows: Int)] = []
        for (id, text) in feedback.sorted(by: { $0.key < $1.key }) {
            guard case .array(let labels)? = try? JSONValue.parse(text) else { continue }
            let rows = rowsByRequest[id] ?? 0
            if labels.count == rows { labelsByRequest[id] = labels } else { mismatched.append((id, labels.count, rows)) }
        }
        var notes: [String] = []
        if let first = mismatched.first {
            notes.append(
                "Feedback for \(mismatched.count) request(s) was not used: its labels do not match the logged rows one to one "
                    + "(e.g. '\(first.id)': \(first.labels) label(s) for \(first.rows) row(s); an id logged for several requests cannot be matched)."
            )
        }
        var labels: [JSONValue] = []
        var predictions: [LoggedPrediction] = []
        let rowRequestIDs = window.rowRequestIDs
        for row in 0..<window.rowCount {
            guard let prediction = window.predictions[row], let rowLabels = labelsByRequest[rowRequestIDs[row]] else { continue }
            let index = window.rowIndexes[row]
            guard index < rowLabels.count, rowLabels[index] != .null else { continue }
            labels.append(rowLabels[index])
            predictions.append(prediction)
        }
        guard !labels.isEmpty else { return (nil, 0, notes) }
        let task = spec.task ?? Self.inferTask(labels: labels, predictions: predictions)
        switch task {
        case .classification:
            let scores = predictions.allSatisfy { $0.score != nil } ? predictions.map { $0.score! } : nil
            let predicted = predictions.map(\.label)
            let modelClasses = Set(predicted)
            // JSON booleans for a model that answers 0/1 mean 0/1.
            let numericBooleans = modelClasses.isSubset(of: ["0", "1"])
            let truth = labels.map { label -> String in
                if numericBooleans, case .bool(let flag) = label { return flag ? "1" : "0" }
                return Self.label(label)
            }
            let unseen = Set(truth).subtracting(modelClasses).sorted()
            if !unseen.isEmpty {
                notes.append(
                    "Ground truth holds classes the model never predicted in this window: \(unseen.prefix(5).map { "'\($0)'" }.joined(separator: ", "))\(unseen.count > 5 ? ", …" : "") (a mislabelled feedback, or set \"task\" if this is a regressor)."
                )
            }
            // A two-class model is judged one-vs-rest on its positive class, so a stray label
            // counts as one wrong answer instead of turning every ratio into a three-class
            // average (sklearn on the binarised labels).
            if modelClasses.count == 2, !unseen.isEmpty,
                let positive = try QualityMetrics.positiveClass(among: modelClasses.sorted(), given: spec.positiveLabel),
                let negative = modelClasses.first(where: { $0 != positive })
            {
                var metrics = try QualityMetrics.classification(
                    labels: truth.map { $0 == positive ? positive : negative }, predictions: predicted, scores: scores,
                    positiveLabel: positive)
                metrics.accuracy = Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(truth.count)
                return (metrics, labels.count, notes)
            }
            let metrics = try QualityMetrics.classification(
                labels: truth, predictions: predicted, scores: scores, positiveLabel: spec.positiveLabel)
            return (metrics, labels.count, notes)
        case .regression:
            let truth = labels.map { label -> Double in
                switch label {
                case .number(let value, _): value
                case .string(let text): Double(text) ?? .nan
                default: .nan
                }
            }
            let predicted = predictions.map { prediction -> Double in
                switch prediction.value {
                case .number(let value): value
                case .text(let text): Double(text) ?? .nan
                }
            }
            return (try QualityMetrics.regression(labels: truth, predictions: predicted), labels.count, notes)
        }
    }

    /// Feedback received during the window (older than the grace period) whose request id
    /// the log does not hold at all: a label that will never be used, most often an id the
    /// client made up instead of taking the `X-Request-ID` the server answered with.
    func unmatchedFeedback(since: Int64, until: Int64, window: MonitorWindow) async throws -> [String] {
        guard until > since else { return [] }
        let received = try await store.feedbackIDs(receivedFrom: since, until: until, limit: 10_000)
        guard !received.isEmpty else { return [] }
        // Every request that gave rows is in the window's requests.
        let unknown = Set(received).subtracting(window.requestIDs)
        guard !unknown.isEmpty else { return [] }
        // Read no more of the log than an evaluation may decode: an id that was never logged
        // would otherwise cost a read of the whole log at every evaluation.
        let (log, maxBytes) = (self.log, limits.maxPayloadBytes)
        let logged = try await log.threadPool.runIfActive { try log.lookup(unknown, maxBytes: maxBytes) }
        let never = unknown.subtracting(logged.keys).sorted()
        guard let first = never.first else { return [] }
        return [
            "\(never.count) feedback item(s) received in this window name request ids that are not in the newest \(limits.maxPayloadBytes >> 20) MiB of the inference log (e.g. '\(first)'); "
                + "they match nothing until a request with that id is logged (send the X-Request-ID the server answered with)."
        ]
    }

    static func label(_ value: JSONValue) -> String {
        switch value {
        case .number(let number, _): LoggedPrediction.format(number)
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        default: ""
        }
    }

    /// Decided by majorities and by the model's outputs, so that one odd label cannot turn
    /// a classifier into a regressor: text predictions, or mostly text labels, mean
    /// classification; a fractional prediction means regression; whole-number predictions
    /// are classes unless most numeric labels are fractional (a regressor that happens to
    /// round). A monitor's `task` overrides this.
    static func inferTask(labels: [JSONValue], predictions: [LoggedPrediction]) -> QualityMetrics.Task {
        if predictions.contains(where: { if case .text = $0.value { true } else { false } }) { return .classification }
        var text = 0
        var numeric = 0
        var fractional = 0
        for label in labels {
            let number: Double? =
                switch label {
                case .number(let value, _): value
                case .string(let value): Double(value)
                default: nil
                }
            guard let number else {
                text += 1
                continue
            }
            numeric += 1
            if number.rounded() != number { fractional += 1 }
        }
        if text * 2 > labels.count { return .classification }
        for case .number(let value) in predictions.map(\.value) where value.rounded() != value { return .regression }
        return fractional * 2 > numeric ? .regression : .classification
    }

    // MARK: - Service statistics and verdicts

    static func serviceStatistics(_ entries: [InferenceLogEntry]) -> ServiceStatistics {
        serviceStatistics(statuses: entries.map(\.status), latencies: entries.map(\.latencyMicroseconds))
    }

    /// The statistics of requests given as columns: their statuses and latencies (µs).
    static func serviceStatistics(statuses: [Int], latencies latenciesMicroseconds: [Int64]) -> ServiceStatistics {
        guard !statuses.isEmpty else {
            return ServiceStatistics(requests: 0, errorRate: 0, latencyP50Ms: nil, latencyP95Ms: nil, latencyP99Ms: nil)
        }
        // A refused body (400, 413, 415) is the client's mistake, not the service failing.
        let errors = statuses.count { $0 >= 500 }
        let clientErrors = statuses.count { (400..<500).contains($0) }
        // Nearest rank, as Prometheus-style summaries and wrk report it.
        func rank(_ p: Double) -> Int {
            min(latenciesMicroseconds.count - 1, max(0, Int((p * Double(latenciesMicroseconds.count)).rounded(.up)) - 1))
        }
        let ranked = nearestRanks(latenciesMicroseconds, [rank(0.50), rank(0.95), rank(0.99)]).map { Double($0) / 1000 }
        return ServiceStatistics(
            requests: statuses.count, errorRate: Double(errors) / Double(statuses.count),
            clientErrorRate: Double(clientErrors) / Double(statuses.count),
            latencyP50Ms: ranked[0], latencyP95Ms: ranked[1], latencyP99Ms: ranked[2])
    }

    /// The values at 0-based `ranks` (ascending) of `values` in sorted order, by selection
    /// rather than a sort: a window of a million one-row requests has a million latencies,
    /// whose sort cost more than the rest of the service figures. Quickselect narrows to each
    /// rank from the largest down, inside the part left of the previous one; a range that
    /// keeps failing to shrink (an adversarial order) is sorted instead.
    static func nearestRanks(_ values: [Int64], _ ranks: [Int]) -> [Int64] {
        var values = values
        var result = [Int64](repeating: 0, count: ranks.count)
        var upper = values.count
        for (position, rank) in ranks.enumerated().reversed() {
            var low = 0
            var high = upper - 1
            var budget = 2 * (Int.bitWidth - values.count.leadingZeroBitCount) + 8
            while low < high {
                budget -= 1
                if budget == 0 {
                    values[low...high].sort()
                    break
                }
                // Median of three as the pivot, then a three-way partition so runs of equal
                // latencies (common: they are whole microseconds) end the search at once.
                let middle = low + (high - low) / 2
                let pivot = max(min(values[low], values[middle]), min(max(values[low], values[middle]), values[high]))
                var less = low
                var index = low
                var greater = high
                while index <= greater {
                    if values[index] < pivot {
                        values.swapAt(index, less)
                        less += 1
                        index += 1
                    } else if values[index] > pivot {
                        values.swapAt(index, greater)
                        greater -= 1
                    } else {
                        index += 1
                    }
                }
                if rank < less {
                    high = less - 1
                } else if rank > greater {
                    low = greater + 1
                } else {
                    break
                }
            }
            result[position] = values[rank]
            upper = rank + 1
        }
        return result
    }

    static func verdict(
        _ check: MonitorSpec.Check, spec: MonitorSpec, rows: Int, labeled: Int, drift: DatasetDrift?, prediction: FeatureDrift?,
        quality: QualityMetrics?, service: ServiceStatistics
    ) -> CheckResult {
        func result(_ value: Double?, _ threshold: Double, _ firing: Bool, _ message: String) -> CheckResult {
            CheckResult(check: check.name, value: value, threshold: threshold, firing: firing, message: message)
        }
        switch check.type {
        case .featureDrift:
            let threshold = check.threshold ?? spec.drift.driftShare
            guard let drift, rows >= spec.minRows else {
                return result(
                    drift?.driftedShare, threshold, false,
                    "Not enough data for feature drift (\(rows) rows, \(spec.minRows) needed, reference required).")
            }
            let names = drift.features.filter(\.drifted).map(\.feature)
            let firing = drift.driftedShare >= threshold && !names.isEmpty
            return result(
                drift.driftedShare, threshold, firing,
                "\(names.count) of \(drift.features.count) features drifted\(names.isEmpty ? "" : ": " + names.joined(separator: ", ")).")
        case .predictionDrift:
            guard let prediction, rows >= spec.minRows else {
                return result(
                    prediction?.score, check.threshold ?? 0, false,
                    "Not enough data for prediction drift (\(rows) rows, \(spec.minRows) needed, reference prediction profile required).")
            }
            let threshold = check.threshold ?? prediction.threshold
            let firing = check.threshold.map { prediction.method.isDrift(score: prediction.score, threshold: $0) } ?? prediction.drifted
            return result(
                prediction.score, threshold, firing,
                "Prediction \(prediction.method.displayName) \(format(prediction.score)) against \(format(threshold)): \(firing ? "drifted" : "no drift")."
            )
        case .quality:
            let metric = check.metric ?? ""
            let threshold = check.threshold ?? 0
            if let quality, quality.value(of: metric) == nil, QualityMetrics.task(of: metric) != quality.task {
                return result(
                    nil, threshold, false,
                    "\(metric) does not apply: the window's predictions are scored as \(quality.task.rawValue) (set \"task\" on the monitor if that is wrong)."
                )
            }
            if let quality, labeled >= spec.minRows, metric == "roc_auc", quality.rocAUC == nil {
                return result(nil, threshold, false, "roc_auc needs a two-class model and both classes among the labelled rows.")
            }
            guard let quality, labeled >= spec.minRows, let value = quality.value(of: metric) else {
                return result(
                    quality?.value(of: metric), threshold, false,
                    "Not enough ground truth for \(metric) (\(labeled) labelled rows, \(spec.minRows) needed).")
            }
            let higherIsBetter = QualityMetrics.higherIsBetter(metric)
            let firing = higherIsBetter ? value < threshold : value > threshold
            return result(
                value, threshold, firing,
                "\(metric) is \(format(value)) on \(labeled) labelled rows (\(higherIsBetter ? "minimum" : "maximum") \(format(threshold)))."
            )
        case .errorRate, .clientErrorRate:
            // Server errors (5xx) say the service is failing; client errors (4xx) are callers'
            // mistakes and have their own check, so a bad client cannot fire the first.
            let server = check.type == .errorRate
            let rate = server ? service.errorRate : service.clientErrorRate
            let noun = server ? "error rate" : "client error rate"
            let threshold = check.threshold ?? 0
            guard service.requests >= spec.minRows else {
                return result(
                    service.requests > 0 ? rate : nil, threshold, false,
                    "Not enough requests for the \(noun) (\(service.requests), \(spec.minRows) needed).")
            }
            let outcome = server ? "failed with a server error (5xx" : "were refused as client errors (4xx"
            return result(
                rate, threshold, rate > threshold,
                "\(format(rate * 100))% of \(service.requests) requests \(outcome); maximum \(format(threshold * 100))%).")
        case .latencyP99:
            let threshold = check.threshold ?? 0
            guard let p99 = service.latencyP99Ms, service.requests >= spec.minRows else {
                return result(
                    service.latencyP99Ms, threshold, false,
                    "Not enough requests for p99 latency (\(service.requests), \(spec.minRows) needed).")
            }
            return result(
                p99, threshold, p99 > threshold,
                "p99 latency is \(format(p99)) ms over \(service.requests) requests (maximum \(format(threshold)) ms).")
        }
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.4g", value)
    }

    static func describe(_ error: any Error) -> String {
        (error as? CairnError)?.message ?? "\(error)"
    }
}

extension FeatureColumn {
    /// Whether any cell is non-null: a drift test needs at least one value.
    var hasValues: Bool {
        switch self {
        case .numeric(let values): values.contains { $0.isFinite }
        case .categorical(let values): values.contains { $0 != nil }
        }
    }
}

extension FeatureHistogram {
    /// Most classes a numeric prediction may take to be charted as classes.
    static let classLimit = 20

    /// A classifier's predictions as the share of each class, reference beside current: a
    /// 0/1 label profiled as a number would otherwise be cut into quantile bins of zero
    /// width, which shows nothing. Nil when the values are not class-like (more than
    /// `classLimit` distinct values, or any fraction), and for text classes, whose
    /// categorical chart already is one bar pair per class.
    init?(classesOf profile: FeatureProfile, current: FeatureColumn, drifted: Bool) {
        guard case .numeric(let values) = current, case .numeric(let summary?) = profile.summary, summary.distinctCount <= Self.classLimit,
            summary.sample.allSatisfy({ $0.rounded() == $0 })
        else { return nil }
        // The retained sample is the reference itself, or evenly spaced order statistics of
        // it, so its class shares are the reference's to within 1/sample size.
        var reference: [Double: Double] = [:]
        for value in summary.sample { reference[value, default: 0] += 1 }
        var counts: [Double: Double] = [:]
        for value in values where value.isFinite {
            guard value.rounded() == value else { return nil }
            counts[value, default: 0] += 1
        }
        let classes = Set(reference.keys).union(counts.keys).sorted()
        guard classes.count <= Self.classLimit else { return nil }
        func shares(_ counts: [Double: Double]) -> [Double] {
            let total = counts.values.reduce(0, +)
            return classes.map { total > 0 ? (counts[$0] ?? 0) / total : 0 }
        }
        self.init(
            feature: profile.name, kind: .categorical, labels: classes.map(LoggedPrediction.format), edges: nil,
            reference: shares(reference), current: shares(counts), drifted: drifted)
    }

    /// The reference's bins (quantile edges, or its top categories plus 'other') with the
    /// window's values counted into the same bins; both sides as shares.
    init(_ profile: FeatureProfile, current: FeatureColumn, drifted: Bool) {
        var labels: [String] = []
        var edges: [Double]?
        var reference: [Double] = []
        var counts: [Double] = []
        switch (current, profile.summary) {
        case (.numeric(let values), .numeric(let summary?)):
            edges = summary.binEdges
            reference = summary.binCounts.map(Double.init)
            counts = [Double](repeating: 0, count: summary.binCounts.count)
            let e = summary.binEdges
            if !counts.isEmpty { Self.count(values, into: &counts, edges: e) }
            labels = (0..<counts.count).map {
                "[\(MonitorEvaluator.format(e[$0])), \(MonitorEvaluator.format(e[$0 + 1]))\($0 == counts.count - 1 ? "]" : ")")"
            }
        case (.categorical(let values), .categorical(let summary)):
            labels = summary.categories.map(\.value)
            reference = summary.categories.map { Double($0.count) }
            var index: [String: Int] = [:]
            for (i, label) in labels.enumerated() { index[label] = i }
            counts = [Double](repeating: 0, count: labels.count + 1)
            for value in values {
                guard let value else { continue }
                counts[index[value] ?? labels.count] += 1
            }
            labels.append("other")
            reference.append(Double(summary.otherCount))
        default:
            break
        }
        func shares(_ values: [Double]) -> [Double] {
            let total = values.reduce(0, +)
            return total > 0 ? values.map { $0 / total } : values
        }
        self.init(
            feature: profile.name, kind: profile.kind, labels: labels, edges: edges, reference: shares(reference), current: shares(counts),
            drifted: drifted)
    }

    /// Counts each finite value in the bin of the sorted `edges` it falls in; outside the
    /// reference range counts in the outermost bin: the chart is about shape, the test has
    /// the exact picture. A value's bin is the number of inner edges at or below it (the
    /// last bin is closed), counted edge by edge in SIMD passes: a binary
    /// search per value mispredicts about every step, and a window has a million values per
    /// feature.
    static func count(_ values: [Double], into counts: inout [Double], edges e: [Double]) {
        let inner = max(0, min(e.count - 2, counts.count - 1))
        // Per inner edge, the finite values at or above it (one SIMD pass each); bin b holds
        // those at or above edge b and below edge b + 1.
        var atOrAbove = [Int](repeating: 0, count: inner + 2)
        values.withUnsafeBufferPointer { values in
            var finite = 0
            var infinite = 0
            for value in values {
                finite &+= value.isFinite ? 1 : 0
                infinite &+= value == .infinity ? 1 : 0
            }
            atOrAbove[0] = finite
            guard inner > 0, let base = values.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            for k in 1...inner {
                let edge = SIMD8<Double>(repeating: e[k])
                var lanes = SIMD8<Int64>.zero
                var i = 0
                while i + 8 <= values.count {
                    let block = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
                    lanes.replace(with: lanes &+ 1, where: block .>= edge)
                    i += 8
                }
                var n = Int(lanes.wrappedSum())
                while i < values.count {
                    n &+= values[i] >= e[k] ? 1 : 0
                    i += 1
                }
                // +infinity is at or above every edge but is not a value the chart counts.
                atOrAbove[k] = n - infinite
            }
        }
        for bin in 0...inner { counts[bin] += Double(atOrAbove[bin] - atOrAbove[bin + 1]) }
    }
}

/// Decoded references by model version: a stored profile is a JSON document of tens of
/// thousands of numbers, and decoding it took longer than reading a million-row window
/// from the sidecar; a monitor evaluates the same reference on every interval.
final class ReferenceCache: Sendable {
    private struct Cached {
        var creationTime: Int64
        var profile: String
        var reference: MonitorReference
    }

    private let cached = Mutex<[String: Cached]>([:])

    func reference(_ stored: StoredReference) throws -> MonitorReference {
        let key = "\(stored.modelName)\u{0}\(stored.version)"
        // The profile text itself is compared: equal strings share storage or compare fast.
        if let hit = cached.withLock({ $0[key] }), hit.creationTime == stored.creationTime, hit.profile == stored.profile {
            return hit.reference
        }
        let reference = try MonitorReference.decode(stored.profile)
        cached.withLock { cached in
            // A bound, not an eviction policy: a server watches a handful of versions.
            if cached.count >= 64 { cached.removeAll() }
            cached[key] = Cached(creationTime: stored.creationTime, profile: stored.profile, reference: reference)
        }
        return reference
    }
}
