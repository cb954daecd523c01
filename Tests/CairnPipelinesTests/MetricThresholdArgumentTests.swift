import CairnCore
import CairnPipelines
import Testing

/// `--metric` text: what MLflow's `MetricThreshold` can mean is read, the rest refused with
/// the reason before anything reaches the server.
@Suite struct MetricThresholdArgumentTests {
    @Test func directionsThresholdsAndLimitsAreRead() throws {
        let (name, limit) = try MetricThresholdArgument.parse("accuracy_score>=0.8, min_absolute_change=0.01")
        #expect(name == "accuracy_score")
        #expect(limit["threshold"] == .number(0.8, raw: "0.8"))
        #expect(limit["min_absolute_change"] == .number(0.01, raw: "0.01"))
        #expect(limit["greater_is_better"] == .bool(true))
        #expect(try MetricThresholdArgument.parse("rmse<=3").limit["greater_is_better"] == .bool(false))
        // A bare name with its direction and a limit; a direction said twice the same way.
        let bare = try MetricThresholdArgument.parse("auc,greater_is_better=true,min_relative_change=0.05")
        #expect(bare.name == "auc" && bare.limit["min_relative_change"] == .number(0.05, raw: "0.05"))
        #expect(try MetricThresholdArgument.parse("f1>=0.5,greater_is_better=TRUE").limit["greater_is_better"] == .bool(true))
    }

    @Test(arguments: [
        ("accuracy>0.8", "inclusive"),
        ("accuracy<0.8", "inclusive"),
        (">", "inclusive"),
        ("accuracy>=nan", "not a finite number"),
        ("accuracy>=inf", "not a finite number"),
        ("accuracy>=-Infinity", "not a finite number"),
        ("accuracy>=0.8,min_absolute_change=nan", "not a finite number"),
        ("accuracy>=0.8,greater_is_better=false", "says greater is better but greater_is_better=false"),
        ("rmse<=2,greater_is_better=true", "says lower is better"),
        ("accuracy", "say which way is better"),
        ("accuracy,min_absolute_change=0.01", "say which way is better"),
        ("accuracy,greater_is_better=true", "give a threshold"),
        ("accuracy>=0.8,threshold=0.7", "threshold is given twice"),
        ("accuracy>=0.8,min_absolute_change=0.1,min_absolute_change=0.2", "given twice"),
        ("accuracy>=0.8,lenient=yes", "unknown limit"),
        ("=0.8", "start with NAME"),
    ])
    func whatMLflowCannotMeanIsRefusedWithTheReason(text: String, reason: String) {
        do {
            let parsed = try MetricThresholdArgument.parse(text)
            Issue.record("'\(text)' was read as \(parsed)")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(error.message.contains("--metric '\(text)'"))
        }
    }
}
