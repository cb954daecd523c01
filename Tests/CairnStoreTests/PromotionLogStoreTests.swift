import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// The promotion log and the alias compare-and-set it is written with.
@Suite struct PromotionLogStoreTests {
    /// A model `m` with `count` versions.
    static func model(_ stores: RegistryFixture, versions count: Int) async throws {
        _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
        for index in 1...count {
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/\(index)"))
        }
    }

    static func alias(_ stores: RegistryFixture, _ alias: String) async throws -> String? {
        try await stores.registry.getRegisteredModel(name: "m").aliases.first { $0.alias == alias }?.version
    }

    static func decision(_ outcome: PromotionRecord.Outcome, candidate: String, champion: String?, time: Int64 = 10) -> PromotionRecord {
        PromotionRecord(
            modelName: "m", kind: .decision, outcome: outcome, alias: "champion", candidateVersion: candidate, championVersion: champion,
            candidateMetrics: ["accuracy_score": 0.9], championMetrics: champion == nil ? [:] : ["accuracy_score": 0.8],
            thresholds: #"{"accuracy_score":{"greater_is_better":true,"min_absolute_change":0.01}}"#,
            failures: outcome == .rejected ? ["Metric accuracy_score minimum absolute change check failed"] : [],
            datasetDigest: "abc", datasetPath: "/data/holdout.csv", pipelineRunID: "run1", stageRunID: "stage1", time: time)
    }

    @Test func compareAndSetIsRefusedWhenTheAliasMoved() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 3)
            // Unset alias: only an "expect unset" set wins.
            #expect(
                try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1", expectedCurrent: "2") == false
            )
            #expect(try await Self.alias(stores, "champion") == nil)
            #expect(try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1", expectedCurrent: nil))
            #expect(
                try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2", expectedCurrent: nil) == false
            )
            #expect(try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2", expectedCurrent: "1"))
            // Someone read @champion = 1 before the move to 2: refused, the alias stays at 2.
            #expect(
                try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "3", expectedCurrent: "1") == false
            )
            #expect(try await Self.alias(stores, "champion") == "2")
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "9", expectedCurrent: "2")
            }
        }
    }

    @Test func aPassMovesTheAliasAndKeepsThePreviousOneInOneEntry() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 2)
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            let log = SQLPromotionLogStore(database: stores.registry.database)
            let stored = try await log.recordDecision(Self.decision(.promoted, candidate: "2", champion: "1"), keepPreviousAs: "previous")
            #expect(stored.outcome == .promoted)
            #expect(
                stored.moves == [
                    .init(alias: "champion", fromVersion: "1", toVersion: "2"), .init(alias: "previous", fromVersion: nil, toVersion: "1"),
                ])
            #expect(try await Self.alias(stores, "champion") == "2")
            #expect(try await Self.alias(stores, "previous") == "1")
            let listed = try await log.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items
            #expect(listed == [stored])
            #expect(listed.first?.candidateMetrics == ["accuracy_score": 0.9])
            #expect(listed.first?.datasetDigest == "abc")
            #expect(listed.first?.stageRunID == "stage1")
        }
    }

    @Test func aPassIsRefusedAndLoggedWhenTheAliasMovedMeanwhile() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 3)
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "3")
            let log = SQLPromotionLogStore(database: stores.registry.database)
            // The gate read @champion = 1; it now points at 3.
            let stored = try await log.recordDecision(Self.decision(.promoted, candidate: "2", champion: "1"), keepPreviousAs: "previous")
            #expect(stored.outcome == .refused)
            #expect(stored.moves.isEmpty)
            #expect(stored.failures.last?.contains("moved while the gate ran") == true)
            #expect(try await Self.alias(stores, "champion") == "3")
            #expect(try await Self.alias(stores, "previous") == nil)
            #expect(try await log.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items.map(\.outcome) == [.refused])
        }
    }

    @Test func aRejectionIsLoggedAndMovesNothing() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 2)
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            let log = SQLPromotionLogStore(database: stores.registry.database)
            let stored = try await log.recordDecision(Self.decision(.rejected, candidate: "2", champion: "1"), keepPreviousAs: nil)
            #expect(stored.outcome == .rejected && stored.moves.isEmpty)
            #expect(try await Self.alias(stores, "champion") == "1")
            let listed = try await log.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items
            #expect(listed.map(\.failures) == [["Metric accuracy_score minimum absolute change check failed"]])
        }
    }

    /// Records the registry events it hears.
    actor HeardEvents: RegistryEventListener {
        var events: [RegistryEvent] = []
        func registryEvent(_ event: RegistryEvent) async { events.append(event) }
    }

    @Test func aPromotionAndARollbackAnnounceTheirAliasMovesAndARejectionAnnouncesNothing() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 2)
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            let heard = HeardEvents()
            let log = AnnouncingPromotionLogStore(base: SQLPromotionLogStore(database: stores.registry.database), listeners: [heard])
            _ = try await log.recordDecision(Self.decision(.rejected, candidate: "2", champion: "1"), keepPreviousAs: nil)
            #expect(await heard.events.isEmpty)
            _ = try await log.recordDecision(Self.decision(.promoted, candidate: "2", champion: "1"), keepPreviousAs: "previous")
            #expect(
                await heard.events == [
                    .modelVersionAliasCreated(name: "m", alias: "champion", version: "2"),
                    .modelVersionAliasCreated(name: "m", alias: "previous", version: "1"),
                ])
            _ = try await log.rollback(modelName: "m", alias: "champion", time: 20)
            #expect(await heard.events.last == .modelVersionAliasCreated(name: "m", alias: "champion", version: "1"))
        }
    }

    /// Passing the version the alias already points at moves nothing, so nothing is recorded
    /// as a move and a rollback still goes back to the version before the last real move.
    @Test func aPassOfTheAliasesOwnVersionRecordsNoMove() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 2)
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            let log = SQLPromotionLogStore(database: stores.registry.database)
            _ = try await log.recordDecision(Self.decision(.promoted, candidate: "2", champion: "1"), keepPreviousAs: nil)
            let again = try await log.recordDecision(Self.decision(.promoted, candidate: "2", champion: "2"), keepPreviousAs: "previous")
            #expect(again.moves.isEmpty)
            #expect(try await Self.alias(stores, "previous") == nil)
            let back = try await log.rollback(modelName: "m", alias: "champion", time: 30)
            #expect(back.moves == [.init(alias: "champion", fromVersion: "2", toVersion: "1")])
        }
    }

    @Test func rollbackGoesBackToThePreviousVersionAndIsLogged() async throws {
        try await RegistryFixture.with { stores in
            try await Self.model(stores, versions: 3)
            let log = SQLPromotionLogStore(database: stores.registry.database)
            await expectCairnError(.invalidParameterValue) { _ = try await log.rollback(modelName: "m", alias: "champion", time: 1) }
            // The first model: its move created the alias, so there is nothing to go back to.
            _ = try await log.recordDecision(Self.decision(.promoted, candidate: "1", champion: nil, time: 1), keepPreviousAs: nil)
            do {
                _ = try await log.rollback(modelName: "m", alias: "champion", time: 2)
                Issue.record("rolled back past the first model")
            } catch let error as CairnError {
                #expect(error.message.contains("no previous version"))
            }
            _ = try await log.recordDecision(Self.decision(.promoted, candidate: "3", champion: "1", time: 3), keepPreviousAs: nil)
            let rolledBack = try await log.rollback(modelName: "m", alias: "champion", time: 4)
            #expect(rolledBack.kind == .rollback && rolledBack.outcome == .rolledBack)
            #expect(rolledBack.moves == [.init(alias: "champion", fromVersion: "3", toVersion: "1")])
            #expect(try await Self.alias(stores, "champion") == "1")
            // Newest first, with the numbers of each entry.
            let page = try await log.listPromotions(modelName: "m", maxResults: 2, pageToken: nil)
            #expect(page.items.map(\.kind) == [.rollback, .decision])
            #expect(page.items.map(\.sequence) == [3, 2])
            let rest = try await log.listPromotions(modelName: "m", maxResults: 2, pageToken: page.nextPageToken)
            #expect(rest.items.map(\.sequence) == [1] && rest.nextPageToken == nil)
            // A move made outside the log: rollback refuses instead of guessing.
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2")
            do {
                _ = try await log.rollback(modelName: "m", alias: "champion", time: 5)
                Issue.record("rolled back over a move the log does not know")
            } catch let error as CairnError {
                #expect(error.message.contains("moved outside the promotion log"))
            }
            #expect(try await Self.alias(stores, "champion") == "2")
        }
    }
}

/// Migration 6, the compare-and-set and the log on PostgreSQL, where two promotions racing on
/// one alias meet the row lock: exactly one wins. In `PostgresStoreTests`' serialized suite
/// because every test there wipes the one database.
extension PostgresStoreTests {
    @Test func promotionLogAndRacingCompareAndSet() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            let registry = SQLRegistryStore(database: database)
            let log = SQLPromotionLogStore(database: database)
            _ = try await registry.createRegisteredModel(name: "m", tags: [], description: nil)
            for index in 1...4 { _ = try await registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/\(index)")) }
            try await registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")

            // Three gates read @champion = 1 and pass at once: one promotion, two refusals.
            let outcomes = try await withThrowingTaskGroup(of: PromotionRecord.Outcome.self) { racing in
                for candidate in ["2", "3", "4"] {
                    racing.addTask {
                        try await log.recordDecision(
                            PromotionRecord(
                                modelName: "m", kind: .decision, outcome: .promoted, alias: "champion", candidateVersion: candidate,
                                championVersion: "1", candidateMetrics: ["accuracy_score": .nan], time: 5),
                            keepPreviousAs: "previous"
                        ).outcome
                    }
                }
                return try await racing.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.sorted { $0.rawValue < $1.rawValue } == [.promoted, .refused, .refused])
            let entries = try await log.listPromotions(modelName: "m", maxResults: 10, pageToken: nil).items
            #expect(entries.map(\.sequence) == [3, 2, 1])
            let winner = try #require(entries.first { $0.outcome == .promoted })
            #expect(winner.candidateMetrics["accuracy_score"]?.isNaN == true)
            #expect(try await registry.getModelVersion(name: "m", alias: "champion").version == winner.candidateVersion)
            #expect(try await registry.getModelVersion(name: "m", alias: "previous").version == "1")

            let rolledBack = try await log.rollback(modelName: "m", alias: "champion", time: 6)
            #expect(rolledBack.moves == [.init(alias: "champion", fromVersion: winner.candidateVersion, toVersion: "1")])
            #expect(try await registry.getModelVersion(name: "m", alias: "champion").version == "1")
            #expect(try await registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2", expectedCurrent: "3") == false)
        }
    }
}
