import CairnCore
import Synchronization
import Testing

@testable import CairnStore

/// The tracking, registry and logged-model stores over one migrated SQLite database, with a
/// clock that advances one millisecond per reading so "last updated" orders are deterministic.
struct RegistryFixture {
    let tracking: SQLTrackingStore
    let registry: SQLRegistryStore
    let logged: SQLLoggedModelStore

    static func with(_ body: (RegistryFixture) async throws -> Void) async throws {
        let clock = Atomic<Int64>(1_000)
        let now: @Sendable () -> Int64 = { clock.wrappingAdd(1, ordering: .relaxed).newValue }
        let fixture = try await StoreFixture.make(now: now)
        let stores = RegistryFixture(
            tracking: fixture.store,
            registry: SQLRegistryStore(database: fixture.database, now: now),
            logged: SQLLoggedModelStore(database: fixture.database, now: now)
        )
        do {
            try await body(stores)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }
}

@Suite struct RegisteredModelStoreTests {
    @Test func createGetAndDuplicate() async throws {
        try await RegistryFixture.with { stores in
            let created = try await stores.registry.createRegisteredModel(
                name: "iris", tags: [KeyValue(key: "team", value: "a"), KeyValue(key: "team", value: "b")], description: "first"
            )
            #expect(created.name == "iris")
            #expect(created.tags == [KeyValue(key: "team", value: "b")])
            let fetched = try await stores.registry.getRegisteredModel(name: "iris")
            #expect(fetched.description == "first")
            #expect(fetched.creationTimestamp == created.creationTimestamp)
            #expect(fetched.latestVersions.isEmpty)
            await expectCairnError(.resourceAlreadyExists) {
                _ = try await stores.registry.createRegisteredModel(name: "iris", tags: [], description: nil)
            }
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getRegisteredModel(name: "nope") }
        }
    }

    @Test func namesAndTagsAreValidated() async throws {
        try await RegistryFixture.with { stores in
            for bad in ["", "  ", "a/b", "a:b", "..", "./x", "a\u{0}b"] {
                await expectCairnError(.invalidParameterValue) {
                    _ = try await stores.registry.createRegisteredModel(name: bad, tags: [], description: nil)
                }
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.registry.createRegisteredModel(
                    name: "m", tags: [KeyValue(key: "bad key!", value: "v")], description: nil)
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.registry.createRegisteredModel(
                    name: "m", tags: [KeyValue(key: "k", value: String(repeating: "x", count: 100_001))], description: nil)
            }
            // Nothing was created by the refused requests.
            #expect(try await stores.registry.searchRegisteredModels(RegisteredModelSearch()).items.isEmpty)
            _ = try await stores.registry.createRegisteredModel(
                name: "m", tags: [KeyValue(key: "k", value: String(repeating: "x", count: 100_000))], description: nil)
        }
    }

    @Test func renameMovesVersionsAliasesAndTags() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "old", tags: [KeyValue(key: "k", value: "v")], description: nil)
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "old", source: "s3://bucket/m", tags: [KeyValue(key: "vt", value: "1")]))
            try await stores.registry.setRegisteredModelAlias(name: "old", alias: "champion", version: "1")
            _ = try await stores.registry.createRegisteredModel(name: "taken", tags: [], description: nil)
            await expectCairnError(.resourceAlreadyExists) {
                _ = try await stores.registry.renameRegisteredModel(name: "old", newName: "taken")
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.renameRegisteredModel(name: "missing", newName: "x")
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.registry.renameRegisteredModel(name: "old", newName: "a/b")
            }

            let renamed = try await stores.registry.renameRegisteredModel(name: "old", newName: "new")
            #expect(renamed.name == "new")
            #expect(renamed.tags == [KeyValue(key: "k", value: "v")])
            #expect(renamed.aliases == [RegisteredModelAlias(alias: "champion", version: "1")])
            #expect(renamed.latestVersions.map(\.name) == ["new"])
            let version = try await stores.registry.getModelVersion(name: "new", version: "1")
            #expect(version.tags == [KeyValue(key: "vt", value: "1")])
            #expect(version.aliases == ["champion"])
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getRegisteredModel(name: "old") }
            // The old name is free again.
            _ = try await stores.registry.createRegisteredModel(name: "old", tags: [], description: nil)
        }
    }

    @Test func updateAndDeleteIsHardAndFreesTheName() async throws {
        try await RegistryFixture.with { stores in
            let created = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: "d1")
            let updated = try await stores.registry.updateRegisteredModel(name: "m", description: "d2")
            #expect(updated.description == "d2")
            #expect(updated.lastUpdatedTimestamp > created.lastUpdatedTimestamp)
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/1"))
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/2"))
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "prod", version: "2")
            try await stores.registry.setModelVersionTag(name: "m", version: "1", tag: KeyValue(key: "a", value: "b"))

            try await stores.registry.deleteRegisteredModel(name: "m")
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getRegisteredModel(name: "m") }
            await expectCairnError(.resourceDoesNotExist) { try await stores.registry.deleteRegisteredModel(name: "m") }
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
            // Version numbers restart for the new model of that name.
            let first = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/3"))
            #expect(first.version == "1")
            #expect(first.tags.isEmpty && first.aliases.isEmpty)
        }
    }

    @Test func tagsUpsertAndDeleteIsLenient() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
            try await stores.registry.setRegisteredModelTag(name: "m", tag: KeyValue(key: "k", value: "1"))
            try await stores.registry.setRegisteredModelTag(name: "m", tag: KeyValue(key: "k", value: "2"))
            #expect(try await stores.registry.getRegisteredModel(name: "m").tags == [KeyValue(key: "k", value: "2")])
            try await stores.registry.deleteRegisteredModelTag(name: "m", key: "k")
            try await stores.registry.deleteRegisteredModelTag(name: "m", key: "k")
            #expect(try await stores.registry.getRegisteredModel(name: "m").tags.isEmpty)
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.registry.setRegisteredModelTag(name: "x", tag: KeyValue(key: "k", value: "v"))
            }
            await expectCairnError(.resourceDoesNotExist) { try await stores.registry.deleteRegisteredModelTag(name: "x", key: "k") }
        }
    }

    @Test func aliasesMoveAndFollowTheirRules() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
            for index in 1...3 {
                _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/\(index)"))
            }
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2")
            #expect(try await stores.registry.getModelVersion(name: "m", alias: "champion").version == "2")
            #expect(try await stores.registry.getModelVersion(name: "m", version: "1").aliases.isEmpty)
            #expect(try await stores.registry.getModelVersion(name: "m", alias: "LATEST").version == "3")

            for reserved in ["latest", "Latest", "v1", "V22"] {
                await expectCairnError(.invalidParameterValue) {
                    try await stores.registry.setRegisteredModelAlias(name: "m", alias: reserved, version: "1")
                }
            }
            for bad in ["", "has space", "a.b", String(repeating: "a", count: 256)] {
                await expectCairnError(.invalidParameterValue) {
                    try await stores.registry.setRegisteredModelAlias(name: "m", alias: bad, version: "1")
                }
            }
            await expectCairnError(.invalidParameterValue) {
                try await stores.registry.setRegisteredModelAlias(name: "m", alias: "a", version: "one")
            }
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.registry.setRegisteredModelAlias(name: "m", alias: "a", version: "9")
            }
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.registry.setRegisteredModelAlias(name: "x", alias: "a", version: "1")
            }
            // An unknown alias is a 400 (MLflow's answer), an unknown model a 404.
            await expectCairnError(.invalidParameterValue) { _ = try await stores.registry.getModelVersion(name: "m", alias: "nope") }
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getModelVersion(name: "x", alias: "nope") }

            try await stores.registry.deleteRegisteredModelAlias(name: "m", alias: "champion")
            try await stores.registry.deleteRegisteredModelAlias(name: "m", alias: "champion")
            await expectCairnError(.invalidParameterValue) { _ = try await stores.registry.getModelVersion(name: "m", alias: "champion") }
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.registry.deleteRegisteredModelAlias(name: "x", alias: "champion")
            }
        }
    }
}

@Suite struct ModelVersionStoreTests {
    @Test func versionsNumberPerModelAndSurviveDeletion() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "a", tags: [], description: nil)
            _ = try await stores.registry.createRegisteredModel(name: "b", tags: [], description: nil)
            let a1 = try await stores.registry.createModelVersion(
                CreateModelVersion(
                    name: "a", source: "s3://x/1", tags: [KeyValue(key: "t", value: "v")], runLink: "link", description: "desc"))
            #expect(a1.version == "1" && a1.status == .ready && a1.currentStage == .none)
            #expect(a1.description == "desc" && a1.runLink == "link" && a1.tags == [KeyValue(key: "t", value: "v")])
            #expect(try await stores.registry.createModelVersion(CreateModelVersion(name: "a", source: "s3://x/2")).version == "2")
            #expect(try await stores.registry.createModelVersion(CreateModelVersion(name: "b", source: "s3://x/3")).version == "1")
            try await stores.registry.setRegisteredModelAlias(name: "a", alias: "top", version: "2")
            try await stores.registry.deleteModelVersion(name: "a", version: "2")
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getModelVersion(name: "a", version: "2") }
            await expectCairnError(.resourceDoesNotExist) { try await stores.registry.deleteModelVersion(name: "a", version: "2") }
            #expect(try await stores.registry.getRegisteredModel(name: "a").aliases.isEmpty)
            // A deleted number is never reused.
            #expect(try await stores.registry.createModelVersion(CreateModelVersion(name: "a", source: "s3://x/4")).version == "3")
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "zz", source: "s3://x/1"))
            }
            await expectCairnError(.invalidParameterValue) { _ = try await stores.registry.getModelVersion(name: "a", version: "1.0") }
        }
    }

    @Test func updateTransitionAndLatestVersions() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
            for index in 1...4 {
                _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://x/\(index)"))
            }
            let updated = try await stores.registry.updateModelVersion(name: "m", version: "1", description: "hello")
            #expect(updated.description == "hello")
            #expect(try await stores.registry.updateModelVersion(name: "m", version: "1", description: nil).description == nil)

            #expect(
                try await stores.registry.transitionModelVersionStage(
                    name: "m", version: "1", stage: "production", archiveExistingVersions: false
                ).currentStage == .production)
            _ = try await stores.registry.transitionModelVersionStage(
                name: "m", version: "2", stage: "STAGING", archiveExistingVersions: false)
            _ = try await stores.registry.transitionModelVersionStage(
                name: "m", version: "3", stage: "Production", archiveExistingVersions: true)
            #expect(try await stores.registry.getModelVersion(name: "m", version: "1").currentStage == .archived)
            #expect(try await stores.registry.getModelVersion(name: "m", version: "2").currentStage == .staging)
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.registry.transitionModelVersionStage(
                    name: "m", version: "4", stage: "Prod", archiveExistingVersions: false)
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.registry.transitionModelVersionStage(
                    name: "m", version: "4", stage: "Archived", archiveExistingVersions: true)
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.transitionModelVersionStage(
                    name: "m", version: "9", stage: "Staging", archiveExistingVersions: true)
            }
            // The refused transition archived nothing.
            #expect(try await stores.registry.getModelVersion(name: "m", version: "2").currentStage == .staging)

            let all = try await stores.registry.getLatestVersions(name: "m", stages: [])
            #expect(Set(all.map { "\($0.currentStage.rawValue)=\($0.version)" }) == ["Archived=1", "Staging=2", "Production=3", "None=4"])
            #expect(
                try await stores.registry.getLatestVersions(name: "m", stages: ["production", "Staging"]).map(\.version).sorted() == [
                    "2", "3",
                ])
            #expect(try await stores.registry.getRegisteredModel(name: "m").latestVersions.count == 4)
            await expectCairnError(.invalidParameterValue) { _ = try await stores.registry.getLatestVersions(name: "m", stages: ["bogus"]) }
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.registry.getLatestVersions(name: "x", stages: []) }
        }
    }

    @Test func sourcesAreResolvedAndChecked() async throws {
        try await RegistryFixture.with { stores in
            let experiment = try await stores.tracking.createExperiment(name: "e", artifactLocation: nil, tags: [])
            let run = try await stores.tracking.createRun(
                CreateRun(experimentID: experiment, userID: "u", runName: "r", startTime: 1, tags: []))
            let runID = run.info.runID
            let model = try await stores.logged.createLoggedModel(
                CreateLoggedModel(experimentID: experiment, name: "clf", sourceRunID: runID))
            let modelID = model.info.modelID
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)

            // models:/<model_id> resolves to the logged model's artifacts and lends its run.
            let fromModel = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "m", source: "models:/\(modelID)", modelID: modelID))
            #expect(fromModel.runID == runID)
            #expect(fromModel.modelID == modelID)
            #expect(fromModel.source == "models:/\(modelID)")
            #expect(
                try await stores.registry.getModelVersionDownloadUri(name: "m", version: "1")
                    == "mlflow-artifacts:/\(experiment)/models/\(modelID)/artifacts")
            let tagged = try await stores.logged.getLoggedModel(id: modelID, allowDeleted: false)
            #expect(tagged.info.tags.first { $0.key == "mlflow.modelVersions" }?.value == #"[{"name": "m", "version": 1}]"#)

            // models:/<name>/<version|alias|stage|latest> resolves to that version's location.
            try await stores.registry.setRegisteredModelAlias(name: "m", alias: "champ", version: "1")
            for (source, resolved) in [
                ("models:/m/1", "models:/m/1"), ("models:/m@champ", "models:/m/1"), ("models:/m/latest", "models:/m/3"),
                ("models:/m/None", "models:/m/4"),
            ] {
                let version = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: source))
                #expect(version.source == resolved, "\(source)")
                #expect(version.runID == runID)
                #expect(
                    try await stores.registry.getModelVersionDownloadUri(name: "m", version: version.version)
                        == "mlflow-artifacts:/\(experiment)/models/\(modelID)/artifacts")
            }
            #expect(
                try await stores.logged.getLoggedModel(id: modelID, allowDeleted: false).info.tags.first {
                    $0.key == "mlflow.modelVersions"
                }?.value
                    == #"[{"name": "m", "version": 1}, {"name": "m", "version": 2}, {"name": "m", "version": 3}, {"name": "m", "version": 4}, {"name": "m", "version": 5}]"#
            )

            // Other sources are their own location, after MLflow's checks.
            let fromRun = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "m", source: "runs:/\(runID)/model", runID: runID))
            #expect(try await stores.registry.getModelVersionDownloadUri(name: "m", version: fromRun.version) == "runs:/\(runID)/model")
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "m", source: "\(run.info.artifactUri)/model", runID: runID))
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "m", source: "\(model.info.artifactUri)/MLmodel", modelID: modelID))
            let refused: [CreateModelVersion] = [
                CreateModelVersion(name: "m", source: "/etc/passwd"),
                CreateModelVersion(name: "m", source: "file:///tmp/model"),
                CreateModelVersion(name: "m", source: "runs:/\(runID)/model"),
                CreateModelVersion(name: "m", source: "runs:/\(runID)/model", runID: "other"),
                CreateModelVersion(name: "m", source: "models:/\(modelID)"),
                CreateModelVersion(name: "m", source: "models:/\(modelID)", modelID: "m-other"),
                CreateModelVersion(name: "m", source: "s3://bucket/../secret"),
                CreateModelVersion(name: "m", source: "s3://bucket/%2E%2E/secret"),
                CreateModelVersion(name: "m", source: "http://169.254.169.254/latest"),
                CreateModelVersion(name: "m", source: "mlflow-artifacts:/\(experiment)/other/artifacts", runID: runID),
                CreateModelVersion(name: "m", source: "mlflow-artifacts:/0/x", modelID: modelID),
                CreateModelVersion(name: "m", source: "models:/m/1", runID: "different"),
                CreateModelVersion(name: "m", source: "models://host/m/1"),
            ]
            for request in refused {
                await expectCairnError(.invalidParameterValue) { _ = try await stores.registry.createModelVersion(request) }
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "models:/nope/1"))
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/m", modelID: "m-unknown"))
            }
            // None of the refused requests used up a version number.
            #expect(try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://b/m")).version == "9")
        }
    }

    @Test func modelVersionTags() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "m", tags: [], description: nil)
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "m", source: "s3://x/1"))
            try await stores.registry.setModelVersionTag(name: "m", version: "1", tag: KeyValue(key: "k", value: "1"))
            try await stores.registry.setModelVersionTag(name: "m", version: "1", tag: KeyValue(key: "k", value: "2"))
            #expect(try await stores.registry.getModelVersion(name: "m", version: "1").tags == [KeyValue(key: "k", value: "2")])
            try await stores.registry.deleteModelVersionTag(name: "m", version: "1", key: "k")
            try await stores.registry.deleteModelVersionTag(name: "m", version: "1", key: "k")
            #expect(try await stores.registry.getModelVersion(name: "m", version: "1").tags.isEmpty)
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.registry.setModelVersionTag(name: "m", version: "2", tag: KeyValue(key: "k", value: "v"))
            }
            await expectCairnError(.invalidParameterValue) {
                try await stores.registry.setModelVersionTag(name: "m", version: "x", tag: KeyValue(key: "k", value: "v"))
            }
        }
    }
}

@Suite struct RegistrySearchStoreTests {
    @Test func registeredModelsFilterOrderPageAndExcludePrompts() async throws {
        try await RegistryFixture.with { stores in
            for name in ["alpha", "beta", "gamma", "Delta"] {
                _ = try await stores.registry.createRegisteredModel(
                    name: name, tags: [KeyValue(key: "team", value: name.count == 5 ? "five" : "other")], description: nil)
            }
            _ = try await stores.registry.createRegisteredModel(
                name: "prompt", tags: [KeyValue(key: "mlflow.prompt.is_prompt", value: "true")], description: nil)
            _ = try await stores.registry.createRegisteredModel(
                name: "not-prompt", tags: [KeyValue(key: "mlflow.prompt.is_prompt", value: "false")], description: nil)

            func search(_ filter: String, _ order: [String] = [], max: Int = 100, token: String? = nil) async throws -> Page<
                RegisteredModel
            > {
                try await stores.registry.searchRegisteredModels(
                    RegisteredModelSearch(
                        filter: try SearchFilter.parse(filter, for: .registeredModels),
                        orderBy: try OrderByClause.parseList(order, for: .registeredModels), maxResults: max, pageToken: token
                    ))
            }
            func names(_ page: Page<RegisteredModel>) -> [String] { page.items.map(\.name) }
            let clientClause = "tag.`mlflow.prompt.is_prompt` != 'true'"

            #expect(names(try await search(clientClause)) == ["Delta", "alpha", "beta", "gamma", "not-prompt"])
            #expect(names(try await search("")) == ["Delta", "alpha", "beta", "gamma", "not-prompt"])
            #expect(names(try await search("name LIKE '%a' AND \(clientClause)")) == ["Delta", "alpha", "beta", "gamma"])
            #expect(names(try await search("name ILIKE 'd%'")) == ["Delta"])
            #expect(names(try await search("name LIKE 'd%'")).isEmpty)
            #expect(names(try await search("tags.team = 'five' AND \(clientClause)")) == ["Delta", "alpha", "gamma"])
            #expect(names(try await search("tags.team != 'five'")) == ["beta"])
            #expect(names(try await search("name IN ('beta', 'gamma')")) == ["beta", "gamma"])
            #expect(names(try await search("tags.`mlflow.prompt.is_prompt` = 'true'")) == ["prompt"])
            #expect(names(try await search("", ["name DESC"])) == ["not-prompt", "gamma", "beta", "alpha", "Delta"])
            #expect(names(try await search("", ["timestamp DESC"])) == ["not-prompt", "Delta", "gamma", "beta", "alpha"])

            let first = try await search(clientClause, max: 2)
            #expect(names(first) == ["Delta", "alpha"])
            let second = try await search(clientClause, max: 2, token: first.nextPageToken)
            #expect(names(second) == ["beta", "gamma"])
            let third = try await search(clientClause, max: 2, token: second.nextPageToken)
            #expect(names(third) == ["not-prompt"])
            #expect(third.nextPageToken == nil)
        }
    }

    @Test func modelVersionsFilterOrderAndPage() async throws {
        try await RegistryFixture.with { stores in
            _ = try await stores.registry.createRegisteredModel(name: "a", tags: [], description: nil)
            _ = try await stores.registry.createRegisteredModel(name: "b", tags: [], description: nil)
            _ = try await stores.registry.createRegisteredModel(name: "p", tags: [], description: nil)
            for index in 1...3 {
                _ = try await stores.registry.createModelVersion(
                    CreateModelVersion(name: "a", source: "s3://x/a\(index)", tags: [KeyValue(key: "n", value: "\(index)")]))
            }
            _ = try await stores.registry.createModelVersion(CreateModelVersion(name: "b", source: "s3://x/b1"))
            _ = try await stores.registry.createModelVersion(
                CreateModelVersion(name: "p", source: "s3://x/p1", tags: [KeyValue(key: "mlflow.prompt.is_prompt", value: "true")]))
            try await stores.registry.deleteModelVersion(name: "a", version: "2")

            func search(_ filter: String, _ order: [String] = [], max: Int = 100, token: String? = nil) async throws -> Page<ModelVersion> {
                try await stores.registry.searchModelVersions(
                    ModelVersionSearch(
                        filter: try SearchFilter.parse(filter, for: .modelVersions),
                        orderBy: try OrderByClause.parseList(order, for: .modelVersions), maxResults: max, pageToken: token
                    ))
            }
            func ids(_ page: Page<ModelVersion>) -> [String] { page.items.map { "\($0.name)\($0.version)" } }

            #expect(ids(try await search("")) == ["b1", "a3", "a1"])
            #expect(ids(try await search("name = 'a'", ["version_number ASC"])) == ["a1", "a3"])
            #expect(ids(try await search("name = 'a' AND version_number > 1")) == ["a3"])
            #expect(ids(try await search("version_number = '3'")) == ["a3"])
            #expect(ids(try await search("source_path LIKE 's3://x/a%'", ["creation_timestamp ASC"])) == ["a1", "a3"])
            #expect(ids(try await search("tags.n = '3'")) == ["a3"])
            #expect(ids(try await search("", ["name ASC"])) == ["a3", "a1", "b1"])
            #expect(ids(try await search("tags.`mlflow.prompt.is_prompt` = 'true'")) == ["p1"])
            let first = try await search("", ["name ASC", "version_number ASC"], max: 2)
            #expect(ids(first) == ["a1", "a3"])
            #expect(ids(try await search("", ["name ASC", "version_number ASC"], max: 2, token: first.nextPageToken)) == ["b1"])
            await expectCairnError(.invalidParameterValue) { _ = try await search("version_number = 1.5") }
        }
    }
}
