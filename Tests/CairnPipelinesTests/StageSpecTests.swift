import CairnPipelines
import Testing

@Suite struct StageSpecTests {
    @Test func backoffGrowsByTheFactorAndStopsAtTheCap() {
        let backoff = StageSpec.Backoff(initial: 1, factor: 3, maximum: 5)
        #expect(backoff.delay(beforeRetry: 0) == 0)
        #expect(backoff.delay(beforeRetry: 1) == 1)
        #expect(backoff.delay(beforeRetry: 2) == 3)
        #expect(backoff.delay(beforeRetry: 3) == 5)
    }

    @Test func submissionIDsAreStablePerAttemptAndSafeForRay() {
        let invocation = StageInvocation(
            runID: "r1", stage: "build@uk/x", attempt: 2, command: "true", workingDirectory: "/", environment: [:],
            resources: .init(), stdoutPath: "/dev/null", stderrPath: "/dev/null")
        #expect(invocation.submissionID == "cairn-r1-build_uk_x-2")
    }

    @Test func writtenPathsCoverOutsMetricsAndPlots() {
        let stage = StageSpec(
            name: "s", kind: .command(["true"]), outs: [.init(path: "a")], metrics: [.init(path: "m.json", cache: false)],
            plots: [.init(path: "p.csv")], location: SourceLocation(file: "dvc.yaml", line: 2))
        #expect(stage.writtenPaths == ["a", "m.json", "p.csv"])
    }
}
