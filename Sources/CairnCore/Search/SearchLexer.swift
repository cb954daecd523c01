/// A token of MLflow's search grammar. Positions are UTF-8 byte offsets into the input.
struct SearchToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A bare name or keyword: `metrics`, `AND`, `run_id`.
        case word
        /// `'…'`: a string value.
        case singleQuoted
        /// `"…"`: a string value or a quoted name (sqlparse treats both alike).
        case doubleQuoted
        /// `` `…` ``: a quoted name.
        case backtickQuoted
        /// A numeric literal, sign included.
        case number
        /// A run of `<>=~!` (sqlparse's comparison operator class), e.g. `>=`, `<>`, `==`.
        case comparison
        case dot
        case leftParen
        case rightParen
        case comma
    }

    var kind: Kind
    /// Words, numbers, operators: the text. Quoted tokens: the raw text between the quotes.
    var text: String
    /// Offset of the first byte (the opening quote for quoted tokens).
    var start: Int
    /// Offset just past the last byte.
    var end: Int

    var isQuotedName: Bool { kind == .doubleQuoted || kind == .backtickQuoted }

    /// Case-insensitive keyword test (`and`, `And`, `AND`).
    func isKeyword(_ keyword: String) -> Bool {
        guard kind == .word else { return false }
        var lhs = text.utf8.makeIterator()
        var rhs = keyword.utf8.makeIterator()
        while true {
            switch (lhs.next(), rhs.next()) {
            case (nil, nil): return true
            case (let l?, let r?):
                if SearchLexer.asciiUpper(l) != SearchLexer.asciiUpper(r) { return false }
            default: return false
            }
        }
    }

    /// Words that are structure, never names: they cannot be an implicit alias (`run name`)
    /// and cannot start a clause.
    var isReservedWord: Bool {
        guard kind == .word else { return false }
        for keyword in SearchLexer.reservedWords where isKeyword(keyword) { return true }
        return false
    }
}

/// Splits a filter or order_by string into tokens, following `sqlparse`'s lexical rules as
/// MLflow sees them:
/// * strings: `'(''|\\\\|\\'|[^'])*'`, and the same with `"`; backticks double to escape;
/// * numbers: `-?\d+`, `-?\d+\.\d*`, `-?\.\d+`, optionally with `E-?\d+`, and never directly
///   followed by a letter or `_` (`1st`, `1e+5`, `0x1F` are not numbers);
/// * names: a letter, `_` or non-ASCII byte, then those, digits, `$` or `#`.
/// Everything else outside quotes (`;`, `#`, `+`, `[`, NUL…) is an error. Work is linear in
/// the input; the caller bounds the input size.
enum SearchLexer {
    static let reservedWords = [
        "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "RLIKE", "REGEXP", "GLOB",
        "MATCH", "SIMILAR", "BETWEEN", "ESCAPE", "ASC", "DESC",
    ]

    static func tokenize(_ bytes: [UInt8]) throws(SearchGrammarError) -> [SearchToken] {
        var tokens: [SearchToken] = []
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            if isSpace(byte) {
                index += 1
                continue
            }
            let start = index
            let kind: SearchToken.Kind
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                let (innerEnd, end) = try scanQuoted(bytes, from: start)
                kind = byte == UInt8(ascii: "'") ? .singleQuoted : byte == UInt8(ascii: "`") ? .backtickQuoted : .doubleQuoted
                tokens.append(SearchToken(kind: kind, text: text(bytes, start + 1, innerEnd), start: start, end: end))
                index = end
                continue
            case UInt8(ascii: "("):
                kind = .leftParen
                index += 1
            case UInt8(ascii: ")"):
                kind = .rightParen
                index += 1
            case UInt8(ascii: ","):
                kind = .comma
                index += 1
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "~"), UInt8(ascii: "!"):
                while index < count, isComparisonByte(bytes[index]) { index += 1 }
                kind = .comparison
            case UInt8(ascii: "-"):
                guard startsNumber(bytes, at: index + 1) else { throw unexpected(bytes, at: index) }
                index = try scanNumber(bytes, from: index)
                kind = .number
            case UInt8(ascii: "."):
                // `.5` is a number, but the dot in `metrics.x` (glued to a name) is not.
                let gluedToName = tokens.last.map { $0.end == index && ($0.kind == .word || $0.isQuotedName) } ?? false
                if !gluedToName, index + 1 < count, isDigit(bytes[index + 1]) {
                    index = try scanNumber(bytes, from: index)
                    kind = .number
                } else {
                    kind = .dot
                    index += 1
                }
            default:
                if isDigit(byte) {
                    index = try scanNumber(bytes, from: index)
                    kind = .number
                } else if isWordStart(byte) {
                    while index < count, isWordContinue(bytes[index]) { index += 1 }
                    kind = .word
                } else {
                    throw unexpected(bytes, at: index)
                }
            }
            tokens.append(SearchToken(kind: kind, text: text(bytes, start, index), start: start, end: index))
        }
        return tokens
    }

    /// Scans a quoted token starting at the opening quote; returns the offset of the closing
    /// quote and the offset past it.
    ///
    /// Inside `'…'` and `"…"`: a doubled quote, `\\` and `\<quote>` do not close the string.
    /// sqlparse's regex backtracks when the input ends without a closing quote: the most recent
    /// doubled or backslash-escaped quote then closes the string (so `'C:\'` is the value `C:\`).
    /// Only when there is none is the string unterminated.
    static func scanQuoted(_ bytes: [UInt8], from start: Int) throws(SearchGrammarError) -> (innerEnd: Int, end: Int) {
        let quote = bytes[start]
        let backslashEscapes = quote != UInt8(ascii: "`")
        let count = bytes.count
        var index = start + 1
        var fallbackClose: Int?
        while index < count {
            let byte = bytes[index]
            if byte == quote {
                if index + 1 < count, bytes[index + 1] == quote {
                    fallbackClose = index
                    index += 2
                    continue
                }
                return (index, index + 1)
            }
            if backslashEscapes, byte == UInt8(ascii: "\\"), index + 1 < count {
                let next = bytes[index + 1]
                if next == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if next == quote {
                    fallbackClose = index + 1
                    index += 2
                    continue
                }
            }
            index += 1
        }
        if let close = fallbackClose { return (close, close + 1) }
        let what = quote == UInt8(ascii: "`") ? "quoted name" : "string"
        throw SearchGrammarError(
            .syntax, "Unterminated \(what) starting at position \(start): \(SearchGrammarError.excerpt(text(bytes, start, count)))",
            at: start)
    }

    /// Scans a number starting at a digit, `-` or `.`; returns the offset past it.
    static func scanNumber(_ bytes: [UInt8], from start: Int) throws(SearchGrammarError) -> Int {
        let count = bytes.count
        var index = start
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        var integerDigits = 0
        while index < count, isDigit(bytes[index]) {
            index += 1
            integerDigits += 1
        }
        var hasDot = false
        var fractionDigits = 0
        if index < count, bytes[index] == UInt8(ascii: ".") {
            hasDot = true
            index += 1
            while index < count, isDigit(bytes[index]) {
                index += 1
                fractionDigits += 1
            }
        }
        // sqlparse's exponent form is `\d+(\.\d+)?E-?\d+`: no `+`, no bare trailing dot.
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e"), integerDigits > 0, !hasDot || fractionDigits > 0 {
            var exponent = index + 1
            if exponent < count, bytes[exponent] == UInt8(ascii: "-") { exponent += 1 }
            if exponent < count, isDigit(bytes[exponent]) {
                while exponent < count, isDigit(bytes[exponent]) { exponent += 1 }
                index = exponent
            }
        }
        if integerDigits + fractionDigits == 0 || (index < count && isWordContinue(bytes[index])) {
            var end = index
            while end < count, isWordContinue(bytes[end]) || bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: "+") { end += 1 }
            throw SearchGrammarError(
                .syntax, "Invalid number '\(SearchGrammarError.excerpt(text(bytes, start, end)))' at position \(start)", at: start)
        }
        return index
    }

    static func startsNumber(_ bytes: [UInt8], at index: Int) -> Bool {
        guard index < bytes.count else { return false }
        if isDigit(bytes[index]) { return true }
        return bytes[index] == UInt8(ascii: ".") && index + 1 < bytes.count && isDigit(bytes[index + 1])
    }

    static func unexpected(_ bytes: [UInt8], at index: Int) -> SearchGrammarError {
        let byte = bytes[index]
        let shown = byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\u{\(String(byte, radix: 16, uppercase: true))}"
        return SearchGrammarError(.syntax, "Invalid character '\(shown)' at position \(index)", at: index)
    }

    static func text(_ bytes: [UInt8], _ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Non-ASCII bytes count as letters: sqlparse's `\w` is Unicode-aware.
    @inline(__always) static func isWordStart(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    @inline(__always) static func isWordContinue(_ byte: UInt8) -> Bool {
        isWordStart(byte) || isDigit(byte) || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#")
    }

    @inline(__always) static func isComparisonByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "=")
            || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "!")
    }

    @inline(__always) static func asciiUpper(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte
    }
}
