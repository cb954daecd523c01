import CairnCore
import Foundation
import Logging
import Testing

@testable import CairnStore

/// Writes from many requests at once (replicas, or one server's connections) on PostgreSQL,
/// which, unlike SQLite's one writer, runs them side by side.
@Suite(.enabled(if: FreshPostgresDatabase.serverURL != nil))
struct ConcurrentBatchTests {
    /// The latest-metrics upserts lock their rows in key order, so batches naming the same
    /// keys in different orders queue instead of deadlocking.
    @Test func concurrentBatchesToOneRunWithShuffledKeysAllCommit() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let store = SQLTrackingStore(database: database)
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let runID = run.info.runID
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        for round in 0..<5 {
                            let step = Int64(writer * 100 + round)
                            let metrics = (0..<100).shuffled().map {
                                Metric(key: "k\($0)", value: Double(step), timestamp: step, step: step)
                            }
                            try await store.logBatch(runID: runID, metrics: metrics, params: [], tags: [])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let latest = try await store.getRun(id: runID).data.metrics
            #expect(latest.count == 100)
            #expect(latest.allSatisfy { $0.step == 15 * 100 + 4 })
        }
    }

    /// Experiment ids are max + 1: creations at once (two replicas) take turns under a lock
    /// rather than picking one id and the second failing as a duplicate.
    @Test func concurrentExperimentCreationsGetDistinctIds() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let store = SQLTrackingStore(database: database)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<16 {
                    group.addTask { try await store.createExperiment(name: "concurrent-\(index)", artifactLocation: nil, tags: []) }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 16)
        }
    }

    /// Users and roles are numbered the same way, and created at once from two replicas too.
    @Test func concurrentUserAndRoleCreationsGetDistinctIds() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let store = SQLAuthStore(database: database)
            let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for index in 0..<16 {
                    group.addTask {
                        let user = try await store.createUser(username: "user-\(index)", passwordHash: "x", isAdmin: false, at: 1)
                        let role = try await store.createRole(name: "role-\(index)", workspace: "default", description: nil)
                        return [user.id, role.id]
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            #expect(Set(ids.map { $0[0] }).count == 16)
            #expect(Set(ids.map { $0[1] }).count == 16)
        }
    }
}
