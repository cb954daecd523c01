import Testing

@testable import CairnCore

private typealias S = SearchTestSupport

@Suite("Search order_by")
struct SearchOrderByTests {
    @Test(
        "direction defaults to ascending; ASC/DESC in any case",
        arguments: [
            ("metrics.acc", true), ("metrics.acc ASC", true), ("metrics.acc asc", true), ("metrics.acc DESC", false),
            ("metrics.acc desc", false), ("metrics.acc Desc", false), ("  metrics.acc\tDESC  ", false),
        ])
    func direction(text: String, ascending: Bool) throws {
        #expect(try OrderByClause.parse(text, for: .runs) == OrderByClause(entity: .metric, key: "acc", ascending: ascending))
    }

    @Test(
        "run order keys",
        arguments: [
            ("metric.acc", SearchEntity.metric, "acc"),
            ("params.lr", .param, "lr"),
            ("parameter.lr", .param, "lr"),
            ("tags.`mlflow.runName`", .tag, "mlflow.runName"),
            ("tag.mlflow.runName", .tag, "mlflow.runName"),
            ("metrics.`f1 score` DESC", .metric, "f1 score"),
            ("metrics.\"f1 score\"", .metric, "f1 score"),
            ("start_time", .attribute, "start_time"),
            ("attributes.start_time", .attribute, "start_time"),
            ("attr.end_time", .attribute, "end_time"),
            ("run.run_id", .attribute, "run_id"),
            ("run_name", .attribute, "run_name"),
            ("status", .attribute, "status"),
            ("user_id", .attribute, "user_id"),
            ("artifact_uri", .attribute, "artifact_uri"),
            ("created", .attribute, "start_time"),
            ("Created DESC", .attribute, "start_time"),
        ])
    func runKeys(text: String, entity: SearchEntity, key: String) throws {
        let clause = try OrderByClause.parse(text, for: .runs)
        #expect(clause.entity == entity)
        #expect(clause.key == key)
    }

    @Test(
        "run order_by errors",
        arguments: [
            ("foo.bar", SearchGrammarError.Reason.invalidEntity),
            ("datasets.name", .invalidEntity),
            ("lifecycle_stage", .invalidKey),
            ("`run name`", .invalidKey),
            ("run name", .syntax),
            ("metrics.acc sideways", .syntax),
            ("metrics.acc DESC ASC", .syntax),
            ("metrics.acc DESC, params.b", .syntax),
            ("", .syntax),
            ("   ", .syntax),
            ("DESC", .syntax),
            ("'metrics.acc'", .syntax),
            ("metrics.acc > 1", .syntax),
            ("metrics.", .syntax),
            ("metrics.'x'", .syntax),
        ])
    func runErrors(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.orderError(text)?.reason == reason)
    }

    @Test("unknown entity prefix uses MLflow's wording")
    func unknownEntityMessage() throws {
        let error = try #require(S.orderError("foo.bar DESC"))
        #expect(error.message.hasPrefix("Invalid entity type 'foo'"))
        #expect(S.orderError("metrics.acc sideways")?.message.hasPrefix("Invalid ordering key in order_by clause") == true)
    }

    @Test("experiment order keys")
    func experiments() throws {
        for key in ["name", "experiment_id", "creation_time", "last_update_time"] {
            #expect(
                try OrderByClause.parse("\(key) DESC", for: .experiments) == OrderByClause(entity: .attribute, key: key, ascending: false))
            #expect(try OrderByClause.parse("attribute.\(key)", for: .experiments).key == key)
        }
        #expect(S.orderError("tags.x", .experiments)?.reason == .invalidEntity)
        #expect(S.orderError("metrics.x", .experiments)?.reason == .invalidEntity)
        #expect(S.orderError("start_time", .experiments)?.reason == .invalidKey)
    }

    @Test(
        "registered model order keys",
        arguments: [
            ("name", "name"), ("timestamp", "last_updated_timestamp"), ("timestamp DESC", "last_updated_timestamp"),
            ("last_updated_timestamp", "last_updated_timestamp"), ("creation_timestamp", "creation_timestamp"),
        ])
    func registeredModels(text: String, key: String) throws {
        #expect(try OrderByClause.parse(text, for: .registeredModels).key == key)
    }

    @Test("registered model order errors")
    func registeredModelErrors() {
        #expect(S.orderError("tags.a", .registeredModels)?.reason == .invalidEntity)
        #expect(S.orderError("version_number", .registeredModels)?.reason == .invalidKey)
    }

    @Test("model version order keys", arguments: ["name", "version_number", "creation_timestamp", "last_updated_timestamp"])
    func modelVersions(key: String) throws {
        #expect(
            try OrderByClause.parse("\(key) DESC", for: .modelVersions) == OrderByClause(entity: .attribute, key: key, ascending: false))
    }

    @Test("model version order errors")
    func modelVersionErrors() {
        #expect(S.orderError("timestamp", .modelVersions)?.reason == .invalidKey)
        #expect(S.orderError("run_id", .modelVersions)?.reason == .invalidKey)
        #expect(S.orderError("tags.a", .modelVersions)?.reason == .invalidEntity)
    }

    @Test("lists keep their order")
    func list() throws {
        let clauses = try OrderByClause.parseList(["metrics.acc DESC", "start_time", "tags.t ASC"], for: .runs)
        #expect(
            clauses == [
                OrderByClause(entity: .metric, key: "acc", ascending: false),
                OrderByClause(entity: .attribute, key: "start_time", ascending: true),
                OrderByClause(entity: .tag, key: "t", ascending: true),
            ])
        #expect(try OrderByClause.parseList([], for: .runs).isEmpty)
    }

    @Test(
        "duplicate order keys are refused, after aliases are resolved",
        arguments: [
            (["start_time", "created DESC"], SearchKind.runs),
            (["metrics.a", "metric.a DESC"], .runs),
            (["tags.`x`", "tag.x"], .runs),
            (["name", "name DESC"], .experiments),
            (["timestamp", "last_updated_timestamp"], .registeredModels),
            (["version_number", "attribute.version_number"], .modelVersions),
        ])
    func duplicates(texts: [String], kind: SearchKind) throws {
        #expect(throws: SearchGrammarError.self) { try OrderByClause.parseList(texts, for: kind) }
        do {
            _ = try OrderByClause.parseList(texts, for: kind)
        } catch {
            #expect(error.reason == .duplicateOrderKey)
            #expect(error.message.hasPrefix("`order_by` contains duplicate fields"))
        }
    }

    @Test("the same key under different entities is not a duplicate")
    func notDuplicates() throws {
        #expect(try OrderByClause.parseList(["metrics.a", "params.a", "tags.a", "attributes.status"], for: .runs).count == 4)
    }

    @Test("too many order_by entries")
    func tooMany() {
        let texts = (0...SearchLimits.maxOrderByClauses).map { "metrics.m\($0)" }
        #expect(throws: SearchGrammarError.self) { try OrderByClause.parseList(texts, for: .runs) }
    }

    @Test(
        "logged-model order_by objects",
        arguments: [
            ("creation_time", true, OrderByClause(entity: .attribute, key: "creation_timestamp", ascending: true)),
            ("creation_timestamp", false, OrderByClause(entity: .attribute, key: "creation_timestamp", ascending: false)),
            (" last_updated_time ", true, OrderByClause(entity: .attribute, key: "last_updated_timestamp", ascending: true)),
            ("name", true, OrderByClause(entity: .attribute, key: "name", ascending: true)),
            ("metrics.accuracy", false, OrderByClause(entity: .metric, key: "accuracy", ascending: false)),
            ("metrics.f1 score", true, OrderByClause(entity: .metric, key: "f1 score", ascending: true)),
            ("metrics.a.b", true, OrderByClause(entity: .metric, key: "a.b", ascending: true)),
        ])
    func loggedModelFields(field: String, ascending: Bool, expected: OrderByClause) throws {
        #expect(try OrderByClause.loggedModelField(field, ascending: ascending) == expected)
    }

    @Test(
        "logged-model order_by field errors",
        arguments: [
            ("params.lr", SearchGrammarError.Reason.invalidEntity),
            ("metric.acc", .invalidEntity),
            ("metrics.", .invalidKey),
            ("experiment_id", .invalidKey),
            ("", .invalidKey),
            ("na\u{0}me", .syntax),
        ])
    func loggedModelFieldErrors(field: String, reason: SearchGrammarError.Reason) {
        do {
            _ = try OrderByClause.loggedModelField(field)
            Issue.record("\(field) was accepted")
        } catch {
            #expect(error.reason == reason)
        }
    }

    @Test("logged models accept string order_by too")
    func loggedModelStrings() throws {
        #expect(
            try OrderByClause.parse("metrics.acc DESC", for: .loggedModels) == OrderByClause(entity: .metric, key: "acc", ascending: false))
        #expect(try OrderByClause.parse("creation_time", for: .loggedModels).key == "creation_timestamp")
        #expect(S.orderError("params.a", .loggedModels)?.reason == .invalidEntity)
    }
}
