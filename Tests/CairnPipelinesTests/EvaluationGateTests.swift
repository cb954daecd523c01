import CairnClient
import CairnCore
import CairnStore
import Foundation
import Logging
import Testing

@testable import CairnPipelines

/// The parts of `EvaluationGate` the engine reaches before any model is scored: which version
/// is the candidate, and the data it is judged on. Scoring itself is covered live by
/// Tests/compat/test_gate.py.
@Suite struct EvaluationGateTests {
    static func withGate(_ body: (EvaluationGate, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-gate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory + "/cairn.db", logger: logger)
        do {
            try await Migrations.run(on: database, logger: logger, now: 1)
            let registry = SQLRegistryStore(database: database)
            _ = try await registry.createRegisteredModel(name: "m", tags: [], description: nil)
            for index in 1...3 { _ = try await registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/\(index)")) }
            try await registry.setRegisteredModelAlias(name: "m", alias: "challenger", version: "2")
            let gate = EvaluationGate(
                registry: registry, promotions: SQLPromotionLogStore(database: database),
                tracking: ClientConfiguration(trackingURI: "http://127.0.0.1:1"), modelCacheDirectory: directory + "/models")
            try await body(gate, directory)
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func spec(candidate: String, data: String = "holdout.csv") -> GateSpec {
        GateSpec(
            model: "m", candidate: candidate, data: data, target: "label",
            thresholds: ["accuracy": MetricThreshold(threshold: 0.8, greaterIsBetter: true)])
    }

    @Test func theCandidateIsAVersionAnAliasOrAFileWrittenUpstream() async throws {
        try await Self.withGate { gate, directory in
            #expect(try await gate.candidateVersion(Self.spec(candidate: "3"), workingDirectory: directory) == "3")
            #expect(try await gate.candidateVersion(Self.spec(candidate: "@challenger"), workingDirectory: directory) == "2")
            #expect(try await gate.candidateVersion(Self.spec(candidate: "challenger"), workingDirectory: directory) == "2")
            try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
            try "1\n".write(toFile: directory + "/out/version.txt", atomically: true, encoding: .utf8)
            #expect(try await gate.candidateVersion(Self.spec(candidate: "out/version.txt"), workingDirectory: directory) == "1")
            // Without a working directory (the API) a path is read as an alias.
            await #expect(throws: CairnError.self) {
                _ = try await gate.candidateVersion(Self.spec(candidate: "out/version.txt"), workingDirectory: nil)
            }
            try "models:/m/1".write(toFile: directory + "/out/bad.txt", atomically: true, encoding: .utf8)
            do {
                _ = try await gate.candidateVersion(Self.spec(candidate: "out/bad.txt"), workingDirectory: directory)
                Issue.record("a file without a version number was accepted")
            } catch let error as CairnError {
                #expect(error.message.contains("should hold a version number"))
            }
            await #expect(throws: CairnError.self) {
                _ = try await gate.candidateVersion(Self.spec(candidate: "9"), workingDirectory: directory)
            }
        }
    }

    @Test func dataThatCannotBeJudgedIsAClearErrorAndLogsNothing() async throws {
        try await Self.withGate { gate, directory in
            do {
                _ = try await gate.evaluate(Self.spec(candidate: "2"), runID: "r", stageRunID: "s", workingDirectory: directory)
                Issue.record("judged without data")
            } catch let error as CairnError {
                #expect(error.message.contains("Cannot read the gate's data \(directory)/holdout.csv"))
            }
            try "f0,f1\n1,2\n".write(toFile: directory + "/holdout.csv", atomically: true, encoding: .utf8)
            do {
                _ = try await gate.evaluate(Self.spec(candidate: "2"), runID: "r", stageRunID: "s", workingDirectory: directory)
                Issue.record("judged without a target column")
            } catch let error as CairnError {
                #expect(error.message.contains("no target column 'label'"))
            }
            #expect(try await gate.promotions.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items.isEmpty)
        }
    }

    @Test func aCandidateTheAliasAlreadyHoldsIsUpToDateWithoutJudgingOrLogging() async throws {
        try await Self.withGate { gate, directory in
            // No data file: an up-to-date candidate is not scored, so it needs none.
            let spec = GateSpec(
                model: "m", candidate: "2", alias: "challenger", data: "holdout.csv", target: "label",
                thresholds: ["accuracy": MetricThreshold(threshold: 0.8, minAbsoluteChange: 0.01, greaterIsBetter: true)])
            let decision = try await gate.evaluate(spec, runID: "r", stageRunID: "s", workingDirectory: directory)
            #expect(decision.alreadyCurrent && decision.passed && !decision.promoted)
            #expect(decision.candidateVersion == "2" && decision.championVersion == "2")
            #expect(try await gate.promotions.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items.isEmpty)
            #expect(try await gate.registry.getModelVersion(name: "m", alias: "challenger").version == "2")
        }
    }

    @Test func aCandidateThatLosesTheAliasRaceIsTaggedRefusedNotPassed() async throws {
        try await Self.withGate { gate, _ in
            // Read while @champion was unset; another promotion moved it to 1 meanwhile.
            try await gate.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            let lost = try await gate.promotions.recordDecision(
                PromotionRecord(
                    modelName: "m", kind: .decision, outcome: .promoted, alias: "champion", candidateVersion: "3", championVersion: nil,
                    time: 5),
                keepPreviousAs: nil)
            #expect(lost.outcome == .refused)
            let tags = Dictionary(uniqueKeysWithValues: EvaluationGate.candidateTags(lost, runID: "r").map { ($0.key, $0.value) })
            #expect(tags["cairn.gate"] == "refused")
            #expect(tags["cairn.gate.outcome"] == "refused")
            #expect(tags["cairn.gate.run_id"] == "r")
            let won = try await gate.promotions.recordDecision(
                PromotionRecord(
                    modelName: "m", kind: .decision, outcome: .promoted, alias: "champion", candidateVersion: "3", championVersion: "1",
                    time: 6),
                keepPreviousAs: nil)
            #expect(EvaluationGate.candidateTags(won, runID: nil).first { $0.key == "cairn.gate" }?.value == "passed")
        }
    }
}
