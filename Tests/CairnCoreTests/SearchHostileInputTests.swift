import Testing

@testable import CairnCore

private typealias S = SearchTestSupport

@Suite("Search grammar under hostile input")
struct SearchHostileInputTests {
    @Test("over-long filters are refused before they are tokenized")
    func tooLong() throws {
        let text = String(repeating: "metrics.a > 1 AND ", count: SearchLimits.maxFilterBytes / 10)
        let error = try #require(S.filterError(text))
        #expect(error.reason == .tooLarge)
        #expect(S.orderError(String(repeating: "a", count: SearchLimits.maxOrderByBytes + 1))?.reason == .tooLarge)
    }

    @Test("a filter at the length limit is parsed")
    func atLimit() throws {
        let padding = String(repeating: " ", count: SearchLimits.maxFilterBytes - "metrics.a > 1".utf8.count)
        #expect(try SearchFilter.parse("metrics.a > 1" + padding, for: .runs).clauses.count == 1)
        let bigValue = "tags.a = '" + String(repeating: "v", count: SearchLimits.maxFilterBytes - 11) + "'"
        #expect(bigValue.utf8.count == SearchLimits.maxFilterBytes)
        #expect(try S.single(bigValue).value == .string(String(repeating: "v", count: SearchLimits.maxFilterBytes - 11)))
    }

    @Test("clause count is capped")
    func clauseCap() throws {
        let ok = Array(repeating: "metrics.a > 1", count: SearchLimits.maxFilterClauses).joined(separator: " AND ")
        #expect(try SearchFilter.parse(ok, for: .runs).clauses.count == SearchLimits.maxFilterClauses)
        let tooMany = Array(repeating: "a>1", count: SearchLimits.maxFilterClauses + 1).joined(separator: " AND ")
        #expect(S.filterError(tooMany)?.reason == .invalidKey)
        let tooManyValid = Array(repeating: "created>1", count: SearchLimits.maxFilterClauses + 1).joined(separator: " AND ")
        #expect(S.filterError(tooManyValid)?.reason == .tooLarge)
    }

    @Test("list length is capped")
    func listCap() throws {
        let items = (0...SearchLimits.maxListItems).map { "'\($0)'" }.joined(separator: ",")
        #expect(S.filterError("run_id IN (\(items))")?.reason == .tooLarge)
        let fewer = (0..<SearchLimits.maxListItems).map { "'\($0)'" }.joined(separator: ",")
        if case .list(let parsed) = try S.single("run_id IN (\(fewer))").value {
            #expect(parsed.count == SearchLimits.maxListItems)
        } else {
            Issue.record("expected a list")
        }
    }

    @Test("NUL bytes are refused anywhere", arguments: ["\u{0}", "tags.a = 'x\u{0}'", "tags.a\u{0} = 'x'", "metrics.a > 1 AND\u{0}"])
    func nul(text: String) {
        #expect(S.filterError(text)?.reason == .syntax)
        #expect(S.orderError(text)?.reason == .syntax)
    }

    @Test("control characters outside quotes are refused", arguments: ["\u{1}", "tags.a = 'x' \u{1B}[31m", "\u{7F}"])
    func controlCharacters(text: String) {
        #expect(S.filterError(text) != nil)
    }

    @Test(
        "unbalanced quotes and parentheses of every kind",
        arguments: [
            "'", "\"", "`", "''''", "'''", "\"\"\"", "```", "tags.a = '\\", "tags.a = 'x\\' AND 'y",
            "(", ")", "((((((((((", "run_id IN ((((", "run_id IN ('a'))", "run_id IN )'a'(",
        ])
    func unbalanced(text: String) {
        #expect(S.filterError(text) != nil)
        #expect(S.orderError(text) != nil)
    }

    @Test("deeply nested or repeated structures cost linear work and fail cleanly")
    func repetition() throws {
        let parens = String(repeating: "(", count: 90_000)
        #expect(S.filterError(parens)?.reason == .invalidClause)
        let ands = String(repeating: "AND ", count: 24_000)
        #expect((try? SearchFilter.parse(ands, for: .runs))?.clauses.isEmpty == true)
        // sqlparse reads an even run of quotes as one string made of doubled quotes…
        let quotes = String(repeating: "''", count: 45_000)
        #expect(try S.single("tags.a = " + quotes).value == .string(String(repeating: "'", count: 89_998)))
        #expect(S.filterError("tags.a = '" + quotes) != nil)
        // …and, when the input ends inside a string, lets the last escaped quote close it.
        let escapes = "tags.a = '" + String(repeating: "\\'", count: 45_000)
        #expect(try S.single(escapes).value == .string(String(repeating: "\\'", count: 44_999) + "\\"))
        let dots = "tags." + Array(repeating: "a", count: 30_000).joined(separator: ".") + " = 'x'"
        #expect(try S.single(dots).key.utf8.count == 59_999)
        let digits = "metrics.a > " + String(repeating: "9", count: 90_000)
        #expect(S.filterError(digits)?.reason == .invalidValue)
        let comparators = "metrics.a " + String(repeating: "=", count: 90_000) + " 1"
        #expect(S.filterError(comparators)?.reason == .invalidComparator)
    }

    /// Deterministic fuzzing: every input either parses into well-formed clauses or throws
    /// `SearchGrammarError`; a trap would crash the test run.
    @Test("random token soup never traps", arguments: SearchKind.allCases)
    func fuzz(kind: SearchKind) {
        let fragments = [
            "metrics", "params", "tags", "attributes", "datasets", "run", "name", "run_id", "status", "start_time",
            "created", "experiment_id", "version_number", "creation_time", "a", "`k`", "\"k\"", "`", "\"", "'",
            "'v'", "'it''s'", "'\\'", "\\", ".", "..", " ", "  ", "\t", "=", "!=", "<>", "<", "<=", ">", ">=", "==",
            "LIKE", "ilike", "NOT", "IN", "in", "IS", "NULL", "AND", "and", "OR", "(", ")", ",", "1", "-1", ".5",
            "1e3", "1e+3", "-", "+", "0x1", "1.", ";", "#", "é", "✓", "\u{0}", "\n", "ASC", "DESC",
        ]
        var rng = SplitMix64(seed: UInt64(kind.rawValue.utf8.count) &* 0x9E37_79B9)
        for _ in 0..<3_000 {
            let length = Int(rng.next() % 12) + 1
            var text = ""
            for _ in 0..<length {
                text += fragments[Int(rng.next() % UInt64(fragments.count))]
                if rng.next() % 3 == 0 { text += " " }
            }
            do {
                let filter = try SearchFilter.parse(text, for: kind)
                for clause in filter.clauses { checkWellFormed(clause, input: text) }
            } catch {
                #expect(!error.message.isEmpty)
            }
            do {
                _ = try OrderByClause.parse(text, for: kind)
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }

    func checkWellFormed(_ clause: FilterClause, input: String) {
        #expect(!clause.key.isEmpty, "\(input)")
        switch clause.comparator {
        case .in, .notIn:
            guard case .list(let items) = clause.value, !items.isEmpty else {
                Issue.record("IN without a list: \(input)")
                return
            }
        case .isNull, .isNotNull:
            #expect(clause.value == .none, "\(input)")
        default:
            switch clause.value {
            case .string: break
            case .number(let number): #expect(number.isFinite, "\(input)")
            case .list, .none: Issue.record("scalar comparator without a scalar: \(input)")
            }
        }
    }
}

/// Small deterministic PRNG so fuzz failures reproduce.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
