import CairnCore
import Testing

@testable import CairnStore

/// A run page shows each metric's minimum and maximum over its whole history beside the latest
/// value, computed in the database.
@Suite struct MetricSummaryStoreTests {
    @Test func minimumMaximumAndCountsPerRunAndKey() async throws {
        try await StoreFixture.with { store in
            let experiment = try await store.createExperiment(name: "e", artifactLocation: nil, tags: [])
            let first = try await store.createRun(CreateRun(experimentID: experiment, userID: "u", runName: "a", startTime: 1, tags: []))
            let second = try await store.createRun(CreateRun(experimentID: experiment, userID: "u", runName: "b", startTime: 1, tags: []))
            let loss = [3.0, -1.5, .nan, 2.0, Double.greatestFiniteMagnitude].enumerated().map {
                Metric(key: "loss", value: $1, timestamp: Int64($0), step: Int64($0))
            }
            try await store.logBatch(
                runID: first.info.runID, metrics: loss + [Metric(key: "only-nan", value: .nan, timestamp: 1)], params: [], tags: [])
            try await store.logBatch(
                runID: second.info.runID, metrics: [Metric(key: "loss", value: 7, timestamp: 1)], params: [], tags: [])

            let summaries = try await store.metricSummaries(runIDs: [first.info.runID])
            #expect(
                summaries == [
                    MetricSummary(
                        runID: first.info.runID, key: "loss", minimum: -1.5, maximum: Double.greatestFiniteMagnitude, count: 5, nanCount: 1),
                    MetricSummary(runID: first.info.runID, key: "only-nan", minimum: nil, maximum: nil, count: 1, nanCount: 1),
                ])
            let both = try await store.metricSummaries(runIDs: [first.info.runID, second.info.runID])
            #expect(
                both.filter { $0.runID == second.info.runID } == [
                    MetricSummary(runID: second.info.runID, key: "loss", minimum: 7, maximum: 7, count: 1, nanCount: 0)
                ])
            #expect(try await store.metricSummaries(runIDs: []) == [])
            await expectCairnError(.invalidParameterValue) { _ = try await store.metricSummaries(runIDs: ["'; DROP TABLE runs"]) }
        }
    }
}
