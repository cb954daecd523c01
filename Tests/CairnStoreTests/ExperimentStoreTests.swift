import CairnCore
import Logging
import Testing

@testable import CairnStore

@Suite struct ExperimentStoreTests {
    @Test func defaultExperimentExistsAfterMigrations() async throws {
        try await StoreFixture.with { store in
            let experiment = try await store.getExperiment(id: "0")
            #expect(experiment.name == "Default")
            #expect(experiment.artifactLocation == "mlflow-artifacts:/0")
            #expect(experiment.lifecycleStage == .active)
        }
    }

    @Test func containsTextMatchesTheTextLiterally() async throws {
        try await StoreFixture.with { store in
            for name in ["a_b", "axb", "50%", "500", "back\\slash", "backXslash", "Mixed_Case"] {
                _ = try await store.createExperiment(name: name, artifactLocation: nil, tags: [])
            }
            func names(containing text: String) async throws -> [String] {
                let filter = SearchFilter(clauses: [
                    FilterClause(entity: .attribute, key: "name", comparator: .containsText, value: .string(text))
                ])
                let search = ExperimentSearch(filter: filter, orderBy: [], viewType: .all, maxResults: 100, pageToken: nil)
                #expect(try await store.countExperiments(search) == (try await store.searchExperiments(search)).items.count)
                return try await store.searchExperiments(search).items.map(\.name).sorted()
            }
            #expect(try await names(containing: "a_b") == ["a_b"])
            #expect(try await names(containing: "50%") == ["50%"])
            #expect(try await names(containing: "%") == ["50%"])
            #expect(try await names(containing: "_") == ["Mixed_Case", "a_b"])
            #expect(try await names(containing: "k\\s") == ["back\\slash"])
            #expect(try await names(containing: "mixed_c") == ["Mixed_Case"])
        }
        #expect(SearchComparator.likeLiteral(#"a_b%c\d"#) == #"a\_b\%c\\d"#)
    }

    @Test func migrationsAreIdempotent() async throws {
        let fixture = try await StoreFixture.make()
        try await Migrations.run(on: fixture.database, logger: .init(label: "test"), now: 2)
        let experiment = try await fixture.store.getExperiment(id: "0")
        #expect(experiment.creationTime == 1)
        try await fixture.close()
    }

    @Test func createGetRenameAndTags() async throws {
        try await StoreFixture.with { store in
            let id = try await store.createExperiment(name: "exp", artifactLocation: nil, tags: [KeyValue(key: "owner", value: "me")])
            #expect(id == "1")
            var experiment = try await store.getExperiment(id: id)
            #expect(experiment.name == "exp")
            #expect(experiment.artifactLocation == "mlflow-artifacts:/1")
            #expect(experiment.tags == [KeyValue(key: "owner", value: "me")])
            #expect(try await store.getExperiment(name: "exp")?.experimentID == id)
            let missing = try await store.getExperiment(name: "nope")
            #expect(missing == nil)

            try await store.renameExperiment(id: id, newName: "renamed")
            experiment = try await store.getExperiment(id: id)
            #expect(experiment.name == "renamed")

            try await store.setExperimentTag(id: id, tag: KeyValue(key: "owner", value: "you"))
            try await store.setExperimentTag(id: id, tag: KeyValue(key: "team", value: "ml"))
            #expect(try await store.getExperiment(id: id).tags.map(\.value) == ["you", "ml"])
            try await store.deleteExperimentTag(id: id, key: "team")
            #expect(try await store.getExperiment(id: id).tags.count == 1)
            await expectCairnError(.resourceDoesNotExist) { try await store.deleteExperimentTag(id: id, key: "team") }
        }
    }

    @Test func duplicateNamesAreRefusedEvenWhenDeleted() async throws {
        try await StoreFixture.with { store in
            let id = try await store.createExperiment(name: "dup", artifactLocation: nil, tags: [])
            await expectCairnError(.resourceAlreadyExists) {
                _ = try await store.createExperiment(name: "dup", artifactLocation: nil, tags: [])
            }
            try await store.deleteExperiment(id: id)
            await expectCairnError(.resourceAlreadyExists) {
                _ = try await store.createExperiment(name: "dup", artifactLocation: nil, tags: [])
            }
            let other = try await store.createExperiment(name: "other", artifactLocation: nil, tags: [])
            await expectCairnError(.badRequest) { try await store.renameExperiment(id: other, newName: "dup") }
        }
    }

    @Test func badInputChangesNothing() async throws {
        try await StoreFixture.with { store in
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.createExperiment(name: "", artifactLocation: nil, tags: [])
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.createExperiment(name: "x", artifactLocation: nil, tags: [KeyValue(key: "bad key$", value: "v")])
            }
            let untouched = try await store.getExperiment(name: "x")
            #expect(untouched == nil)
            await expectCairnError(.resourceDoesNotExist) { _ = try await store.getExperiment(id: "999") }
            await expectCairnError(.invalidParameterValue) { _ = try await store.getExperiment(id: "../1") }
            await expectCairnError(.invalidParameterValue) { try await store.deleteExperiment(id: "0") }
        }
    }

    @Test func deleteCascadesToRunsAndRestoreBringsThemBack() async throws {
        try await StoreFixture.with { store in
            let id = try await store.createExperiment(name: "e", artifactLocation: nil, tags: [])
            let run = try await store.createRun(CreateRun(experimentID: id, userID: "u", runName: nil, startTime: 5, tags: []))
            try await store.deleteExperiment(id: id)
            #expect(try await store.getExperiment(id: id).lifecycleStage == .deleted)
            #expect(try await store.getRun(id: run.info.runID).info.lifecycleStage == .deleted)
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.createRun(CreateRun(experimentID: id, userID: "u", runName: nil, startTime: 5, tags: []))
            }
            await expectCairnError(.resourceDoesNotExist) { try await store.deleteExperiment(id: id) }
            try await store.restoreExperiment(id: id)
            #expect(try await store.getRun(id: run.info.runID).info.lifecycleStage == .active)
        }
    }
}
