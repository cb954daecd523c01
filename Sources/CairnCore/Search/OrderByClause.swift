/// One parsed `order_by` entry: `<entity>.<key> [ASC|DESC]`, ascending by default.
/// `key` is canonical (`created` → `start_time`, registered models' `timestamp` →
/// `last_updated_timestamp`, logged models' `creation_time` → `creation_timestamp`).
public struct OrderByClause: Sendable, Hashable {
    public var entity: SearchEntity
    public var key: String
    public var ascending: Bool

    public init(entity: SearchEntity, key: String, ascending: Bool = true) {
        self.entity = entity
        self.key = key
        self.ascending = ascending
    }

    /// Parses one `order_by` string against the grammar of `kind`.
    public static func parse(_ text: String, for kind: SearchKind) throws(SearchGrammarError) -> OrderByClause {
        var parser = try SearchParser(text, grammar: .forKind(kind), maxBytes: SearchLimits.maxOrderByBytes, what: "order_by clause")
        return try parser.parseOrderBy(original: text)
    }

    /// Parses a whole `order_by` list. The same field twice (after aliases are resolved, so
    /// `start_time` and `created` collide) is refused; MLflow answers that with a 500, Cairn with
    /// a 400.
    public static func parseList(_ texts: [String], for kind: SearchKind) throws(SearchGrammarError) -> [OrderByClause] {
        guard texts.count <= SearchLimits.maxOrderByClauses else {
            throw SearchGrammarError(.tooLarge, "order_by has \(texts.count) entries, the limit is \(SearchLimits.maxOrderByClauses).")
        }
        var clauses: [OrderByClause] = []
        var seen = Set<FieldID>()
        for text in texts {
            let clause = try parse(text, for: kind)
            guard seen.insert(FieldID(entity: clause.entity, key: clause.key)).inserted else {
                throw SearchGrammarError(.duplicateOrderKey, "`order_by` contains duplicate fields: '\(SearchGrammarError.excerpt(text))'")
            }
            clauses.append(clause)
        }
        return clauses
    }

    /// `logged-models/search` sends order_by as objects (`{"field_name": …, "ascending": …}`),
    /// not strings. `fieldName` is an attribute (`creation_time`, `name`, …) or
    /// `metrics.<name>`, taken literally after the first dot as MLflow does (no quoting).
    public static func loggedModelField(_ fieldName: String, ascending: Bool = true) throws(SearchGrammarError) -> OrderByClause {
        let bytes = Array(fieldName.utf8)
        guard bytes.count <= SearchLimits.maxOrderByBytes else {
            throw SearchGrammarError(
                .tooLarge, "The order_by field name is too long: \(bytes.count) bytes, the limit is \(SearchLimits.maxOrderByBytes).")
        }
        guard !bytes.contains(0) else {
            throw SearchGrammarError(.syntax, "The order_by field name contains a NUL character.")
        }
        let grammar = SearchGrammar.loggedModels
        if let dot = bytes.firstIndex(of: UInt8(ascii: ".")) {
            let entity = SearchLexer.text(bytes, 0, dot)
            let key = SearchLexer.text(bytes, dot + 1, bytes.count)
            guard entity == "metrics" else {
                throw SearchGrammarError(
                    .invalidEntity, "Invalid order by field name: \(SearchGrammarError.excerpt(entity)), only `metrics.<name>` is allowed.")
            }
            guard !key.isEmpty else {
                throw SearchGrammarError(
                    .invalidKey, "Invalid order by field name: \(SearchGrammarError.excerpt(fieldName)): the metric name is empty.")
            }
            return OrderByClause(entity: .metric, key: key, ascending: ascending)
        }
        var start = 0
        var end = bytes.count
        while start < end, SearchLexer.isSpace(bytes[start]) { start += 1 }
        while end > start, SearchLexer.isSpace(bytes[end - 1]) { end -= 1 }
        let name = SearchLexer.text(bytes, start, end)
        guard case .fixed(let map)? = grammar.orderKeys[.attribute], let canonical = map[name] else {
            throw SearchGrammarError(.invalidKey, "Invalid order by field name: \(SearchGrammarError.excerpt(name)).")
        }
        return OrderByClause(entity: .attribute, key: canonical, ascending: ascending)
    }

    private struct FieldID: Hashable {
        var entity: SearchEntity
        var key: String
    }
}
