import CairnCore
import CairnStatistics
import Foundation
import Testing

@testable import CairnMonitor

/// Issue 11's monitoring contract: server and client errors counted apart, a classifier's
/// predictions charted as class shares, and the log exported as one CSV row per scored row.
@Suite struct MonitorContractTests {
    // MARK: - Error rates

    static func entries(statuses: [Int]) -> [InferenceLogEntry] {
        statuses.enumerated().map { index, status in
            InferenceLogEntry(
                requestID: "r\(index)", timestamp: Int64(index), model: "m", version: "1", status: status,
                latencyMicroseconds: 1_000, inputs: [], outputs: [], line: [])
        }
    }

    @Test func clientMistakesAreNotServerErrors() throws {
        let stats = MonitorEvaluator.serviceStatistics(Self.entries(statuses: [200, 200, 400, 413, 415, 200, 500, 503, 200, 200]))
        #expect(stats.errorRate == 0.2, "only the 500 and the 503")
        #expect(stats.clientErrorRate == 0.3, "the 400, 413 and 415")
        let spec = try MonitorSpec.decode(
            Array(
                #"""
                {"name": "w", "model_name": "m", "min_rows": 1,
                 "checks": [{"type": "error_rate", "threshold": 0.25}, {"type": "client_error_rate", "threshold": 0.25}]}
                """#.utf8))
        let verdicts = spec.checks.map {
            MonitorEvaluator.verdict($0, spec: spec, rows: 0, labeled: 0, drift: nil, prediction: nil, quality: nil, service: stats)
        }
        #expect(verdicts.map(\.check) == ["error_rate", "client_error_rate"])
        #expect(verdicts.map(\.firing) == [false, true])
        #expect(verdicts[0].message.contains("5xx") && verdicts[1].message.contains("4xx"))
        #expect(throws: CairnError.self) {
            try MonitorSpec.decode(Array(#"{"name": "w", "model_name": "m", "checks": [{"type": "client_error_rate"}]}"#.utf8))
        }
        // The report shows both figures.
        let html = MonitorReport(
            monitorID: "1", monitorName: "w", model: "m", alias: nil, version: "1", generatedAt: 0,
            window: ReportWindow(startMs: nil, endMs: nil, requests: 10, rows: 0, labeledRows: 0), referenceRows: nil, dataDrift: nil,
            predictionDrift: nil, histograms: [], quality: nil, service: stats, checks: verdicts, notes: []
        ).html()
        #expect(html.contains("server errors (5xx) 20.0%") && html.contains("client errors (4xx) 30.0%"))
    }

    // MARK: - Class shares

    @Test func aBinaryClassifiersPredictionsAreChartedAsClassShares() throws {
        let csv = "x,y\n" + (0..<100).map { "\($0),\($0 < 60 ? 0 : 1)" }.joined(separator: "\n") + "\n"
        let reference = try MonitorReference(csv: Array(csv.utf8), target: "y", prediction: nil)
        let profile = try #require(reference.prediction)
        #expect(profile.kind == .numeric, "a 0/1 target is profiled as a number")
        let current = FeatureColumn.numeric([1, 1, 1, 0, .nan, 1, 1, 0, 1, 1, 1])
        let histogram = try #require(FeatureHistogram(classesOf: profile, current: current, drifted: true))
        #expect(histogram.kind == .categorical)
        #expect(histogram.labels == ["0", "1"])
        #expect(histogram.reference == [0.6, 0.4])
        #expect(histogram.current == [0.2, 0.8])
        // A class the reference never had is shown, not folded away.
        #expect(FeatureHistogram(classesOf: profile, current: .numeric([0, 2]), drifted: false)?.labels == ["0", "1", "2"])
        // A regressor's predictions are not classes.
        #expect(FeatureHistogram(classesOf: profile, current: .numeric([0.5, 1]), drifted: false) == nil)
        let continuous = try MonitorReference(
            csv: Array(("x,y\n" + (0..<100).map { "1,\(Double($0) / 7)" }.joined(separator: "\n")).utf8), target: "y", prediction: nil)
        #expect(FeatureHistogram(classesOf: continuous.prediction!, current: .numeric([1]), drifted: false) == nil)

        // On the page: one bar pair per class, each bar labelled with its share.
        let page = MonitorReport(
            monitorID: "1", monitorName: "w", model: "m", alias: nil, version: "1", generatedAt: 0,
            window: ReportWindow(startMs: nil, endMs: nil, requests: 1, rows: 10, labeledRows: 0), referenceRows: 100, dataDrift: nil,
            predictionDrift: nil,
            histograms: [
                histogram,
                FeatureHistogram(
                    feature: "x", kind: .categorical, labels: ["a", "b"], edges: nil, reference: [0.5, 0.5], current: [0.5, 0.5],
                    drifted: false),
            ], quality: nil,
            service: ServiceStatistics(requests: 1, errorRate: 0, latencyP50Ms: nil, latencyP95Ms: nil, latencyP99Ms: nil), checks: [],
            notes: []
        ).html()
        #expect(page.contains("Share of predictions in each class"))
        #expect(page.contains("<title>0: reference 60.0%, current 20.0%</title>"))
        #expect(page.contains("<title>1: reference 40.0%, current 80.0%</title>"))
        #expect(page.contains(">80.0%</text>") && page.contains(">60.0%</text>"))
        #expect(Self.count("class=\"v\"", in: page) == 4, "only the prediction chart's bars carry their shares")
    }

    // MARK: - CSV export

    @Test func csvHasOneRowPerScoredRowWithFeaturesOutputsAndLabels() throws {
        var sampled = InferenceRecord(
            requestID: "sampled", timestamp: 4, model: "m", version: "1",
            inputs: Array(#"{"dataframe_split": {"columns": ["age", "city"], "data": [[50, "oslo"], [60, null]]}}"#.utf8),
            outputs: Array(#"{"predictions": [1, 0]}"#.utf8), latencyMicroseconds: 7, status: 200)
        sampled.rowCount = 10
        sampled.rowIndexes = [3, 8]
        let entries = [
            logEntry(
                "named", at: 1, inputs: #"{"dataframe_records": [{"age": 31.5, "city": "paris"}, {"age": 42, "city": "rome, it"}]}"#,
                outputs: #"{"predictions": [[0.9, 0.1], [0.2, 0.8]]}"#),
            logEntry("positional", at: 2, inputs: #"{"inputs": [[1, "a"]]}"#, outputs: #"{"predictions": [{"label": "x", "score": 0.5}]}"#),
            logEntry(
                "refused", at: 3, status: 400, inputs: MonitorWindowTests.csvBody("not,a\ncsv"), outputs: #"{"error_code": "BAD_REQUEST"}"#),
            MonitorContractTests.entry(sampled),
        ]
        let labels: [String: [JSONValue]] = [
            "named": [.number(0, raw: "0"), .string("yes")], "sampled": (0..<10).map { .number(Double($0), raw: "\($0)") },
        ]
        let text = String(decoding: InferenceLogExportFormat.csv.render(entries, labels: labels), as: UTF8.self)
        let rows = try InferenceLogReaderTests.parseCSV(text)
        #expect(
            rows[0] == [
                "request_id", "timestamp_ms", "model", "version", "status", "latency_us", "row", "age", "city", "0", "1",
                "prediction_0", "prediction_1", "label", "score", "prediction", "feedback_label",
            ])
        #expect(rows.count == 1 + 2 + 1 + 1 + 2)
        #expect(rows[1] == ["named", "1", "m", "1", "200", "1000", "0", "31.5", "paris", "", "", "0.9", "0.1", "", "", "", "0"])
        #expect(rows[2] == ["named", "1", "m", "1", "200", "1000", "1", "42.0", "rome, it", "", "", "0.2", "0.8", "", "", "", "yes"])
        #expect(rows[3] == ["positional", "2", "m", "1", "200", "1000", "0", "", "", "1", "a", "", "", "x", "0.5", "", ""])
        #expect(rows[4] == ["refused", "3", "m", "1", "400", "1000", "", "", "", "", "", "", "", "", "", "", ""])
        // A sampled record's rows keep their original indexes, and so their labels.
        #expect(rows[5] == ["sampled", "4", "m", "1", "200", "7", "3", "50", "oslo", "", "", "", "", "", "", "1", "3"])
        #expect(rows[6] == ["sampled", "4", "m", "1", "200", "7", "8", "60", "", "", "", "", "", "", "", "0", "8"])

        // With the reference's feature order, positional columns take its names.
        let named = String(
            decoding: InferenceLogExportFormat.csv.render(
                [entries[1]], positionalNames: [InferenceLogExportFormat.referenceKey(model: "m", version: "1"): ["age", "city"]]),
            as: UTF8.self)
        #expect(
            try InferenceLogReaderTests.parseCSV(named) == [
                [
                    "request_id", "timestamp_ms", "model", "version", "status", "latency_us", "row", "age", "city", "label", "score",
                    "feedback_label",
                ],
                ["positional", "2", "m", "1", "200", "1000", "0", "1", "a", "x", "0.5", ""],
            ])
        // JSON Lines stays the log's own lines.
        #expect(InferenceLogExportFormat.jsonl.render(entries, labels: labels) == entries.flatMap { Array($0.line) + [0x0A] })
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    static func entry(_ record: InferenceRecord) -> InferenceLogEntry {
        var line = record.line()
        line.removeLast()
        return InferenceLogReader.parse(line[...])!
    }
}
