import CairnStatistics
import Foundation
import Testing

@testable import CairnMonitor

@Suite("Monitor report as HTML")
struct MonitorReportHTMLTests {
    static let hostile = "<script>alert(1)</script>"

    static func drift(_ feature: String, _ method: DriftMethod, score: Double, drifted: Bool, nulls: Double = 0) -> FeatureDrift {
        FeatureDrift(
            feature: feature, method: method, score: score, threshold: method.defaultThreshold, drifted: drifted, statistic: nil,
            referenceCount: 1000, currentCount: 480, currentNullShare: nulls, note: method == .kolmogorovSmirnov ? "asymptotic" : nil)
    }

    /// Two features (numeric `age` drifted, categorical `country` not), a prediction histogram,
    /// classification quality, two checks (one firing) and a note.
    static func sample() -> MonitorReport {
        let features = [
            drift("age", .kolmogorovSmirnov, score: 0.000012, drifted: true, nulls: 0.02),
            drift("country", .chiSquared, score: 0.41, drifted: false),
        ]
        let histograms = [
            FeatureHistogram(
                feature: "age", kind: .numeric, labels: ["18–25", "25–34", "34–45", "45–60", "60–90"], edges: [18, 25, 34, 45, 60, 90],
                reference: [0.2, 0.25, 0.25, 0.2, 0.1], current: [0.08, 0.14, 0.28, 0.3, 0.2], drifted: true),
            FeatureHistogram(
                feature: "country", kind: .categorical, labels: ["DE", "FR", "United Kingdom of Great Britain", "US", "other"], edges: nil,
                reference: [0.3, 0.2, 0.15, 0.25, 0.1], current: [0.28, 0.22, 0.14, 0.26, 0.1], drifted: false),
            FeatureHistogram(
                feature: "prediction", kind: .numeric, labels: ["0–0.25", "0.25–0.5", "0.5–0.75", "0.75–1"],
                edges: [0, 0.25, 0.5, 0.75, 1],
                reference: [0.4, 0.2, 0.15, 0.25], current: [0.35, 0.22, 0.18, 0.25], drifted: false),
        ]
        return MonitorReport(
            monitorID: "mon-7", monitorName: "churn champion", model: "churn", alias: "champion", version: "12",
            generatedAt: 1_750_000_000_000,
            window: ReportWindow(startMs: 1_749_913_600_000, endMs: 1_750_000_000_000, requests: 120, rows: 480, labeledRows: 96),
            referenceRows: 1000,
            dataDrift: DatasetDrift(features: features, threshold: 0.5),
            predictionDrift: drift("prediction", .wasserstein, score: 0.034, drifted: false),
            histograms: histograms,
            quality: QualityMetrics(
                task: .classification, rows: 96, accuracy: 0.8125, precision: 0.7, recall: 0.6363, f1: 0.6667, rocAUC: 0.84),
            service: ServiceStatistics(requests: 120, errorRate: 0.0083, latencyP50Ms: 3.2, latencyP95Ms: 11.8, latencyP99Ms: 24.5),
            checks: [
                CheckResult(check: "feature_drift", value: 0.5, threshold: 0.3, firing: true, message: "1 of 2 features drifted"),
                CheckResult(check: "latency_p99", value: 24.5, threshold: 100, firing: false, message: "p99 24.5 ms under 100 ms"),
            ],
            notes: ["Quality covers the 96 rows that received feedback."]
        )
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func rendersOneChartPerHistogramAndEveryFeature() throws {
        let report = Self.sample()
        let html = report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(Self.count("<svg", in: html) == report.histograms.count)
        for name in ["age", "country", "churn champion", "champion", "K-S p-value", "chi-square p-value"] {
            #expect(html.contains(name))
        }
        // One drifted feature row, the dataset card and the firing check.
        #expect(html.contains("<span class=\"badge bad\">drifted</span>"))
        #expect(html.contains("<span class=\"badge bad\">firing</span>"))
        #expect(html.contains("1 of 2</span> features drifted"))
        #expect(html.contains("2025-06-15T15:06:40Z"))
        #expect(html.contains("<title>United Kingdom of Great Britain</title>"))
        #expect(html.contains("United King…"))
        #expect(html.contains("ROC AUC") && html.contains("0.8125"))
        #expect(html.contains("Quality covers the 96 rows"))
        // Nothing loaded from elsewhere.
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="))
        #expect(html == report.html(), "output is deterministic")

        if let path = ProcessInfo.processInfo.environment["CAIRN_REPORT_SAMPLE"] {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    @Test func userTextIsEscapedEverywhere() {
        var report = Self.sample()
        report.monitorName = Self.hostile
        report.model = "m\"><img src=x onerror=alert(1)>"
        report.dataDrift = DatasetDrift(features: [Self.drift(Self.hostile, .psi, score: 0.3, drifted: true)], threshold: 0.5)
        report.histograms[1].feature = Self.hostile
        report.histograms[1].labels[0] = "<b onclick='x'>&amp;"
        report.checks[0].message = Self.hostile
        report.notes = [Self.hostile]
        let html = report.html()
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b onclick"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;b onclick=&#39;x&#39;&gt;&amp;amp;"))
    }

    @Test func nonFiniteValuesNeverReachThePage() {
        var report = Self.sample()
        report.histograms[0].reference = [.nan, 0.25, .infinity, -.infinity, 0.1]
        report.histograms[0].edges = [18, .nan, 34, .infinity, 60, 90]
        report.histograms[1].current = [.nan, .nan, .nan, .nan, .nan]
        report.histograms[2].reference = [0, 0, 0, 0]
        report.histograms[2].current = [0, .nan, 0, 0]
        report.service.errorRate = .nan
        report.service.latencyP99Ms = .infinity
        report.dataDrift?.features[0].score = .nan
        report.checks[0].value = -.infinity
        let html = report.html()
        let tokens = Set(html.lowercased().split { !$0.isLetter }.map(String.init))
        #expect(tokens.isDisjoint(with: ["nan", "inf", "infinity"]))
        #expect(html.contains("—"))
        #expect(html.contains("all shares are zero"))
        #expect(Self.count("<svg", in: html) == report.histograms.count)
    }

    @Test func manyBinsKeepLabelsReadable() {
        var report = Self.sample()
        let n = 500
        report.histograms = [
            FeatureHistogram(
                feature: "zip", kind: .categorical, labels: (0..<n).map { "zip-\($0)" }, edges: nil,
                reference: Array(repeating: 1 / Double(n), count: n), current: Array(repeating: 1 / Double(n), count: n), drifted: false)
        ]
        let html = report.html()
        #expect(Self.count("class=\"x rot\"", in: html) <= 20)
        #expect(Self.count("<svg", in: html) == 1)
    }

    @Test func jsonRoundTripKeepsEveryField() throws {
        let report = Self.sample()
        let decoded = try JSONDecoder().decode(MonitorReport.self, from: JSONEncoder().encode(report))
        #expect(decoded.monitorID == report.monitorID)
        #expect(decoded.monitorName == report.monitorName)
        #expect(decoded.model == report.model)
        #expect(decoded.alias == report.alias)
        #expect(decoded.version == report.version)
        #expect(decoded.generatedAt == report.generatedAt)
        #expect(decoded.window == report.window)
        #expect(decoded.referenceRows == report.referenceRows)
        #expect(decoded.dataDrift == report.dataDrift)
        #expect(decoded.predictionDrift == report.predictionDrift)
        #expect(decoded.histograms == report.histograms)
        #expect(decoded.quality == report.quality)
        #expect(decoded.service == report.service)
        #expect(decoded.checks == report.checks)
        #expect(decoded.notes == report.notes)
        #expect(decoded.html() == report.html())
    }

    @Test func emptyReportSaysWhySectionsAreEmpty() {
        let report = MonitorReport(
            monitorID: "mon-0", monitorName: "fresh", model: "m", alias: nil, version: nil, generatedAt: 0,
            window: ReportWindow(startMs: nil, endMs: nil, requests: 0, rows: 0, labeledRows: 0),
            referenceRows: nil, dataDrift: nil, predictionDrift: nil, histograms: [], quality: nil,
            service: ServiceStatistics(requests: 0, errorRate: 0, latencyP50Ms: nil, latencyP95Ms: nil, latencyP99Ms: nil),
            checks: [], notes: []
        )
        let html = report.html()
        #expect(!html.contains("<svg"))
        #expect(html.contains("No feature drift computed"))
        #expect(html.contains("No prediction drift computed"))
        #expect(html.contains("No ground truth yet"))
        #expect(html.contains("No checks configured"))
        #expect(html.contains("1970-01-01T00:00:00Z"))
        #expect(html.hasSuffix("</html>\n"))
    }
}
