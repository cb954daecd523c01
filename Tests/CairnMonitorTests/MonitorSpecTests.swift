import CairnCore
import CairnStatistics
import Foundation
import Testing

@testable import CairnMonitor

/// A monitor's JSON as clients send it: what absent fields mean, and that every refusal is an
/// INVALID_PARAMETER_VALUE naming the field at fault.
@Suite struct MonitorSpecTests {
    static func decode(_ json: String) throws(CairnError) -> MonitorSpec {
        try MonitorSpec.decode(Array(json.utf8))
    }

    /// Expects the body to be refused with a message that contains `field`.
    static func expectRefused(_ json: String, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let spec = try decode(json)
            Issue.record("accepted \(spec)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .invalidParameterValue, sourceLocation: sourceLocation)
            #expect(error.message.contains(field), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    /// A minimal valid monitor with `extra` fields spliced in.
    static func body(_ extra: String = "") -> String {
        #"{"name": "churn-watch", "model_name": "churn"\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    @Test func absentFieldsTakeTheirDefaults() throws {
        let spec = try Self.decode(Self.body())
        #expect(spec.name == "churn-watch")
        #expect(spec.modelName == "churn")
        #expect(spec.alias == nil)
        #expect(spec.window == MonitorSpec.Window(seconds: 3600))
        #expect(spec.intervalSeconds == 60)
        #expect(spec.checks.isEmpty)
        #expect(spec.drift == DriftConfiguration())
        #expect(spec.drift.driftShare == 0.5)
        #expect(spec.webhooks.isEmpty)
        #expect(spec.webhookMaxAttempts == 5)
        #expect(spec.task == nil)
        #expect(spec.positiveLabel == nil)
        #expect(spec.minRows == 30)
        // The JSON defaults are the initialiser's defaults.
        #expect(spec == MonitorSpec(name: "churn-watch", modelName: "churn"))
        // A drift block with only some fields fills the rest.
        let partial = try Self.decode(Self.body(#""drift": {"thresholds": {"age": 0.2}}"#))
        #expect(partial.drift == DriftConfiguration(thresholds: ["age": 0.2], driftShare: 0.5))
    }

    @Test func everyFieldIsRead() throws {
        let spec = try Self.decode(
            Self.body(
                #"""
                "alias": "champion", "window": {"rows": 500}, "interval_seconds": 300,
                "checks": [{"type": "feature_drift", "threshold": 0.3}, {"type": "prediction_drift"}, {"type": "quality", "metric": "f1", "threshold": 0.8},
                           {"type": "error_rate", "threshold": 0.05}, {"type": "latency_p99", "threshold": 250}],
                "drift": {"methods": {"age": "psi"}, "thresholds": {"age": 0.2}, "drift_share": 0.25},
                "webhooks": ["https://hooks.example.com/a", "http://10.0.0.1:8080/b"], "webhook_max_attempts": 3,
                "task": "classification", "positive_label": "yes", "min_rows": 10
                """#))
        #expect(spec.alias == "champion")
        #expect(spec.window == MonitorSpec.Window(rows: 500))
        #expect(spec.intervalSeconds == 300)
        #expect(spec.checks.map(\.name) == ["feature_drift", "prediction_drift", "quality:f1", "error_rate", "latency_p99"])
        #expect(spec.checks[2] == MonitorSpec.Check(type: .quality, threshold: 0.8, metric: "f1"))
        #expect(spec.drift == DriftConfiguration(methods: ["age": .psi], thresholds: ["age": 0.2], driftShare: 0.25))
        #expect(spec.webhooks.count == 2)
        #expect(spec.webhookMaxAttempts == 3)
        #expect(spec.task == .classification)
        #expect(spec.positiveLabel == "yes")
        #expect(spec.minRows == 10)
    }

    @Test func encodeThenDecodeIsTheSameSpec() throws {
        let specs = [
            MonitorSpec(name: "a", modelName: "m"),
            MonitorSpec(
                name: "b \"quoted\" ✓", modelName: "m/n", alias: "champion", window: .init(rows: 10), intervalSeconds: 5,
                checks: [
                    .init(type: .quality, threshold: 2.5, metric: "mae"), .init(type: .featureDrift),
                    .init(type: .latencyP99, threshold: 100),
                ],
                drift: DriftConfiguration(methods: ["x": .wasserstein, "y": .chiSquared], thresholds: ["x": 0.15], driftShare: 1),
                webhooks: ["https://example.com/hook?a=1&b=2"], webhookMaxAttempts: 20, task: .regression, positiveLabel: "1", minRows: 1),
        ]
        for spec in specs {
            try spec.validate()
            let text = spec.encoded()
            #expect(try Self.decode(text) == spec)
            #expect(try JSONDecoder().decode(MonitorSpec.self, from: JSONEncoder().encode(spec)) == spec)
            // Stored as snake_case, like the API takes it.
            #expect(text.contains(#""model_name":"#))
            #expect(!text.contains("modelName"))
        }
    }

    @Test func theWindowNeedsExactlyOneOfSecondsOrRows() {
        Self.expectRefused(Self.body(#""window": {"seconds": 60, "rows": 100}"#), naming: "'window'")
        Self.expectRefused(Self.body(#""window": {}"#), naming: "'window'")
        Self.expectRefused(Self.body(#""window": {"seconds": 0}"#), naming: "'window.seconds'")
        Self.expectRefused(Self.body(#""window": {"seconds": 31622401}"#), naming: "'window.seconds'")
        Self.expectRefused(Self.body(#""window": {"rows": 0}"#), naming: "'window.rows'")
        Self.expectRefused(Self.body(#""window": {"rows": 10000001}"#), naming: "'window.rows'")
        #expect(throws: Never.self) { try Self.decode(Self.body(#""window": {"rows": 10000000}"#)) }
        #expect(throws: Never.self) { try Self.decode(Self.body(#""window": {"seconds": 1}"#)) }
    }

    @Test func checksAreValidated() {
        Self.expectRefused(Self.body(#""checks": [{"type": "quality", "metric": "bogus", "threshold": 1}]"#), naming: "'metric'")
        Self.expectRefused(Self.body(#""checks": [{"type": "quality", "threshold": 1}]"#), naming: "'metric'")
        Self.expectRefused(Self.body(#""checks": [{"type": "quality", "metric": "accuracy"}]"#), naming: "'threshold'")
        Self.expectRefused(Self.body(#""checks": [{"type": "error_rate"}]"#), naming: "'threshold'")
        Self.expectRefused(Self.body(#""checks": [{"type": "latency_p99"}]"#), naming: "'threshold'")
        Self.expectRefused(Self.body(#""checks": [{"type": "error_rate", "threshold": 0.1, "metric": "f1"}]"#), naming: "'metric'")
        Self.expectRefused(Self.body(#""checks": [{"type": "feature_drift", "metric": "f1"}]"#), naming: "'metric'")
        Self.expectRefused(
            Self.body(#""checks": [{"type": "error_rate", "threshold": 0.1}, {"type": "error_rate", "threshold": 0.2}]"#),
            naming: "'error_rate'")
        Self.expectRefused(
            Self.body(
                #""checks": [{"type": "quality", "metric": "f1", "threshold": 0.5}, {"type": "quality", "metric": "f1", "threshold": 0.6}]"#
            ), naming: "'quality:f1'")
        Self.expectRefused(Self.body(#""checks": [{"type": "nope"}]"#), naming: "type")
        let many = (0..<65).map { #"{"type": "quality", "metric": "f1", "threshold": \#($0)}"# }.joined(separator: ",")
        Self.expectRefused(Self.body(#""checks": [\#(many)]"#), naming: "64 checks")
        // The same metric on different kinds, and different metrics of one kind, are distinct.
        #expect(throws: Never.self) {
            try Self.decode(
                Self.body(
                    #""checks": [{"type": "quality", "metric": "f1", "threshold": 0.5}, {"type": "quality", "metric": "mae", "threshold": 2}]"#
                ))
        }
    }

    @Test func thresholdsMustBeWhatTheCheckCanMeasure() {
        for (check, field) in [
            (#"{"type": "error_rate", "threshold": -1}"#, "between 0 and 1"),
            (#"{"type": "error_rate", "threshold": 1.5}"#, "between 0 and 1"),
            (#"{"type": "latency_p99", "threshold": -50}"#, "> 0"),
            (#"{"type": "latency_p99", "threshold": 0}"#, "> 0"),
            (#"{"type": "feature_drift", "threshold": 5}"#, "(0, 1]"),
            (#"{"type": "feature_drift", "threshold": 0}"#, "(0, 1]"),
            (#"{"type": "prediction_drift", "threshold": -1}"#, "≥ 0"),
            (#"{"type": "quality", "metric": "accuracy", "threshold": 2}"#, "between 0 and 1"),
            (#"{"type": "quality", "metric": "roc_auc", "threshold": -0.1}"#, "between 0 and 1"),
            (#"{"type": "quality", "metric": "rmse", "threshold": -1}"#, "≥ 0"),
        ] {
            Self.expectRefused(Self.body(#""checks": [\#(check)]"#), naming: field)
        }
        #expect(throws: Never.self) {
            try Self.decode(
                Self.body(
                    #""checks": [{"type": "error_rate", "threshold": 0}, {"type": "feature_drift", "threshold": 1}, {"type": "quality", "metric": "mae", "threshold": 250}]"#
                ))
        }
    }

    @Test func aNumberOutOfRangeIsNamedAsSuch() {
        Self.expectRefused(Self.body(#""window": {"rows": 1e20}"#), naming: "'window.rows' must be a whole number")
        Self.expectRefused(Self.body(#""min_rows": 2.5"#), naming: "'min_rows' must be a whole number")
    }

    @Test func unknownFieldsAreRefusedByName() {
        Self.expectRefused(Self.body(#""version": "7""#), naming: "unknown field 'version'")
        Self.expectRefused(Self.body(#""window": {"second": 60}"#), naming: "unknown field 'window.second'")
        Self.expectRefused(
            Self.body(#""checks": [{"type": "error_rate", "threshold": 0.1, "metrics": "f1"}]"#),
            naming: "unknown field 'checks[0].metrics'")
        Self.expectRefused(Self.body(#""drift": {"share": 0.3}"#), naming: "unknown field 'drift.share'")
    }

    @Test func driftSettingsAreValidated() {
        for share in ["0", "-0.1", "1.5"] {
            Self.expectRefused(Self.body(#""drift": {"drift_share": \#(share)}"#), naming: "'drift.drift_share'")
        }
        Self.expectRefused(Self.body(#""drift": {"thresholds": {"age": -1}}"#), naming: "'age'")
        Self.expectRefused(Self.body(#""drift": {"methods": {"age": "t-test"}}"#), naming: "age")
        #expect(throws: Never.self) { try Self.decode(Self.body(#""drift": {"drift_share": 1}"#)) }
    }

    @Test func webhooksMustBeHTTPAndAttemptsBounded() {
        for url in ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "example.com/hook", "http://", "https:///path", ""]
        {
            Self.expectRefused(Self.body(#""webhooks": ["\#(url)"]"#), naming: "Webhook '\(url)'")
        }
        Self.expectRefused(Self.body(#""webhooks": ["https://example.com/\#(String(repeating: "a", count: 2100))"]"#), naming: "Webhook")
        let many = (0..<17).map { #""https://example.com/\#($0)""# }.joined(separator: ",")
        Self.expectRefused(Self.body(#""webhooks": [\#(many)]"#), naming: "16 webhooks")
        for attempts in [0, 21, -1] {
            Self.expectRefused(Self.body(#""webhook_max_attempts": \#(attempts)"#), naming: "'webhook_max_attempts'")
        }
        #expect(throws: Never.self) {
            try Self.decode(Self.body(#""webhooks": ["HTTPS://Example.com:8443/x"], "webhook_max_attempts": 1"#))
        }
    }

    @Test func identityAndScheduleAreValidated() {
        Self.expectRefused(#"{"model_name": "churn"}"#, naming: "'name'")
        Self.expectRefused(#"{"name": "w"}"#, naming: "'model_name'")
        Self.expectRefused(#"{"name": "", "model_name": "churn"}"#, naming: "'name'")
        Self.expectRefused(#"{"name": "two\nlines", "model_name": "churn"}"#, naming: "'name'")
        Self.expectRefused(#"{"name": "\#(String(repeating: "n", count: 257))", "model_name": "churn"}"#, naming: "'name'")
        Self.expectRefused(#"{"name": "w", "model_name": ""}"#, naming: "'model_name'")
        Self.expectRefused(Self.body(#""alias": """#), naming: "'alias'")
        Self.expectRefused(Self.body(#""interval_seconds": 0"#), naming: "'interval_seconds'")
        Self.expectRefused(Self.body(#""min_rows": 0"#), naming: "'min_rows'")
        Self.expectRefused(Self.body(#""task": "ranking""#), naming: "task: 'ranking' is not one of classification, regression")
        Self.expectRefused(Self.body(#""interval_seconds": "60""#), naming: "'interval_seconds'")
        Self.expectRefused(#"[1, 2]"#, naming: "Invalid monitor")
        Self.expectRefused("{", naming: "Invalid monitor")
        Self.expectRefused("", naming: "Invalid monitor")
    }
}
