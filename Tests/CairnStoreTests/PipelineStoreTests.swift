import CairnCore
import Foundation
import Logging
import Testing

@testable import CairnStore

/// The pipeline store's contract, run on SQLite here and on PostgreSQL by `PostgresStoreTests`.
enum PipelineStoreContract {
    static func check(_ store: any PipelineStore) async throws {
        let pipeline = try await store.putPipeline(
            StoredPipeline(
                name: "train", projectDirectory: "/p/train", specFile: "/p/train/dvc.yaml", concurrency: 1, creationTime: 1,
                lastUpdateTime: 1))
        #expect(try await store.getPipeline(name: "train") == pipeline)
        await expectCairnError(.resourceAlreadyExists) {
            _ = try await store.putPipeline(
                StoredPipeline(
                    name: "train", projectDirectory: "/elsewhere", specFile: "/elsewhere/dvc.yaml", concurrency: 1, creationTime: 2,
                    lastUpdateTime: 2))
        }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getPipeline(name: "nope") }

        let run = StoredPipelineRun(
            id: "r1", pipeline: "train", status: .running, triggerKind: "manual", triggerEventID: "e1", options: "{}", reason: nil,
            startTime: 10, endTime: nil, resumedFrom: nil)
        try await store.createRun(run, limit: 1)
        var second = run
        second.id = "r2"
        second.triggerEventID = nil
        // At the limit: refused, and nothing inserted.
        await expectCairnError(.resourceConflict) { try await store.createRun(second, limit: 1) }
        await expectCairnError(.resourceDoesNotExist) { _ = try await store.getRun(id: "r2") }
        #expect(try await store.run(triggerEventID: "e1")?.id == "r1")

        try await store.putStageRun(StoredStageRun(runID: "r1", stage: "b", status: .waiting))
        try await store.putStageRun(
            StoredStageRun(
                runID: "r1", stage: "a", status: .finished, cacheKey: "v1:k", keyComponents: "{}", mlflowRunID: "m1", cacheHit: true,
                sourceRun: "m0", attempts: 2, jobID: "123", reason: nil, startTime: 11, endTime: 12))
        let rows = try await store.stageRuns(runID: "r1")
        #expect(rows.map(\.stage) == ["a", "b"])
        #expect(rows[0].cacheHit && rows[0].attempts == 2 && rows[0].sourceRun == "m0")
        #expect(try await store.lastFinishedStageRun(pipeline: "train", stage: "a")?.mlflowRunID == "m1")

        try await store.finishRun(id: "r1", status: .failed, reason: "stage 'b' failed", endTime: 20)
        #expect(try await store.getRun(id: "r1").status == .failed)
        try await store.createRun(second, limit: 1)
        #expect(try await store.listRuns(pipeline: "train", status: nil, limit: 10).map(\.id).sorted() == ["r1", "r2"])
        #expect(try await store.listRuns(pipeline: nil, status: .running, limit: 10).map(\.id) == ["r2"])

        let entry = RunCacheEntry(key: "v1:k", pipeline: "train", stage: "a", outs: "[]", sourceRun: "m1", creationTime: 5)
        try await store.putCacheEntry(entry)
        var newer = entry
        newer.sourceRun = "m2"
        try await store.putCacheEntry(newer)
        #expect(try await store.cacheEntry(key: "v1:k") == newer)
        #expect(try await store.cacheEntry(key: "v1:absent") == nil)

        // A renamed spec keeps its directory's runs under the new name.
        _ = try await store.putPipeline(
            StoredPipeline(
                name: "train2", projectDirectory: "/p/train", specFile: "/p/train/dvc.yaml", concurrency: 2, creationTime: 3,
                lastUpdateTime: 3))
        #expect(try await store.getRun(id: "r1").pipeline == "train2")
        #expect(try await store.listPipelines().map(\.name) == ["train2"])
    }
}

@Suite struct PipelineStoreTests {
    @Test func sqliteHonoursTheContract() async throws {
        let fixture = try await StoreFixture.make()
        do {
            try await PipelineStoreContract.check(SQLPipelineStore(database: fixture.database))
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }
}
