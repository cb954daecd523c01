/// Recursive-descent parser over `SearchLexer` tokens, shared by every `SearchKind`: the
/// syntax is common, the per-kind rules come from a `SearchGrammar` profile.
///
/// Filter grammar (keywords case-insensitive):
/// ```
/// filter      := { "AND" } [ clause { "AND" { "AND" } clause } { "AND" } ]
/// clause      := identifier comparison
/// identifier  := name { "." name } [ alias ]       -- no spaces around "."
/// name        := word | `quoted` | "quoted"
/// alias       := word                               -- sqlparse's `run name` grouping
/// comparison  := ( "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" ) value
///              | [ "NOT" ] "IN" "(" string { "," string } [ "," ] ")"
///              | "IS" [ "NOT" ] "NULL"
/// value       := 'string' | "string" | number
/// ```
/// Stray `AND`s are tolerated because MLflow tolerates them (it only rejects tokens that are
/// neither comparisons nor `AND`); `OR`, parentheses and anything else between clauses are
/// refused with MLflow's "Invalid clause(s) in filter string" message.
struct SearchParser {
    /// An identifier as written: `prefix` is nil for a bare name (an attribute).
    struct RawIdentifier {
        var prefix: String?
        var key: String
        var text: String
    }

    enum RawComparator {
        case known(SearchComparator)
        /// Lexically a comparator but not one MLflow accepts (`<>`, `==`, `NOT LIKE`, `RLIKE`).
        case unknown(String)

        var text: String {
            switch self {
            case .known(let comparator): comparator.rawValue
            case .unknown(let text): text
            }
        }
    }

    enum RawValue {
        case quoted(String)
        case number(String)
        /// A bare word or backtick-quoted name in value position: MLflow refuses it.
        case unquoted(String)
        case list([String])
        case none

        var shown: String {
            switch self {
            case .quoted(let text): "'\(SearchGrammarError.excerpt(text))'"
            case .number(let text), .unquoted(let text): SearchGrammarError.excerpt(text)
            case .list(let items): "(" + SearchGrammarError.excerpt(items.map { "'\($0)'" }.joined(separator: ", ")) + ")"
            case .none: "NULL"
            }
        }
    }

    let bytes: [UInt8]
    let tokens: [SearchToken]
    let grammar: SearchGrammar
    var position = 0

    init(_ text: String, grammar: SearchGrammar, maxBytes: Int, what: String) throws(SearchGrammarError) {
        let byteCount = text.utf8.count
        guard byteCount <= maxBytes else {
            throw SearchGrammarError(.tooLarge, "The \(what) is too long: \(byteCount) bytes, the limit is \(maxBytes).")
        }
        let bytes = Array(text.utf8)
        // Stored values can never contain NUL (PostgreSQL text refuses it), so neither can a search.
        guard !bytes.contains(0) else {
            throw SearchGrammarError(.syntax, "The \(what) contains a NUL character.")
        }
        self.bytes = bytes
        self.tokens = try SearchLexer.tokenize(bytes)
        self.grammar = grammar
    }

    // MARK: - Filter

    mutating func parseFilter() throws(SearchGrammarError) -> [FilterClause] {
        var clauses: [FilterClause] = []
        while true {
            while let token = peek(), token.isKeyword("AND") { position += 1 }
            guard let token = peek() else { return clauses }
            guard startsIdentifier(token) else { throw invalidClause(token) }
            guard clauses.count < SearchLimits.maxFilterClauses else {
                throw SearchGrammarError(.tooLarge, "The filter has more than \(SearchLimits.maxFilterClauses) clauses.")
            }
            clauses.append(try parseClause())
            if let next = peek(), !next.isKeyword("AND") { throw invalidClause(next) }
        }
    }

    /// Each failure is placed at the part of the clause it is about: the identifier for an
    /// unknown entity or key, the comparator, or the value (the end of input when it is missing).
    mutating func parseClause() throws(SearchGrammarError) -> FilterClause {
        let start = tokens[position].start
        let identifier: RawIdentifier
        do { identifier = try parseIdentifier(allowAlias: true) } catch { throw error.at(start) }
        let comparatorStart = peek()?.start ?? bytes.count
        let comparator: RawComparator
        do { comparator = try parseComparator(after: identifier) } catch { throw error.at(comparatorStart) }
        let valueStart = peek()?.start ?? bytes.count
        let value: RawValue
        do { value = try parseValue(for: comparator, after: identifier) } catch { throw error.at(valueStart) }
        do {
            return try validate(identifier, comparator, value)
        } catch {
            switch error.reason {
            case .invalidEntity, .invalidKey: throw error.at(start)
            case .invalidComparator: throw error.at(comparatorStart)
            default: throw error.at(valueStart)
            }
        }
    }

    mutating func parseComparator(after identifier: RawIdentifier) throws(SearchGrammarError) -> RawComparator {
        guard let token = next() else {
            throw SearchGrammarError(
                .syntax, "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text))': expected a comparator after it.")
        }
        switch token.kind {
        case .comparison:
            switch token.text {
            case "=": return .known(.equal)
            case "!=": return .known(.notEqual)
            case "<": return .known(.less)
            case "<=": return .known(.lessOrEqual)
            case ">": return .known(.greater)
            case ">=": return .known(.greaterOrEqual)
            default: return .unknown(token.text)
            }
        case .word:
            if token.isKeyword("LIKE") { return .known(.like) }
            if token.isKeyword("ILIKE") { return .known(.ilike) }
            if token.isKeyword("IN") { return .known(.in) }
            if token.isKeyword("NOT") {
                if let following = peek(), following.isKeyword("IN") {
                    position += 1
                    return .known(.notIn)
                }
                if let following = peek(), following.isKeyword("LIKE") || following.isKeyword("ILIKE") {
                    position += 1
                    return .unknown("NOT " + following.text.uppercased())
                }
                throw SearchGrammarError(
                    .syntax, "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text)) NOT': expected IN after NOT.")
            }
            if token.isKeyword("IS") {
                if let following = peek(), following.isKeyword("NULL") {
                    position += 1
                    return .known(.isNull)
                }
                if let following = peek(), following.isKeyword("NOT"), let last = peek(1), last.isKeyword("NULL") {
                    position += 2
                    return .known(.isNotNull)
                }
                throw SearchGrammarError(
                    .syntax,
                    "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text)) IS': expected NULL or NOT NULL after IS.")
            }
            if token.isKeyword("AND") || token.isKeyword("OR") {
                throw SearchGrammarError(
                    .syntax,
                    "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text))': expected a comparator, found '\(token.text)'."
                )
            }
            return .unknown(token.text)
        default:
            throw SearchGrammarError(
                .syntax,
                "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text))': expected a comparator, found '\(source(token))'."
            )
        }
    }

    mutating func parseValue(for comparator: RawComparator, after identifier: RawIdentifier) throws(SearchGrammarError) -> RawValue {
        if case .known(let known) = comparator {
            switch known {
            case .isNull, .isNotNull:
                return .none
            case .in, .notIn:
                guard let open = peek(), open.kind == .leftParen else {
                    throw SearchGrammarError(
                        .syntax,
                        "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text)) \(known.rawValue)': \(known.rawValue) must be followed by a parenthesized list of quoted strings, e.g. ('a', 'b')."
                    )
                }
                return .list(try parseList())
            default:
                break
            }
        }
        let missing = SearchGrammarError(
            .syntax,
            "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text)) \(comparator.text)': expected a value after '\(comparator.text)'."
        )
        guard let token = peek() else { throw missing }
        switch token.kind {
        case .singleQuoted, .doubleQuoted:
            position += 1
            return .quoted(token.text)
        case .number:
            position += 1
            return .number(token.text)
        case .backtickQuoted:
            position += 1
            return .unquoted(source(token))
        case .leftParen:
            return .list(try parseList())
        case .word:
            if token.isKeyword("NULL") {
                throw SearchGrammarError(
                    .syntax,
                    "Invalid comparison clause '\(SearchGrammarError.excerpt(identifier.text)) \(comparator.text) NULL': use IS NULL or IS NOT NULL to test whether a key is set."
                )
            }
            guard !token.isReservedWord else { throw missing }
            position += 1
            return .unquoted(token.text)
        default:
            throw missing
        }
    }

    /// Parses `( 'a', "b", … )`. Items follow Python literal rules, because MLflow reads the
    /// parenthesis with `ast.literal_eval`.
    mutating func parseList() throws(SearchGrammarError) -> [String] {
        guard let open = next(), open.kind == .leftParen else {
            throw SearchGrammarError(.syntax, "Expected '(' to start a list.")
        }
        var items: [String] = []
        var item = ""
        var hasItem = false
        while true {
            guard let token = next() else {
                throw SearchGrammarError(.syntax, "Unterminated list starting at position \(open.start): missing ')'.")
            }
            switch token.kind {
            case .singleQuoted, .doubleQuoted:
                // Python concatenates adjacent literals: ('a' 'b') is ('ab',).
                item.append(try Self.decodePythonLiteral(token))
                hasItem = true
            case .comma:
                guard hasItem else {
                    throw SearchGrammarError(
                        .syntax, "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.")
                }
                items.append(item)
                item = ""
                hasItem = false
                guard items.count <= SearchLimits.maxListItems else {
                    throw SearchGrammarError(.tooLarge, "A list in the filter has more than \(SearchLimits.maxListItems) items.")
                }
            case .rightParen:
                if hasItem { items.append(item) }
                guard !items.isEmpty else {
                    throw SearchGrammarError(
                        .invalidValue, "While parsing a list in the query, expected a non-empty list of string values, but got empty list")
                }
                guard items.count <= SearchLimits.maxListItems else {
                    throw SearchGrammarError(.tooLarge, "A list in the filter has more than \(SearchLimits.maxListItems) items.")
                }
                return items
            default:
                throw SearchGrammarError(
                    .invalidValue,
                    "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: '\(SearchGrammarError.excerpt(source(token)))'"
                )
            }
        }
    }

    /// Decodes a quoted token the way Python's `ast.literal_eval` reads it: the common backslash
    /// escapes are decoded, a doubled quote is two adjacent literals (so it vanishes), and other
    /// escapes (`\x41`, `\u00e9`, octal) are kept as written.
    static func decodePythonLiteral(_ token: SearchToken) throws(SearchGrammarError) -> String {
        let quote: UInt8 = token.kind == .singleQuoted ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        let raw = Array(token.text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == UInt8(ascii: "\\"), index + 1 < raw.count {
                let escaped = raw[index + 1]
                switch escaped {
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(escaped)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "a"): out.append(0x07)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "v"): out.append(0x0B)
                case 0x0A: break // line continuation
                case UInt8(ascii: "0"):
                    throw SearchGrammarError(.invalidValue, "NUL characters are not allowed in search values.")
                default:
                    out.append(byte)
                    out.append(escaped)
                }
                index += 2
                continue
            }
            if byte == quote, index + 1 < raw.count, raw[index + 1] == quote {
                index += 2
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Validation against the kind's grammar

    func validate(_ identifier: RawIdentifier, _ comparator: RawComparator, _ value: RawValue) throws(SearchGrammarError) -> FilterClause {
        let entity = try resolveEntity(identifier, forOrderBy: false)
        guard let keys = grammar.filterKeys[entity] else {
            throw SearchGrammarError(
                .invalidEntity, "Invalid entity type '\(identifier.prefix ?? "attribute")' when searching \(grammar.searchName).")
        }
        let key: String
        let rule: SearchFieldRule
        switch keys {
        case .any(let anyRule):
            key = identifier.key
            rule = anyRule
        case .fixed(let map):
            guard let entry = map[identifier.key] else {
                let noun = entity == .dataset ? "dataset" : "attribute"
                throw SearchGrammarError(
                    .invalidKey,
                    "Invalid \(noun) key '\(SearchGrammarError.excerpt(identifier.key))' specified. Valid keys are '\(SearchGrammarError.listDescription(map.keys.sorted()))'"
                )
            }
            key = entry.canonical
            rule = entry.rule
        }

        if case .known(let known) = comparator, known == .isNull || known == .isNotNull {
            guard rule.allows(known) else { throw nullNotSupported(entity: entity, key: key) }
            return FilterClause(entity: entity, key: key, comparator: known, value: .none)
        }

        // Value before comparator, as MLflow checks them (`_get_value` runs at parse time, the
        // comparator check when the store builds the query).
        let filterValue = try checkValue(value, rule: rule, entity: entity, key: key)

        guard case .known(let known) = comparator, rule.allows(known) else {
            throw SearchGrammarError(
                .invalidComparator,
                "Invalid comparator '\(comparator.text)' not one of '\(SearchGrammarError.setDescription(rule.comparators.map(\.rawValue)))'"
            )
        }
        if case .list = filterValue, known != .in, known != .notIn {
            throw SearchGrammarError(.invalidComparator, "Invalid comparator '\(known.rawValue)' for a list of values: use IN or NOT IN.")
        }
        return FilterClause(entity: entity, key: key, comparator: known, value: filterValue)
    }

    func checkValue(_ value: RawValue, rule: SearchFieldRule, entity: SearchEntity, key: String) throws(SearchGrammarError) -> FilterValue {
        switch rule.valueKind {
        case .number:
            switch value {
            case .number(let text):
                return .number(try Self.finiteNumber(text))
            case .quoted(let text) where rule.acceptsQuotedNumber && Self.isNumberLiteral(text):
                return .number(try Self.finiteNumber(text))
            default:
                if entity == .metric {
                    throw SearchGrammarError(.invalidValue, "Expected numeric value type for metric. Found \(value.shown)")
                }
                throw SearchGrammarError(.invalidValue, "Expected numeric value type for numeric attribute: \(key). Found \(value.shown)")
            }
        case .string:
            switch value {
            case .quoted(let text):
                return .string(text)
            case .list(let items):
                guard rule.allowsList else { throw listNotSupported(entity: entity) }
                return .list(items)
            case .number:
                throw SearchGrammarError(
                    .invalidValue,
                    "Expected a quoted string value for \(Self.valueNoun(entity)) (e.g. 'my-value'). Got value \(value.shown)")
            case .unquoted:
                throw SearchGrammarError(
                    .invalidValue,
                    "Parameter value is either not quoted or unidentified quote types used for string value \(value.shown). Use either single or double quotes."
                )
            case .none:
                throw SearchGrammarError(.syntax, "Missing value for \(Self.valueNoun(entity)) '\(SearchGrammarError.excerpt(key))'.")
            }
        }
    }

    static func finiteNumber(_ text: String) throws(SearchGrammarError) -> Double {
        guard let number = Double(text), number.isFinite else {
            throw SearchGrammarError(.invalidValue, "Numeric value \(SearchGrammarError.excerpt(text)) is out of range.")
        }
        return number
    }

    /// Whether `text` is exactly one numeric literal of the grammar (used for `'3'`).
    static func isNumberLiteral(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return false }
        let first = bytes[0]
        let startsNumber =
            SearchLexer.isDigit(first)
            || ((first == UInt8(ascii: "-") || first == UInt8(ascii: "."))
                && SearchLexer.startsNumber(bytes, at: first == UInt8(ascii: "-") ? 1 : 0))
        guard startsNumber, let end = try? SearchLexer.scanNumber(bytes, from: 0) else { return false }
        return end == bytes.count
    }

    func nullNotSupported(entity: SearchEntity, key: String) -> SearchGrammarError {
        var supported: [String] = []
        for candidate in [SearchEntity.tag, .param, .metric, .dataset] {
            if case .any(let rule)? = grammar.filterKeys[candidate], rule.allowsNull {
                supported.append(Self.pluralNoun(candidate))
            }
        }
        if supported.isEmpty {
            return SearchGrammarError(.invalidComparator, "IS NULL / IS NOT NULL is not supported when searching \(grammar.searchName).")
        }
        return SearchGrammarError(
            .invalidComparator,
            "IS NULL / IS NOT NULL is only supported for \(supported.joined(separator: " and ")), not for \(entity.rawValue) '\(SearchGrammarError.excerpt(key))'"
        )
    }

    func listNotSupported(entity: SearchEntity) -> SearchGrammarError {
        guard case .fixed(let map)? = grammar.filterKeys[entity] else {
            return SearchGrammarError(
                .invalidValue,
                "Expected a quoted string value for \(Self.valueNoun(entity)) (e.g. 'my-value'). Comparison with a list of values is not supported for \(Self.pluralNoun(entity)) when searching \(grammar.searchName)."
            )
        }
        let listKeys = Set(map.values.filter { $0.rule.allowsList }.map(\.canonical)).sorted()
        switch listKeys.count {
        case 0:
            return SearchGrammarError(
                .invalidValue, "No attribute supports comparison with a list of values when searching \(grammar.searchName).")
        case 1:
            return SearchGrammarError(
                .invalidValue, "Only the '\(listKeys[0])' attribute supports comparison with a list of quoted string values.")
        default:
            return SearchGrammarError(
                .invalidValue,
                "Only the attributes \(listKeys.map { "'\($0)'" }.joined(separator: ", ")) support comparison with a list of quoted string values."
            )
        }
    }

    static func valueNoun(_ entity: SearchEntity) -> String {
        switch entity {
        case .metric: "metric"
        case .param: "parameter"
        case .tag: "tag"
        case .attribute: "attributes"
        case .dataset: "dataset attributes"
        }
    }

    static func pluralNoun(_ entity: SearchEntity) -> String {
        switch entity {
        case .metric: "metrics"
        case .param: "params"
        case .tag: "tags"
        case .attribute: "attributes"
        case .dataset: "datasets"
        }
    }

    // MARK: - Order by

    mutating func parseOrderBy(original: String) throws(SearchGrammarError) -> OrderByClause {
        let unparsable = SearchGrammarError(
            .syntax, "Invalid order_by clause '\(SearchGrammarError.excerpt(original))'. Could not be parsed.")
        guard let first = peek(), startsIdentifier(first) else { throw unparsable }
        // MLflow splits order_by with shlex: `run name` is two words, not an aliased name.
        let identifier = try parseIdentifier(allowAlias: false)
        var ascending = true
        if let direction = next() {
            if direction.isKeyword("ASC") {
                ascending = true
            } else if direction.isKeyword("DESC") {
                ascending = false
            } else if direction.kind == .word {
                throw SearchGrammarError(.syntax, "Invalid ordering key in order_by clause '\(SearchGrammarError.excerpt(original))'.")
            } else {
                throw unparsable
            }
        }
        guard peek() == nil else { throw unparsable }

        let entity = try resolveEntity(identifier, forOrderBy: true)
        switch grammar.orderKeys[entity] {
        case .any?:
            return OrderByClause(entity: entity, key: identifier.key, ascending: ascending)
        case .fixed(let map)?:
            guard let canonical = map[identifier.key] else {
                throw SearchGrammarError(
                    .invalidKey,
                    "Invalid order_by key '\(SearchGrammarError.excerpt(identifier.key))' specified. Valid keys are '\(SearchGrammarError.listDescription(map.keys.sorted()))'"
                )
            }
            return OrderByClause(entity: entity, key: canonical, ascending: ascending)
        case nil:
            throw unparsable
        }
    }

    // MARK: - Identifiers

    func resolveEntity(_ identifier: RawIdentifier, forOrderBy: Bool) throws(SearchGrammarError) -> SearchEntity {
        // A bare name is an attribute; every profile has attributes.
        guard let prefix = identifier.prefix else { return .attribute }
        guard let entity = grammar.prefixes[prefix] else {
            throw SearchGrammarError(
                .invalidEntity,
                "Invalid entity type '\(SearchGrammarError.excerpt(prefix))'. Valid values are \(SearchGrammarError.listDescription(grammar.prefixNames))"
            )
        }
        if forOrderBy, grammar.orderKeys[entity] == nil {
            let allowed = SearchEntity.allCases.filter { grammar.orderKeys[$0] != nil }.map(Self.pluralNoun)
            throw SearchGrammarError(
                .invalidEntity,
                "Invalid order_by entity type '\(prefix)': \(grammar.searchName) can only be ordered by \(allowed.joined(separator: ", "))."
            )
        }
        return entity
    }

    func startsIdentifier(_ token: SearchToken) -> Bool {
        (token.kind == .word && !token.isReservedWord) || token.isQuotedName
    }

    /// Parses `name { "." name } [ alias ]` starting at the current token, which
    /// `startsIdentifier` accepted.
    ///
    /// The entity is the part before the first dot and the key is the rest, as in MLflow's
    /// `identifier.split(".", 1)`: `tags.mlflow.parentRunId` has the key `mlflow.parentRunId`.
    /// A quoted key is taken between its quotes, without decoding escapes (MLflow only trims the
    /// quotes). Keys that mix quoted and bare parts (``tags.a.`b` ``) are refused.
    mutating func parseIdentifier(allowAlias: Bool) throws(SearchGrammarError) -> RawIdentifier {
        let first = tokens[position]
        position += 1
        var segments = [first]
        var end = first.end
        while let dot = peek(), dot.kind == .dot, dot.start == end {
            guard let segment = peek(1), segment.start == dot.end, segment.kind == .word || segment.isQuotedName else {
                throw SearchGrammarError(
                    .syntax, "Invalid identifier '\(SearchGrammarError.excerpt(text(first.start, dot.end)))': expected a name after '.'.")
            }
            segments.append(segment)
            end = segment.end
            position += 2
        }
        let keySegments = segments.count == 1 ? segments[...] : segments.dropFirst()

        // sqlparse groups `name alias` into one identifier, which is how MLflow's `run name`
        // attribute alias works unquoted; the key keeps the whitespace as written.
        var aliasEnd: Int?
        if allowAlias, let word = peek(), word.kind == .word, word.start > end, !word.isReservedWord,
            keySegments.allSatisfy({ $0.kind == .word })
        {
            let gluedDot = peek(1).map { $0.kind == .dot && $0.start == word.end } ?? false
            if !gluedDot {
                aliasEnd = word.end
                position += 1
            }
        }
        let aliasSuffix = aliasEnd.map { text(end, $0) } ?? ""
        let written = text(first.start, aliasEnd ?? end)

        let prefix: String? = segments.count == 1 ? nil : (first.kind == .backtickQuoted ? first.text : source(first))
        let key: String
        if keySegments.count == 1, let only = keySegments.first {
            key = only.text + aliasSuffix
        } else if keySegments.allSatisfy({ $0.kind == .word }), let firstKey = keySegments.first {
            key = text(firstKey.start, end) + aliasSuffix
        } else {
            throw SearchGrammarError(
                .syntax, "Invalid identifier '\(SearchGrammarError.excerpt(written))': quote the whole key, e.g. tags.`mlflow.runName`.")
        }
        guard !key.isEmpty else {
            throw SearchGrammarError(.invalidKey, "Invalid identifier '\(SearchGrammarError.excerpt(written))': the key is empty.")
        }
        return RawIdentifier(prefix: prefix, key: key, text: written)
    }

    // MARK: - Token helpers

    func peek(_ offset: Int = 0) -> SearchToken? {
        let index = position + offset
        return index < tokens.count ? tokens[index] : nil
    }

    mutating func next() -> SearchToken? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    func text(_ start: Int, _ end: Int) -> String {
        SearchLexer.text(bytes, start, end)
    }

    /// The token as written, quotes included.
    func source(_ token: SearchToken) -> String {
        text(token.start, token.end)
    }

    func invalidClause(_ token: SearchToken) -> SearchGrammarError {
        SearchGrammarError(
            .invalidClause, "Invalid clause(s) in filter string: '\(SearchGrammarError.excerpt(source(token)))'", at: token.start)
    }
}
