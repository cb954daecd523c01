/// What a spec or params file may make the YAML reader do, checked before it parses: the
/// server reads specs, so one small hostile file must not crash it (the YAML composer recurses
/// once per nesting level, so thousands of levels overflow a thread's stack) or hold it (a
/// "billion laughs" of nested aliases; bounded by `maxNodes` while converting). Real specs are
/// a few levels deep and a few kilobytes; the limits are far above them.
enum YAMLLimits {
    static let maxBytes = 8 << 20
    /// Columns of indentation (block nesting needs at least one per level) and open flow
    /// brackets (`[`, `{`).
    static let maxIndentation = 200
    static let maxFlowDepth = 100
    /// Without aliases a document has fewer nodes than bytes, so twice its size (and at least
    /// 10,000) admits every alias-free document and any sane use of anchors.
    static func maxNodes(forBytes bytes: Int) -> Int { max(10_000, 2 * bytes) }

    static func check(_ text: String, file: String) throws(PipelineSpecError) {
        guard text.utf8.count <= maxBytes else {
            throw PipelineSpecError(
                "the file is \(text.utf8.count) bytes; specs and params files are limited to \(maxBytes) bytes",
                at: SourceLocation(file: file, line: 1))
        }
        var line = 1
        var column = 1
        var atLineStart = true
        var indentation = 0
        var flowDepth = 0
        var quote: UInt8? = nil
        var inComment = false
        var previous: UInt8 = UInt8(ascii: "\n")
        for byte in text.utf8 {
            defer {
                previous = byte
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
            if byte == UInt8(ascii: "\n") {
                atLineStart = true
                indentation = 0
                inComment = false
                // A quoted scalar may span lines; flow collections may too.
                continue
            }
            if atLineStart {
                // Compact nested sequences (`- - - x`) nest without indenting, so their
                // dashes count as indentation.
                if byte == UInt8(ascii: " ") || (byte == UInt8(ascii: "-") && quote == nil) {
                    indentation += 1
                    if indentation > maxIndentation {
                        throw PipelineSpecError(
                            "nested more than \(maxIndentation) columns deep; refusing to read it",
                            at: SourceLocation(file: file, line: line, column: column))
                    }
                    continue
                }
                atLineStart = false
            }
            if inComment { continue }
            if let open = quote {
                if byte == open { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t") || previous == UInt8(ascii: "\n"):
                inComment = true
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // Only a quote that starts a scalar opens one (`it's` in a plain scalar does not).
                let starts = [
                    UInt8(ascii: " "), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "\n"),
                ]
                if starts.contains(previous) { quote = byte }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flowDepth += 1
                if flowDepth > maxFlowDepth {
                    throw PipelineSpecError(
                        "more than \(maxFlowDepth) nested brackets; refusing to read it",
                        at: SourceLocation(file: file, line: line, column: column))
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flowDepth = max(0, flowDepth - 1)
            default:
                break
            }
        }
    }
}
