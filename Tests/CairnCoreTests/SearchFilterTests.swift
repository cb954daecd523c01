import Testing

@testable import CairnCore

/// Helpers shared by the Search*Tests files.
enum SearchTestSupport {
    /// The error `SearchFilter.parse` throws, or nil when it succeeds.
    static func filterError(_ text: String, _ kind: SearchKind = .runs) -> SearchGrammarError? {
        do {
            _ = try SearchFilter.parse(text, for: kind)
            return nil
        } catch {
            return error
        }
    }

    static func orderError(_ text: String, _ kind: SearchKind = .runs) -> SearchGrammarError? {
        do {
            _ = try OrderByClause.parse(text, for: kind)
            return nil
        } catch {
            return error
        }
    }

    /// Parses a filter that must hold exactly one clause.
    static func single(_ text: String, _ kind: SearchKind = .runs) throws -> FilterClause {
        let filter = try SearchFilter.parse(text, for: kind)
        guard filter.clauses.count == 1, let clause = filter.clauses.first else {
            throw SearchGrammarError(.syntax, "expected exactly one clause in \(text), got \(filter.clauses.count)")
        }
        return clause
    }
}

private typealias S = SearchTestSupport

@Suite("Search filter syntax")
struct SearchFilterTests {
    @Test("empty and whitespace filters have no clauses", arguments: ["", " ", "\t\n  \r", " AND ", "and AND and"])
    func emptyFilter(text: String) throws {
        for kind in SearchKind.allCases {
            #expect(try SearchFilter.parse(text, for: kind).clauses.isEmpty)
        }
    }

    @Test(
        "entity prefixes and their aliases",
        arguments: [
            ("metric.acc > 1", SearchEntity.metric),
            ("metrics.acc > 1", .metric),
            ("param.acc = 'x'", .param),
            ("params.acc = 'x'", .param),
            ("parameter.acc = 'x'", .param),
            ("parameters.acc = 'x'", .param),
            ("tag.acc = 'x'", .tag),
            ("tags.acc = 'x'", .tag),
            ("dataset.name = 'x'", .dataset),
            ("datasets.name = 'x'", .dataset),
        ])
    func prefixes(text: String, entity: SearchEntity) throws {
        let clause = try S.single(text)
        #expect(clause.entity == entity)
        #expect(clause.key == (entity == .dataset ? "name" : "acc"))
    }

    @Test(
        "attribute prefixes and bare names",
        arguments: [
            "status = 'RUNNING'", "attribute.status = 'RUNNING'", "attributes.status = 'RUNNING'",
            "attr.status = 'RUNNING'", "run.status = 'RUNNING'", "`attributes`.status = 'RUNNING'",
        ])
    func attributePrefixes(text: String) throws {
        #expect(try S.single(text) == FilterClause(entity: .attribute, key: "status", comparator: .equal, value: .string("RUNNING")))
    }

    @Test(
        "key quoting styles",
        arguments: [
            ("tags.`mlflow.runName` = 'a'", "mlflow.runName"),
            ("tags.\"mlflow.runName\" = 'a'", "mlflow.runName"),
            ("tags.mlflow.runName = 'a'", "mlflow.runName"),
            ("tags.mlflow.parentRunId = 'a'", "mlflow.parentRunId"),
            ("tags.`my key` = 'a'", "my key"),
            ("tags.\"my key\" = 'a'", "my key"),
            ("tags.`log-scale loss` = 'a'", "log-scale loss"),
            ("tags.`1st_iteration` = 'a'", "1st_iteration"),
            ("tags.`select` = 'a'", "select"),
            ("tags.and = 'a'", "and"),
            ("tags.größe = 'a'", "größe"),
            ("tags.`a``b` = 'a'", "a``b"),
            ("tags.`a\\` = 'a'", "a\\"),
        ])
    func keyQuoting(text: String, key: String) throws {
        let clause = try S.single(text)
        #expect(clause.entity == .tag)
        #expect(clause.key == key)
    }

    @Test("quoted metric keys")
    func quotedMetricKeys() throws {
        #expect(
            try S.single("metrics.\"my metric\" >= 0.5")
                == FilterClause(entity: .metric, key: "my metric", comparator: .greaterOrEqual, value: .number(0.5)))
        #expect(try S.single("metrics.`f1 score` < 1").key == "f1 score")
    }

    @Test("quoted bare attribute names")
    func quotedBareNames() throws {
        #expect(try S.single("`status` = 'x'").key == "status")
        #expect(try S.single("\"status\" = 'x'").key == "status")
        #expect(try S.single("`Run Name` = 'x'").key == "run_name")
    }

    @Test("an unquoted two-word name is one identifier, as sqlparse groups it")
    func aliasGrouping() throws {
        #expect(
            try S.single("run name = 'x'") == FilterClause(entity: .attribute, key: "run_name", comparator: .equal, value: .string("x")))
        #expect(try S.single("attributes.Run name = 'x'").key == "run_name")
        #expect(try S.single("tags.foo bar = 'x'").key == "foo bar")
        #expect(S.filterError("run  name = 'x'")?.reason == .invalidKey)
    }

    @Test(
        "string values keep their text as written, like MLflow",
        arguments: [
            ("tags.a = 'x'", "x"),
            ("tags.a = \"x\"", "x"),
            ("tags.a = ''", ""),
            ("tags.a = 'it''s'", "it''s"),
            ("tags.a = 'a\\'b'", "a\\'b"),
            ("tags.a = 'a\\\\b'", "a\\\\b"),
            ("tags.a = \"say \"\"hi\"\"\"", "say \"\"hi\"\""),
            ("tags.a = 'with \"double\" quotes'", "with \"double\" quotes"),
            ("tags.a = 'AND OR NOT'", "AND OR NOT"),
            ("tags.a = '%_%'", "%_%"),
            ("tags.a = 'line\nbreak'", "line\nbreak"),
            ("tags.a = 'ünïcødé ✓'", "ünïcødé ✓"),
            ("tags.a = 'C:\\'", "C:\\"),
        ])
    func stringValues(text: String, value: String) throws {
        #expect(try S.single(text).value == .string(value))
    }

    @Test(
        "numbers",
        arguments: [
            ("1", 1.0), ("0", 0), ("-1", -1), ("1.5", 1.5), ("-1.5", -1.5), (".5", 0.5), ("-.5", -0.5),
            ("1.", 1), ("1e3", 1000), ("1E3", 1000), ("1e-3", 0.001), ("1.5e2", 150), ("-2.5E-1", -0.25),
            ("1664067852747", 1_664_067_852_747), ("007", 7),
        ])
    func numbers(literal: String, value: Double) throws {
        #expect(try S.single("metrics.m = \(literal)").value == .number(value))
        #expect(try S.single("metrics.m>\(literal)").value == .number(value))
    }

    @Test(
        "numbers MLflow's tokenizer does not accept",
        arguments: ["1e+5", "0x1F", "1st", "+5", "1.e5", "1.2.3", "- 1", "1_000", "NaN", "inf", "Infinity", "'1'"])
    func badNumbers(literal: String) {
        let error = S.filterError("metrics.m > \(literal)")
        #expect(error != nil)
        #expect(error?.reason != .tooLarge)
    }

    @Test("out-of-range numbers are refused, not turned into infinity")
    func outOfRange() {
        #expect(S.filterError("metrics.m > 1e999")?.reason == .invalidValue)
        #expect(S.filterError("metrics.m > -1e400")?.reason == .invalidValue)
        #expect(S.filterError("start_time > " + String(repeating: "9", count: 400))?.reason == .invalidValue)
    }

    @Test(
        "metric comparators",
        arguments: [
            ("=", SearchComparator.equal), ("!=", .notEqual), ("<", .less), ("<=", .lessOrEqual), (">", .greater), (">=", .greaterOrEqual),
        ])
    func metricComparators(op: String, comparator: SearchComparator) throws {
        #expect(try S.single("metrics.acc \(op) 0.5").comparator == comparator)
        #expect(try S.single("metrics.acc\(op)0.5").comparator == comparator)
    }

    @Test(
        "string comparators and keywords are case-insensitive",
        arguments: [
            ("tags.a LIKE 'x%'", SearchComparator.like),
            ("tags.a like 'x%'", .like),
            ("tags.a Like 'x%'", .like),
            ("tags.a ILIKE 'x%'", .ilike),
            ("tags.a ilike 'x%'", .ilike),
            ("params.a != 'x'", .notEqual),
            ("params.a = 'x'", .equal),
        ])
    func stringComparators(text: String, comparator: SearchComparator) throws {
        #expect(try S.single(text).comparator == comparator)
    }

    @Test(
        "IS NULL and IS NOT NULL on tags and params",
        arguments: [
            ("tags.env IS NULL", SearchEntity.tag, SearchComparator.isNull),
            ("tags.env is null", .tag, .isNull),
            ("tags.env IS NOT NULL", .tag, .isNotNull),
            ("tags.env Is Not Null", .tag, .isNotNull),
            ("params.lr IS NULL", .param, .isNull),
            ("params.lr IS  NOT\tNULL", .param, .isNotNull),
        ])
    func nullChecks(text: String, entity: SearchEntity, comparator: SearchComparator) throws {
        #expect(
            try S.single(text)
                == FilterClause(
                    entity: entity, key: text.split(separator: " ")[0].split(separator: ".")[1].description, comparator: comparator,
                    value: .none))
    }

    @Test(
        "IN and NOT IN lists",
        arguments: [
            ("run_id IN ('a')", SearchComparator.in, ["a"]),
            ("run_id IN ('a', 'b')", .in, ["a", "b"]),
            ("run_id in ('a','b',)", .in, ["a", "b"]),
            ("run_id IN('a')", .in, ["a"]),
            ("run_id NOT IN ('a', 'b')", .notIn, ["a", "b"]),
            ("run_id not in ( 'a' , \"b\" )", .notIn, ["a", "b"]),
            ("run_id IN ('a''b')", .in, ["ab"]),
            ("run_id IN ('a' 'b', 'c')", .in, ["ab", "c"]),
            ("run_id IN ('it\\'s')", .in, ["it's"]),
            ("run_id IN ('a\\\\b')", .in, ["a\\b"]),
            ("run_id IN ('tab\\there')", .in, ["tab\there"]),
            ("run_id IN ('\\d')", .in, ["\\d"]),
            ("run_id IN ('x', 'x')", .in, ["x", "x"]),
            ("datasets.digest IN ('s8ds293b', 'jks834s2')", .in, ["s8ds293b", "jks834s2"]),
            ("datasets.context NOT IN ('train')", .notIn, ["train"]),
        ])
    func lists(text: String, comparator: SearchComparator, items: [String]) throws {
        let clause = try S.single(text)
        #expect(clause.comparator == comparator)
        #expect(clause.value == .list(items))
    }

    @Test("clauses are joined by AND, in order")
    func andChain() throws {
        let filter = try SearchFilter.parse(
            "metrics.acc > 0.72 and params.model LIKE 'GPT%' AND tags.task ILIKE 'classif%' AND attributes.run_id IN ('a1b2') AND datasets.name = 'custom'",
            for: .runs
        )
        #expect(
            filter.clauses == [
                FilterClause(entity: .metric, key: "acc", comparator: .greater, value: .number(0.72)),
                FilterClause(entity: .param, key: "model", comparator: .like, value: .string("GPT%")),
                FilterClause(entity: .tag, key: "task", comparator: .ilike, value: .string("classif%")),
                FilterClause(entity: .attribute, key: "run_id", comparator: .in, value: .list(["a1b2"])),
                FilterClause(entity: .dataset, key: "name", comparator: .equal, value: .string("custom")),
            ])
    }

    @Test("stray ANDs are tolerated, as MLflow tolerates them")
    func strayAnds() throws {
        let filter = try SearchFilter.parse("AND metrics.a > 1 AND AND metrics.b < 2 AND", for: .runs)
        #expect(filter.clauses.map(\.key) == ["a", "b"])
    }

    @Test("the same field may appear twice (a range)")
    func range() throws {
        let filter = try SearchFilter.parse("metrics.loss <= 0.15 AND metrics.loss >= 0.1", for: .runs)
        #expect(filter.clauses.count == 2)
    }

    @Test("whitespace is free around operators and keywords")
    func whitespace() throws {
        let filter = try SearchFilter.parse("\n\tmetrics.a>=1\r\nAND\ttags.b!='x'   ", for: .runs)
        #expect(filter.clauses.map(\.comparator) == [.greaterOrEqual, .notEqual])
    }

    @Test("the clause the registered-models client always appends")
    func promptClause() throws {
        let filter = try SearchFilter.parse("name LIKE 'rm%' AND tag.`mlflow.prompt.is_prompt` != 'true'", for: .registeredModels)
        #expect(
            filter.clauses == [
                FilterClause(entity: .attribute, key: "name", comparator: .like, value: .string("rm%")),
                FilterClause(entity: .tag, key: "mlflow.prompt.is_prompt", comparator: .notEqual, value: .string("true")),
            ])
        #expect(try S.single("tag.`mlflow.prompt.is_prompt` != 'true'", .registeredModels).key == "mlflow.prompt.is_prompt")
    }

    @Test("the filter RunsArtifactRepository sends to logged-models/search")
    func loggedModelNameFilter() throws {
        #expect(
            try S.single("name = 'lr'", .loggedModels)
                == FilterClause(entity: .attribute, key: "name", comparator: .equal, value: .string("lr")))
    }

    @Test("the error maps to INVALID_PARAMETER_VALUE")
    func errorMapping() throws {
        let error = try #require(S.filterError("metrics.a > 'x'"))
        #expect(error.cairnError.code == .invalidParameterValue)
        #expect(error.cairnError.message == error.message)
        #expect(error.description == error.message)
    }
}
