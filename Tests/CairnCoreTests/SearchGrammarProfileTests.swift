import Testing

@testable import CairnCore

private typealias S = SearchTestSupport

@Suite("Search grammar profiles")
struct SearchGrammarProfileTests {
    // MARK: runs

    @Test(
        "run attributes and their canonical names",
        arguments: [
            ("run_id = 'a'", "run_id", FilterValue.string("a")),
            ("run_name = 'a'", "run_name", .string("a")),
            ("`run name` = 'a'", "run_name", .string("a")),
            ("attributes.`Run name` = 'a'", "run_name", .string("a")),
            ("attributes.`Run Name` = 'a'", "run_name", .string("a")),
            ("status = 'FINISHED'", "status", .string("FINISHED")),
            ("user_id = 'u'", "user_id", .string("u")),
            ("artifact_uri LIKE 'mlflow-artifacts:%'", "artifact_uri", .string("mlflow-artifacts:%")),
            ("start_time >= 1664067852747", "start_time", .number(1_664_067_852_747)),
            ("end_time < 5", "end_time", .number(5)),
            ("created > 7", "start_time", .number(7)),
            ("attributes.Created > 7", "start_time", .number(7)),
        ])
    func runAttributes(text: String, key: String, value: FilterValue) throws {
        let clause = try S.single(text)
        #expect(clause.entity == .attribute)
        #expect(clause.key == key)
        #expect(clause.value == value)
    }

    @Test("run_id takes IN / NOT IN and LIKE")
    func runIdComparators() throws {
        for comparator in ["=", "!=", "LIKE", "ILIKE"] {
            #expect(try S.single("attributes.run_id \(comparator) 'a'").entity == .attribute)
        }
        #expect(try S.single("attributes.run_id NOT IN ('a')").comparator == .notIn)
    }

    @Test("dataset keys take every string comparator", arguments: ["name", "digest", "context"])
    func datasets(key: String) throws {
        for comparator in ["=", "!=", "LIKE", "ILIKE"] {
            #expect(try S.single("datasets.\(key) \(comparator) 'a'").key == key)
        }
        #expect(try S.single("dataset.\(key) IN ('a', 'b')").value == .list(["a", "b"]))
        #expect(try S.single("dataset.\(key) NOT IN ('a')").comparator == .notIn)
    }

    // MARK: experiments

    @Test("experiment filters")
    func experiments() throws {
        #expect(
            try S.single("name = 'x'", .experiments)
                == FilterClause(entity: .attribute, key: "name", comparator: .equal, value: .string("x")))
        #expect(try S.single("attributes.name LIKE 'x%'", .experiments).comparator == .like)
        #expect(try S.single("attribute.name ILIKE 'x%'", .experiments).comparator == .ilike)
        #expect(try S.single("experiment_id IN ('1', '2')", .experiments).value == .list(["1", "2"]))
        #expect(try S.single("experiment_id = '1'", .experiments).value == .string("1"))
        #expect(try S.single("creation_time > 1655000000000", .experiments).value == .number(1_655_000_000_000))
        #expect(try S.single("last_update_time <= 1", .experiments).key == "last_update_time")
        #expect(try S.single("tags.group != 'x'", .experiments).entity == .tag)
        #expect(try S.single("tag.key1 IS NOT NULL", .experiments).comparator == .isNotNull)
        #expect(try S.single("tags.key2 IS NULL", .experiments).comparator == .isNull)
    }

    @Test(
        "experiment filter errors",
        arguments: [
            ("metrics.a > 1", SearchGrammarError.Reason.invalidEntity),
            ("params.a = 'x'", .invalidEntity),
            ("datasets.name = 'x'", .invalidEntity),
            ("run.name = 'x'", .invalidEntity),
            ("run_id = 'x'", .invalidKey),
            ("lifecycle_stage = 'active'", .invalidKey),
            ("name IN ('a')", .invalidValue),
            ("experiment_id LIKE '1%'", .invalidComparator),
            ("creation_time = 'x'", .invalidValue),
            ("name IS NULL", .invalidComparator),
            ("name > 'a'", .invalidComparator),
        ])
    func experimentErrors(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.filterError(text, .experiments)?.reason == reason)
    }

    @Test("experiment errors name the valid entity types")
    func experimentEntityMessage() throws {
        let error = try #require(S.filterError("metrics.a > 1", .experiments))
        #expect(error.message == "Invalid entity type 'metrics'. Valid values are ['attribute', 'tag', 'tags']")
        let nullError = try #require(S.filterError("name IS NULL", .experiments))
        #expect(nullError.message.hasPrefix("IS NULL / IS NOT NULL is only supported for tags"))
    }

    // MARK: registered models

    @Test("registered model filters")
    func registeredModels() throws {
        #expect(try S.single("name = 'm'", .registeredModels).value == .string("m"))
        #expect(try S.single("name ILIKE '%m%'", .registeredModels).comparator == .ilike)
        #expect(try S.single("name IN ('a', 'b')", .registeredModels).value == .list(["a", "b"]))
        #expect(try S.single("tags.team LIKE 'a%'", .registeredModels).entity == .tag)
    }

    @Test(
        "registered model filter errors",
        arguments: [
            ("tags.team IS NULL", SearchGrammarError.Reason.invalidComparator),
            ("run_id = 'x'", .invalidKey),
            ("creation_timestamp > 1", .invalidKey),
            ("metrics.a > 1", .invalidEntity),
            ("tags.team IN ('a')", .invalidValue),
        ])
    func registeredModelErrors(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.filterError(text, .registeredModels)?.reason == reason)
    }

    // MARK: model versions

    @Test("model version filters")
    func modelVersions() throws {
        #expect(try S.single("name = 'm'", .modelVersions).key == "name")
        #expect(try S.single("run_id IN ('a', 'b')", .modelVersions).value == .list(["a", "b"]))
        #expect(try S.single("run_id = 'a'", .modelVersions).comparator == .equal)
        #expect(try S.single("source_path LIKE 'models:/%'", .modelVersions).comparator == .like)
        #expect(try S.single("version_number = 3", .modelVersions).value == .number(3))
        #expect(try S.single("version_number >= '3'", .modelVersions).value == .number(3))
        #expect(try S.single("tags.`k` != 'v'", .modelVersions).entity == .tag)
    }

    @Test(
        "model version filter errors",
        arguments: [
            ("run_id NOT IN ('a')", SearchGrammarError.Reason.invalidComparator),
            ("name IN ('a')", .invalidValue),
            ("version_number = 'three'", .invalidValue),
            ("version_number = '3 '", .invalidValue),
            ("version_number LIKE 3", .invalidComparator),
            ("tags.k IS NOT NULL", .invalidComparator),
            ("current_stage = 'Production'", .invalidKey),
            ("params.a = 'x'", .invalidEntity),
        ])
    func modelVersionErrors(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.filterError(text, .modelVersions)?.reason == reason)
    }

    // MARK: logged models

    @Test(
        "logged model attributes and aliases",
        arguments: [
            ("name = 'm'", "name", FilterValue.string("m")),
            ("model_id = 'm-1'", "model_id", .string("m-1")),
            ("model_type = 'agent'", "model_type", .string("agent")),
            ("status = 'LOGGED_MODEL_READY'", "status", .string("LOGGED_MODEL_READY")),
            ("source_run_id IN ('r1', 'r2')", "source_run_id", .list(["r1", "r2"])),
            ("creation_timestamp > 5", "creation_timestamp", .number(5)),
            ("creation_time > 5", "creation_timestamp", .number(5)),
            ("last_updated_timestamp < 5", "last_updated_timestamp", .number(5)),
            ("last_updated_time < 5", "last_updated_timestamp", .number(5)),
        ])
    func loggedModelAttributes(text: String, key: String, value: FilterValue) throws {
        let clause = try S.single(text, .loggedModels)
        #expect(clause.entity == .attribute)
        #expect(clause.key == key)
        #expect(clause.value == value)
    }

    @Test("logged model metrics, params and tags")
    func loggedModelEntities() throws {
        let filter = try SearchFilter.parse(
            "metrics.accuracy > 0.9 AND params.model_type = 'RandomForest' AND tags.env IN ('prod') AND params.C NOT IN ('1')",
            for: .loggedModels)
        #expect(filter.clauses.map(\.entity) == [.metric, .param, .tag, .param])
        #expect(filter.clauses[2].value == .list(["prod"]))
    }

    @Test(
        "logged model filter errors",
        arguments: [
            ("datasets.name = 'x'", SearchGrammarError.Reason.invalidEntity),
            ("run.name = 'x'", .invalidEntity),
            ("metrics.a LIKE 1", .invalidComparator),
            ("creation_time = 'x'", .invalidValue),
            ("experiment_id = '1'", .invalidKey),
            ("tags.a IS NULL", .invalidComparator),
            ("name < 'x'", .invalidComparator),
        ])
    func loggedModelErrors(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.filterError(text, .loggedModels)?.reason == reason)
    }

    // MARK: invariants

    @Test("every profile's aliases resolve to keys the profile knows")
    func aliasesResolve() {
        for kind in SearchKind.allCases {
            let grammar = SearchGrammar.forKind(kind)
            #expect(grammar.kind == kind)
            for (_, keys) in grammar.filterKeys {
                if case .fixed(let map) = keys {
                    for entry in map.values {
                        #expect(map[entry.canonical]?.rule == entry.rule, "\(kind): \(entry.canonical)")
                    }
                }
            }
            for (_, keys) in grammar.orderKeys {
                if case .fixed(let map) = keys {
                    for canonical in map.values {
                        #expect(map[canonical] == canonical, "\(kind): order key \(canonical)")
                    }
                }
            }
            for entity in Set(grammar.prefixes.values) {
                #expect(grammar.filterKeys[entity] != nil, "\(kind): prefix for \(entity) without filter keys")
            }
            #expect(grammar.filterKeys[.attribute] != nil)
        }
    }
}
