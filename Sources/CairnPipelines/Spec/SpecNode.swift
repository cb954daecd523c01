import Foundation
import Yams

/// A YAML (or JSON) value as DVC sees it (ruamel's YAML 1.2 safe loader: `yes` is a string,
/// `1e-5` a float, `010` the int 10), with where each value was written so every refusal can
/// name its line and column.
struct SpecNode: Sendable {
    indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case list([SpecNode])
        case dict([SpecEntry])
    }

    var value: Value
    var location: SourceLocation
    /// A plain scalar on one line: a character's column is the scalar's column plus its offset.
    var isPlainOneLine: Bool = false
    /// The value a whole-value `${…}` gave. DVC names a `foreach`/`matrix` item from such a
    /// value with Python's `str()` (`True`), but from a literal with its own `to_str` (`true`).
    var fromTemplate: Bool = false

    init(_ value: Value, at location: SourceLocation, isPlainOneLine: Bool = false) {
        self.value = value
        self.location = location
        self.isPlainOneLine = isPlainOneLine
    }

    /// The name DVC gives a `foreach`/`matrix` item with this value; `fromTemplate` when the
    /// list it is in came from a template.
    func itemName(inTemplatedList: Bool) -> String {
        if case .bool(let flag) = value, fromTemplate || inTemplatedList { return flag ? "True" : "False" }
        return pythonString
    }

    /// Python's type name, as DVC's messages say it.
    var typeName: String {
        switch value {
        case .null: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .list: "list"
        case .dict: "dict"
        }
    }

    var string: String? {
        if case .string(let text) = value { return text }
        return nil
    }
    var entries: [SpecEntry]? {
        if case .dict(let entries) = value { return entries }
        return nil
    }
    var items: [SpecNode]? {
        if case .list(let items) = value { return items }
        return nil
    }
    var isNull: Bool {
        if case .null = value { return true }
        return false
    }
    var isContainer: Bool {
        switch value {
        case .list, .dict: true
        default: false
        }
    }

    subscript(key: String) -> SpecNode? { entries?.first { $0.key == key }?.value }

    /// Where the character at `offset` (in unicode scalars) of this scalar is, when that can
    /// be counted; else the scalar's start.
    func location(atOffset offset: Int) -> SourceLocation {
        guard isPlainOneLine else { return location }
        var shifted = location
        shifted.column += offset
        return shifted
    }
}

struct SpecEntry: Sendable {
    var key: String
    var keyLocation: SourceLocation
    var value: SpecNode
}

extension SpecNode {
    /// Parses a YAML document; an empty document is `null`. Duplicate keys are refused, as
    /// ruamel (DVC's parser) refuses them.
    static func parseYAML(_ text: String, file: String) throws(PipelineSpecError) -> SpecNode {
        try YAMLLimits.check(text, file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw PipelineSpecError("malformed YAML: \(error)", at: SourceLocation(file: file, line: 1))
        }
        guard let node else { return SpecNode(.null, at: SourceLocation(file: file, line: 1)) }
        var budget = YAMLLimits.maxNodes(forBytes: text.utf8.count)
        return try convert(node, file: file, budget: &budget)
    }

    private static func yamlError(_ error: YamlError, file: String) -> PipelineSpecError {
        switch error {
        case .scanner(let context, let problem, let mark, let yaml), .parser(let context, let problem, let mark, let yaml),
            .composer(let context, let problem, let mark, let yaml):
            var what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            // `[data/${item}]`: in a flow list or mapping `{` is YAML's, so a template must be quoted.
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            let nearby = lines.indices.contains(mark.line - 1) ? lines[mark.line - 1] : ""
            if what.contains("flow"), nearby.contains("${") {
                what += " (inside [...] or {...}, quote a value holding ${...}: [\"data/${item}\"])"
            }
            return PipelineSpecError("malformed YAML: \(what)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .reader(let problem, let offset, _, let yaml):
            var line = 1
            var column = 1
            if let offset {
                for scalar in yaml.unicodeScalars.prefix(offset) {
                    if scalar == "\n" {
                        line += 1
                        column = 1
                    } else {
                        column += 1
                    }
                }
            }
            return PipelineSpecError("malformed YAML: \(problem)", at: SourceLocation(file: file, line: line, column: column))
        default:
            return PipelineSpecError("malformed YAML: \(error)", at: SourceLocation(file: file, line: 1))
        }
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String, budget: inout Int) throws(PipelineSpecError) -> SpecNode {
        let here = location(node.mark, file)
        // Aliases are shared in the composed tree but copied here, so a few nested ones
        // (a "billion laughs") would expand without end: the walk has a node budget.
        budget -= 1
        guard budget >= 0 else {
            throw PipelineSpecError(
                "the file expands to far more YAML nodes than it has bytes (aliases of aliases?); refusing to read it", at: here)
        }
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return SpecNode(.string(scalar.string), at: here) }
            let oneLine = !scalar.string.contains("\n")
            return SpecNode(resolvePlain(scalar.string), at: here, isPlainOneLine: oneLine)
        case .sequence(let sequence):
            var items: [SpecNode] = []
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return SpecNode(.list(items), at: here)
        case .mapping(let mapping):
            var entries: [SpecEntry] = []
            var merged: [SpecEntry] = []
            // Key → its entry's index: a linear search per key made a mapping of thousands of
            // stages quadratic.
            var positions: [String: Int] = [:]
            for (key, value) in mapping {
                let keyNode = try convert(key, file: file, budget: &budget)
                if case .scalar(let scalar) = key, scalar.style == .plain, scalar.string == "<<" {
                    // YAML merge keys (`<<: *defaults`), which ruamel's safe loader applies.
                    let source = try convert(value, file: file, budget: &budget)
                    let sources = source.items ?? [source]
                    for part in sources {
                        guard let partEntries = part.entries else {
                            throw PipelineSpecError("a merge key (<<) needs a mapping or a list of mappings", at: part.location)
                        }
                        merged.append(contentsOf: partEntries)
                    }
                    continue
                }
                let text = keyNode.scalarText ?? ""
                if case .list = keyNode.value {
                    throw PipelineSpecError("a mapping key must be a scalar", at: keyNode.location)
                }
                if case .dict = keyNode.value {
                    throw PipelineSpecError("a mapping key must be a scalar", at: keyNode.location)
                }
                if let first = positions[text] {
                    throw PipelineSpecError(
                        "duplicate key '\(text)' (first at line \(entries[first].keyLocation.line))", at: keyNode.location)
                }
                positions[text] = entries.count
                entries.append(SpecEntry(key: text, keyLocation: keyNode.location, value: try convert(value, file: file, budget: &budget)))
            }
            for entry in merged where positions[entry.key] == nil {
                positions[entry.key] = entries.count
                entries.append(entry)
            }
            return SpecNode(.dict(entries), at: here)
        }
    }

    /// YAML 1.2's core schema as ruamel applies it.
    static func resolvePlain(_ text: String) -> Value {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        func integer(_ digits: Substring, radix: Int) -> Value? {
            let cleaned = digits.filter { $0 != "_" }
            guard !cleaned.isEmpty, let magnitude = Int(cleaned, radix: radix) else { return nil }
            return .int(negative ? -magnitude : magnitude)
        }
        if body.hasPrefix("0x"), let value = integer(body.dropFirst(2), radix: 16) { return value }
        if body.hasPrefix("0o"), let value = integer(body.dropFirst(2), radix: 8) { return value }
        if body.hasPrefix("0b"), let value = integer(body.dropFirst(2), radix: 2) { return value }
        if !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }), body.first != "_",
            let value = integer(body, radix: 10)
        {
            return value
        }
        if text.wholeMatch(of: /[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+/) != nil,
            text.contains(where: \.isNumber), let value = Double(text.filter { $0 != "_" })
        {
            return .float(value)
        }
        return .string(text)
    }

    /// The text of a scalar as a key or a name (`1` for the int 1, `true` for a bool).
    var scalarText: String? {
        switch value {
        case .null: ""
        case .bool, .int, .float, .string: pythonString
        case .list, .dict: nil
        }
    }
}

extension SpecNode {
    /// Python's `str()` of the value after DVC's `to_str` (booleans are `true`/`false`), for
    /// scalars interpolated into text and for `foreach`/`matrix` names.
    var pythonString: String {
        switch value {
        case .null: "None"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .float(let number): pythonFloat(number)
        case .string(let text): text
        case .list(let items): "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dict(let entries): "{" + entries.map { "'\($0.key)': \($0.value.pythonRepr)" }.joined(separator: ", ") + "}"
        }
    }

    private var pythonRepr: String {
        switch value {
        case .string(let text): "'\(text)'"
        case .bool(let flag): flag ? "True" : "False"
        default: pythonString
        }
    }

    /// Python's `repr(float)`: shortest round-trip digits, `1.0` not `1`, `1e-05` not `1e-5`.
    private func pythonFloat(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        let swift = "\(number)"
        // Swift writes exponents as `1e-05`/`1e+16` like Python; it switches to exponent
        // notation at 2^53 where Python switches at 1e16.
        if swift.contains("e") || abs(number) < 1e16 { return swift }
        let exponent = Int(log10(abs(number)).rounded(.down))
        let mantissa = number / pow(10, Double(exponent))
        var digits = "\(mantissa)"
        if digits.hasSuffix(".0") { digits.removeLast(2) }
        return "\(digits)e+\(exponent < 10 ? "0" : "")\(exponent)"
    }
}
