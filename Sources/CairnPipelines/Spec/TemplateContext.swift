import Foundation

/// The values `${…}` reads, built as DVC builds them: `params.yaml` beside the spec (whole, if
/// it exists), then the top-level `vars` in order, then a stage's own `vars`, merged without
/// overwriting (a key defined twice is refused, naming both sources); `item` and `key` are
/// set per `foreach`/`matrix` item and reserved while they are.
struct TemplateContext {
    private(set) var root: [SpecEntry] = []
    /// Where each merged leaf came from (`params.yaml`, `vars[0]`, `train.vars[1]`), by dotted path.
    private var sources: [String: String] = [:]
    /// Files merged so far (relative to the project), with the keys taken (nil: all).
    private var imports: [String: [String]?] = [:]
    private var reserved: Set<String> = []
    let files: ParamsFiles

    init(files: ParamsFiles) { self.files = files }

    // MARK: Loading

    /// A `vars` list: file references (`file.yaml`, `file.yaml:a,b`, relative to `directory`)
    /// and inline mappings.
    mutating func load(vars: SpecNode, directory: String, stage: String?) throws(PipelineSpecError) {
        if vars.isNull { return }
        guard let items = vars.items else {
            throw PipelineSpecError("'vars' must be a list of file names and mappings, not \(vars.typeName)", at: vars.location)
        }
        for (index, item) in items.enumerated() {
            try Self.refuseTemplates(in: item, what: stage.map { "'stages.\($0).vars'" } ?? "'vars'")
            switch item.value {
            case .string(let reference):
                try merge(file: reference, directory: directory, at: item.location)
            case .dict(let entries):
                let source = (stage.map { "\($0)." } ?? "") + "vars[\(index)]"
                try merge(entries, source: source, at: item.location)
            default:
                throw PipelineSpecError("a 'vars' entry must be a file name or a mapping, not \(item.typeName)", at: item.location)
            }
        }
    }

    /// `params.yaml` beside the spec, when it exists (DVC's default source of values).
    mutating func loadDefaultParams(directory: String, at location: SourceLocation) throws(PipelineSpecError) {
        let path = SpecPath.join(directory, "params.yaml")
        if files.exists(path) { try merge(file: "params.yaml", directory: directory, at: location) }
    }

    private mutating func merge(file reference: String, directory: String, at location: SourceLocation) throws(PipelineSpecError) {
        let name: Substring
        let keysText: Substring
        if let colon = reference.firstIndex(of: ":") {
            name = reference[..<colon]
            keysText = reference[reference.index(after: colon)...]
        } else {
            name = Substring(reference)
            keysText = ""
        }
        let path = SpecPath.join(directory, String(name))
        let keys = keysText.split(separator: ",").map(String.init).filter { !$0.isEmpty }
        let selected: [String]? = keys.isEmpty ? nil : keys
        if let previous = imports[path] {
            if selected == nil && previous == nil { return } // the whole file again: nothing new
            if selected == nil || previous == nil || !Set(selected!).isDisjoint(with: previous!) {
                let why = previous == nil ? "it is already loaded whole" : "it is already partially loaded"
                throw PipelineSpecError("cannot load '\(reference)' in 'vars': \(why)", at: location)
            }
        }
        let document = try files.load(path, referencedAt: location)
        guard var entries = document.entries else {
            throw PipelineSpecError("expected a dictionary, got '\(document.typeName)' in file '\(path)'", at: location)
        }
        if let selected {
            var picked: [SpecEntry] = []
            for key in selected {
                guard let entry = entries.first(where: { $0.key == key }) else {
                    throw PipelineSpecError("could not find '\(key)' in '\(path)'", at: location)
                }
                picked.append(entry)
            }
            entries = picked
        }
        try merge(entries, source: path, at: location)
        if let selected, case .some(.some(let previous)) = imports[path] {
            imports[path] = previous + selected
        } else {
            // `.some(nil)` records a whole file; assigning plain nil would forget it.
            imports[path] = .some(selected)
        }
    }

    private mutating func merge(_ entries: [SpecEntry], source: String, at location: SourceLocation) throws(PipelineSpecError) {
        let clash = entries.map(\.key).filter { reserved.contains($0) }
        if !clash.isEmpty {
            let keys = clash.map { "'\($0)'" }.joined(separator: " and ")
            throw PipelineSpecError("attempted to modify reserved key\(clash.count > 1 ? "s" : "") \(keys)", at: location)
        }
        root = try Self.merge(entries, into: root, path: "", source: source, sources: &sources, at: location)
    }

    private static func merge(
        _ update: [SpecEntry], into existing: [SpecEntry], path: String, source: String, sources: inout [String: String],
        at location: SourceLocation
    ) throws(PipelineSpecError) -> [SpecEntry] {
        var result = existing
        for entry in update {
            let dotted = path.isEmpty ? entry.key : "\(path).\(entry.key)"
            if let index = result.firstIndex(where: { $0.key == entry.key }) {
                if let old = result[index].value.entries, let new = entry.value.entries {
                    let merged = try merge(new, into: old, path: dotted, source: source, sources: &sources, at: location)
                    result[index].value.value = .dict(merged)
                    continue
                }
                let previous = sources[dotted] ?? Self.sourceOfAncestor(dotted, sources) ?? "?"
                throw PipelineSpecError(
                    "cannot redefine '\(dotted)' from '\(source)' as it already exists in '\(previous)'", at: location)
            }
            result.append(entry)
            sources[dotted] = source
        }
        return result
    }

    private static func sourceOfAncestor(_ dotted: String, _ sources: [String: String]) -> String? {
        var path = Substring(dotted)
        while let dot = path.lastIndex(of: ".") {
            path = path[..<dot]
            if let source = sources[String(path)] { return source }
        }
        return nil
    }

    /// Sets `item` (and `key`) for one `foreach`/`matrix` item and reserves them, so a stage's
    /// `vars` cannot redefine them.
    func with(item: SpecNode, key: String?, at location: SourceLocation) -> TemplateContext {
        var copy = self
        var names = ["item": item]
        if let key { names["key"] = SpecNode(.string(key), at: location) }
        for (name, value) in names.sorted(by: { $0.key < $1.key }) {
            copy.root.removeAll { $0.key == name }
            copy.root.append(SpecEntry(key: name, keyLocation: location, value: value))
            copy.reserved.insert(name)
        }
        return copy
    }

    static func refuseTemplates(in node: SpecNode, what: String) throws(PipelineSpecError) {
        switch node.value {
        case .string(let text):
            if let match = TemplateSyntax.matches(in: text).first {
                throw PipelineSpecError("interpolating is not allowed in \(what)", at: node.location(atOffset: match.start))
            }
        case .list(let items):
            for item in items { try refuseTemplates(in: item, what: what) }
        case .dict(let entries):
            for entry in entries {
                if !TemplateSyntax.matches(in: entry.key).isEmpty {
                    throw PipelineSpecError("interpolating is not allowed in \(what)", at: entry.keyLocation)
                }
                try refuseTemplates(in: entry.value, what: what)
            }
        default: break
        }
    }

    // MARK: Resolving

    /// The value at a dotted path (`a.b.0`), or nil.
    func select(_ path: String) -> SpecNode? {
        var parts = path.split(separator: ".", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !parts.isEmpty else { return nil }
        let first = parts.removeFirst()
        guard var node = root.first(where: { $0.key == first })?.value else { return nil }
        for part in parts {
            switch node.value {
            case .dict(let entries):
                guard let next = entries.first(where: { $0.key == part })?.value else { return nil }
                node = next
            case .list(let items):
                guard var index = Int(part) else { return nil }
                if index < 0 { index += items.count }
                guard items.indices.contains(index) else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }

    /// Resolves every string (and mapping key) under `node`. `stageKey` is the stage's
    /// top-level key the value sits under (`cmd`, `outs`…), which decides, as in DVC, whether a
    /// list or mapping may be interpolated (only a mapping, only into `cmd`); nil allows any
    /// (the data of `foreach` and `matrix`).
    func resolve(_ node: SpecNode, stageKey: String?) throws(PipelineSpecError) -> SpecNode {
        switch node.value {
        case .string(let text):
            return try resolve(string: text, in: node, stageKey: stageKey)
        case .list(let items):
            var resolved: [SpecNode] = []
            for item in items { resolved.append(try resolve(item, stageKey: stageKey)) }
            return SpecNode(.list(resolved), at: node.location)
        case .dict(let entries):
            var resolved: [SpecEntry] = []
            for entry in entries {
                let keyNode = SpecNode(.string(entry.key), at: entry.keyLocation, isPlainOneLine: true)
                let key = try resolve(string: entry.key, in: keyNode, stageKey: stageKey)
                guard let text = key.scalarText, !key.isContainer else {
                    throw PipelineSpecError("a mapping key must resolve to a scalar, not \(key.typeName)", at: entry.keyLocation)
                }
                resolved.append(SpecEntry(key: text, keyLocation: entry.keyLocation, value: try resolve(entry.value, stageKey: stageKey)))
            }
            return SpecNode(.dict(resolved), at: node.location)
        default:
            return node
        }
    }

    private func resolve(string text: String, in node: SpecNode, stageKey: String?) throws(PipelineSpecError) -> SpecNode {
        let matches = TemplateSyntax.matches(in: text)
        if matches.isEmpty {
            return SpecNode(.string(TemplateSyntax.unescape(text)), at: node.location, isPlainOneLine: node.isPlainOneLine)
        }
        if matches.count == 1, matches[0].start == 0, matches[0].end == text.unicodeScalars.count {
            // `${x}` alone keeps x's type (a number stays a number, a list a list).
            let value = try lookUp(matches[0], in: node, stageKey: stageKey)
            if stageKey == "cmd", case .dict = value.value {
                return SpecNode(.string(try Self.commandFlags(value, at: node.location, style: files.flagStyle)), at: node.location)
            }
            var placed = value
            placed.location = node.location
            placed.isPlainOneLine = false
            placed.fromTemplate = true
            return placed
        }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        for match in matches {
            output.append(contentsOf: scalars[index..<match.start])
            let value = try lookUp(match, in: node, stageKey: stageKey)
            if case .dict = value.value {
                output.append(
                    contentsOf: try Self.commandFlags(value, at: node.location(atOffset: match.start), style: files.flagStyle)
                        .unicodeScalars)
            } else {
                output.append(contentsOf: value.pythonString.unicodeScalars)
            }
            index = match.end
        }
        output.append(contentsOf: scalars[index...])
        return SpecNode(.string(TemplateSyntax.unescape(String(output))), at: node.location)
    }

    private func lookUp(_ match: TemplateSyntax.Match, in node: SpecNode, stageKey: String?) throws(PipelineSpecError) -> SpecNode {
        let where_ = node.location(atOffset: match.start)
        let path: String
        do {
            path = try TemplateSyntax.parse(match.inner)
        } catch {
            throw PipelineSpecError(
                "bad template '${\(match.inner)}': \(error.reason)", at: node.location(atOffset: match.start + 2 + error.offset))
        }
        guard let value = select(path) else {
            throw PipelineSpecError("undefined variable '\(path)' in '${\(match.inner)}'", at: where_)
        }
        if value.isContainer, let stageKey, !stageKey.contains("foreach") {
            if case .dict = value.value, stageKey == "cmd" { return value }
            throw PipelineSpecError("Cannot interpolate data of type '\(value.typeName)' into '\(stageKey)'", at: where_)
        }
        return value
    }

    /// A mapping interpolated into `cmd`, as DVC writes it: `--name value` per leaf (nested
    /// keys dotted), `--flag` for true, nothing for false (`--no-flag` with DVC's
    /// `parsing.bool: boolean_optional`), a list as `--name a b` (`--name a --name b` with
    /// `parsing.list: append`); strings shell-quoted.
    static func commandFlags(_ node: SpecNode, at location: SourceLocation, style: CommandFlagStyle = CommandFlagStyle())
        throws(PipelineSpecError) -> String
    {
        var leaves: [(String, SpecNode)] = []
        func flatten(_ entries: [SpecEntry], _ prefix: String) {
            for entry in entries {
                let name = prefix.isEmpty ? entry.key : "\(prefix).\(entry.key)"
                if let inner = entry.value.entries, !inner.isEmpty {
                    flatten(inner, name)
                } else {
                    leaves.append((name, entry.value))
                }
            }
        }
        flatten(node.entries ?? [], "")
        var result = ""
        for (name, value) in leaves {
            switch value.value {
            case .bool(let flag):
                if flag {
                    result += "--\(name) "
                } else if style.booleanOptional {
                    result += "--no-\(name) "
                }
            case .string(let text):
                result += "--\(name) \(shellQuote(text)) "
            case .list(let items):
                for (position, item) in items.enumerated() {
                    let text: String
                    switch item.value {
                    case .string(let string): text = shellQuote(string)
                    case .list, .dict: throw PipelineSpecError("Cannot interpolate nested iterable in '\(name)'", at: location)
                    // Python's f-string of a bool inside a list is `True`/`False`.
                    case .bool(let flag): text = flag ? "True" : "False"
                    default: text = item.pythonString
                    }
                    result += position > 0 && !style.listAppend ? "\(text) " : "--\(name) \(text) "
                }
            case .dict:
                break // an empty mapping has no leaves
            default:
                result += "--\(name) \(value.pythonString) "
            }
        }
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// Python's `shlex.quote`.
    static func shellQuote(_ text: String) -> String {
        if text.isEmpty { return "''" }
        let safe = text.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_@%+=:,./-".unicodeScalars.contains($0))
        }
        if safe { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }
}

/// `${…}` as DVC finds and parses it: a `${` not preceded by `\`, up to the first `}` on the
/// same line; inside, names separated by `.` or indexed with `[…]`.
enum TemplateSyntax {
    struct Match {
        /// Offsets in unicode scalars of `${` and just past `}`.
        var start: Int
        var end: Int
        var inner: String
    }

    struct SyntaxError: Error {
        var reason: String
        /// Offset inside the expression.
        var offset: Int
    }

    static func matches(in text: String) -> [Match] {
        let scalars = Array(text.unicodeScalars)
        var found: [Match] = []
        var index = 0
        while index + 1 < scalars.count {
            if scalars[index] == "$", scalars[index + 1] == "{", index == 0 || scalars[index - 1] != "\\" {
                var close = index + 2
                while close < scalars.count, scalars[close] != "}", scalars[close] != "\n" { close += 1 }
                if close < scalars.count, scalars[close] == "}" {
                    var inner = String.UnicodeScalarView()
                    inner.append(contentsOf: scalars[(index + 2)..<close])
                    found.append(Match(start: index, end: close + 1, inner: String(inner)))
                    index = close + 1
                    continue
                }
            }
            index += 1
        }
        return found
    }

    static func unescape(_ text: String) -> String { text.replacingOccurrences(of: "\\${", with: "${") }

    /// `a.b[0]` → `a.b.0`.
    static func parse(_ expression: String) throws(SyntaxError) -> String {
        let scalars = Array(expression.unicodeScalars)
        var index = 0
        var parts: [String] = []
        func word() throws(SyntaxError) -> String {
            let start = index
            while index < scalars.count, !".[]".unicodeScalars.contains(scalars[index]) { index += 1 }
            guard index > start else {
                let found = index < scalars.count ? "'\(scalars[index])'" : "the end"
                throw SyntaxError(reason: "expected a name, found \(found)", offset: index)
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<index])
            return String(text)
        }
        parts.append(try word())
        while index < scalars.count {
            switch scalars[index] {
            case ".":
                index += 1
                parts.append(try word())
            case "[":
                index += 1
                parts.append(try word())
                guard index < scalars.count, scalars[index] == "]" else {
                    throw SyntaxError(reason: "expected ']'", offset: index)
                }
                index += 1
            default:
                throw SyntaxError(reason: "unexpected '\(scalars[index])'", offset: index)
            }
        }
        return parts.joined(separator: ".")
    }

    /// Every `${…}` under `node` parses (DVC checks a whole stage before resolving any of it).
    static func check(_ node: SpecNode) throws(PipelineSpecError) {
        func checkText(_ text: String, _ at: SpecNode) throws(PipelineSpecError) {
            for match in matches(in: text) {
                do {
                    _ = try parse(match.inner)
                } catch {
                    throw PipelineSpecError(
                        "bad template '${\(match.inner)}': \(error.reason)", at: at.location(atOffset: match.start + 2 + error.offset))
                }
            }
        }
        switch node.value {
        case .string(let text): try checkText(text, node)
        case .list(let items): for item in items { try check(item) }
        case .dict(let entries):
            for entry in entries {
                try checkText(entry.key, SpecNode(.string(entry.key), at: entry.keyLocation, isPlainOneLine: true))
                try check(entry.value)
            }
        default: break
        }
    }
}

/// DVC's `parsing` settings (`.dvc/config`), which decide how a mapping interpolated into
/// `cmd` writes false booleans and lists.
struct CommandFlagStyle: Sendable, Equatable {
    /// `parsing.bool: boolean_optional`: false is `--no-name` (default `store_true`: nothing).
    var booleanOptional = false
    /// `parsing.list: append`: `--name a --name b` (default `nargs`: `--name a b`).
    var listAppend = false

    /// The settings of the DVC repository holding `directory` (the nearest `.dvc/` at or
    /// above it; `config.local` overriding `config`), or the defaults.
    static func dvcConfig(around directory: String) -> CommandFlagStyle {
        var style = CommandFlagStyle()
        var current = directory
        while true {
            let dvc = current + "/.dvc"
            if FileManager.default.fileExists(atPath: dvc) {
                for name in ["config", "config.local"] {
                    guard let text = try? String(contentsOfFile: dvc + "/" + name, encoding: .utf8) else { continue }
                    var inParsing = false
                    for raw in text.split(whereSeparator: \.isNewline) {
                        let line = raw.trimmingCharacters(in: .whitespaces)
                        if line.hasPrefix("[") {
                            inParsing = line.replacingOccurrences(of: " ", with: "") == "[parsing]"
                            continue
                        }
                        guard inParsing, let equals = line.firstIndex(of: "=") else { continue }
                        let key = line[..<equals].trimmingCharacters(in: .whitespaces)
                        let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                        if key == "bool" { style.booleanOptional = value == "boolean_optional" }
                        if key == "list" { style.listAppend = value == "append" }
                    }
                }
                return style
            }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return style }
            current = parent
        }
    }
}
