import Testing

@testable import CairnCore

private typealias S = SearchTestSupport

@Suite("Search filter errors")
struct SearchFilterErrorTests {
    @Test(
        "OR is refused with MLflow's message",
        arguments: [
            "metrics.a > 0.1 OR params.b = 'LR'",
            "metrics.a > 0.1 or params.b = 'LR'",
            "OR metrics.a > 0.1",
        ])
    func orIsRefused(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidClause)
        #expect(error.message.lowercased().hasPrefix("invalid clause(s) in filter string: 'or'"))
    }

    @Test(
        "anything but AND between clauses is an invalid clause",
        arguments: [
            "(metrics.a > 1)",
            "metrics.a > 1 metrics.b > 2",
            "metrics.a > 1 ,",
            "NOT metrics.a > 1",
            "metrics.a > 1 )",
            "'a' = 'b'",
            "1 = 1",
            "= 1",
            "tags.a = 'x' b",
            "tags.a = 'x' 'y'",
        ])
    func invalidClauses(text: String) {
        #expect(S.filterError(text)?.reason == .invalidClause)
    }

    @Test(
        "comparators MLflow does not have",
        arguments: [
            "metrics.a <> 1", "metrics.a == 1", "metrics.a =! 1", "metrics.a ~ 1", "metrics.a >> 1",
            "tags.a NOT LIKE 'x'", "tags.a not ilike 'x'", "tags.a RLIKE 'x'", "metrics.a BETWEEN 1",
            "tags.a GLOB 'x'",
        ])
    func unknownComparators(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidComparator)
        #expect(error.message.hasPrefix("Invalid comparator '"))
    }

    @Test(
        "comparators the entity does not allow",
        arguments: [
            "metrics.a LIKE 1",
            "tags.a > 'x'",
            "params.a <= 'x'",
            "status < 'x'",
            "start_time LIKE 1",
            "datasets.name > 'x'",
        ])
    func wrongComparatorForEntity(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidComparator)
        #expect(error.message.contains("not one of"))
    }

    @Test(
        "unknown entity prefixes",
        arguments: ["foo.x = 'a'", "m.acc >= 0.94", "METRICS.a > 1", "Tags.a = 'x'", "\"tags\".a = 'x'", "`tags.a` = 'x'"])
    func unknownEntity(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidEntity || error.reason == .invalidKey)
        if text.hasPrefix("foo") {
            #expect(error.message.hasPrefix("Invalid entity type 'foo'"))
        }
    }

    @Test(
        "unknown attribute and dataset keys",
        arguments: [
            "acc >= 0.94", "attributes.lifecycle_stage = 'active'", "run_uuid = 'x'", "experiment_id = '1'", "CREATED > 1",
            "dataset.status = 'x'",
        ])
    func unknownKeys(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidKey)
        #expect(error.message.hasPrefix("Invalid attribute key") || error.message.hasPrefix("Invalid dataset key"))
    }

    @Test(
        "unterminated strings and quoted names",
        arguments: [
            "tags.a = 'x", "tags.a = \"x", "tags.`a = 'x'", "tags.a = '", "tags.a = 'x''", "tags.a = 'abc\\\\'' AND 'q",
        ])
    func unterminated(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .syntax || error.reason == .invalidClause)
    }

    @Test(
        "a missing comparator or value",
        arguments: [
            "metrics.a", "metrics.a >", "metrics.a > AND tags.b = 'x'", "tags.a =", "tags.a IS", "tags.a IS NOT", "tags.a NOT",
            "tags.a = NULL", "run_id IN", "run_id IN 'a'", "run_id NOT IN 'a'", "metrics.a AND",
        ])
    func missingParts(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .syntax)
    }

    @Test(
        "a string where a number is required",
        arguments: [
            "metrics.a > 'x'", "metrics.a = \"1\"", "metric.model = 'LR'", "start_time >= '1664067852747'", "attributes.end_time < now",
        ])
    func stringForNumber(text: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidValue)
        #expect(error.message.hasPrefix("Expected numeric value type for"))
    }

    @Test(
        "a number or unquoted word where a string is required",
        arguments: [
            ("params.acc = 5", "Expected a quoted string value"),
            ("tags.a = 1.5", "Expected a quoted string value"),
            ("attribute.status = 1", "Expected a quoted string value"),
            ("params.acc = LR", "not quoted"),
            ("tag.`test` = `abc`", "not quoted"),
            ("tags.a = abc.def", "not quoted"),
            ("attribute.status = true", "not quoted"),
        ])
    func numberForString(text: String, fragment: String) throws {
        let error = try #require(S.filterError(text))
        #expect(error.reason == .invalidValue)
        #expect(error.message.contains(fragment))
    }

    @Test("lists where the key does not take one")
    func listsNotAllowed() throws {
        let status = try #require(S.filterError("attributes.status IN ('a', 'b')"))
        #expect(status.reason == .invalidValue)
        #expect(status.message == "Only the 'run_id' attribute supports comparison with a list of quoted string values.")
        #expect(S.filterError("attributes.run_name NOT IN ('a')")?.reason == .invalidValue)
        #expect(S.filterError("tags.a IN ('a')")?.reason == .invalidValue)
        #expect(S.filterError("params.a NOT IN ('a')")?.reason == .invalidValue)
        #expect(S.filterError("metrics.a IN ('1')")?.reason == .invalidValue)
        #expect(S.filterError("start_time IN ('1')")?.reason == .invalidValue)
    }

    @Test("a list needs IN or NOT IN")
    func listWithScalarComparator() {
        #expect(S.filterError("run_id = ('a', 'b')")?.reason == .invalidComparator)
        #expect(S.filterError("datasets.name LIKE ('a')")?.reason == .invalidComparator)
    }

    @Test(
        "malformed lists",
        arguments: [
            ("run_id IN ()", SearchGrammarError.Reason.invalidValue),
            ("run_id IN (,)", .syntax),
            ("run_id IN ('a',,'b')", .syntax),
            ("run_id IN (, 'a')", .syntax),
            ("run_id IN ('a', 1)", .invalidValue),
            ("run_id IN (1, 2)", .invalidValue),
            ("run_id IN (a)", .invalidValue),
            ("run_id IN (`a`)", .invalidValue),
            ("run_id IN (('a'))", .invalidValue),
            ("run_id IN ('a'", .syntax),
            ("run_id IN ('a',", .syntax),
            ("run_id IN ('a\\0b')", .invalidValue),
        ])
    func malformedLists(text: String, reason: SearchGrammarError.Reason) {
        #expect(S.filterError(text)?.reason == reason)
    }

    @Test("IS NULL only where MLflow allows it")
    func nullWhereNotAllowed() throws {
        let metric = try #require(S.filterError("metrics.acc IS NULL"))
        #expect(metric.reason == .invalidComparator)
        #expect(metric.message.hasPrefix("IS NULL / IS NOT NULL is only supported for tags and params"))
        #expect(S.filterError("attributes.status IS NOT NULL")?.reason == .invalidComparator)
        #expect(S.filterError("datasets.name IS NULL")?.reason == .invalidComparator)
    }

    @Test(
        "malformed identifiers",
        arguments: [
            "metrics. a > 1", "metrics .a > 1", "metrics.a. > 1", "metrics.. > 1", "tags.a.`b` = 'x'",
            "tags.`` = 'x'", "`` = 'x'", "tags.'a' = 'x'", "metrics.1st > 1",
        ])
    func malformedIdentifiers(text: String) {
        let error = S.filterError(text)
        #expect(error != nil)
        #expect(error?.reason != .tooLarge)
    }

    @Test(
        "garbage",
        arguments: [
            ";", "metrics.a > 1;", "metrics.a > 1 -- comment", "/* x */ metrics.a > 1", "#", "@", "[a] = 'x'",
            "metrics.a > 1; DROP TABLE runs", "SELECT * FROM runs", "*", "\\", "{}", "metrics.a > 1 + 1",
        ])
    func garbage(text: String) {
        #expect(S.filterError(text) != nil)
    }

    @Test("errors quote long input only in part")
    func boundedMessages() throws {
        let long = String(repeating: "x", count: 50_000)
        let unterminated = try #require(S.filterError("tags.a = '" + long))
        #expect(unterminated.message.count < 1_000)
        let badKey = try #require(S.filterError(long + " = 'a'"))
        #expect(badKey.message.count < 1_000)
    }
}
