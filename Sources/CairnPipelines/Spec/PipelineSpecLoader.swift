import Foundation

/// Reads a pipeline spec: `cairn.yaml` (which wins) or `dvc.yaml`, DVC 3's stage schema so an
/// existing DVC pipeline runs unchanged, plus Cairn's keys. Templates are resolved and
/// `foreach`/`matrix` expanded as DVC does; anything the engine could not run is refused
/// here with `file:line:column: reason`.
///
/// Reads files (the spec, params and vars files, and checks that deps exist): call it where
/// blocking is allowed, not on the concurrency pool.
public struct PipelineSpecLoader: Sendable {
    /// The names looked for in a project directory, the first found wins.
    public static let fileNames = ["cairn.yaml", "dvc.yaml"]

    static let topLevelKeys = [
        "stages", "vars", "name", "schedule", "triggers", "concurrency",
        // DVC's project-level sections, which do not change what runs.
        "params", "metrics", "plots", "artifacts", "datasets",
    ]
    static let stageKeys = [
        "cmd", "gate", "wdir", "deps", "outs", "params", "metrics", "plots", "frozen", "always_changed", "desc", "meta",
        "vars", "retries", "backoff", "timeout", "resources", "executor",
    ]
    static let outputFlags = ["cache", "persist", "checkpoint", "remote", "push", "desc", "type", "labels", "meta"]
    static let plotFlags = outputFlags + ["template", "x", "y", "x_label", "y_label", "title", "header"]
    static let executors = ["local", "ray"]

    public init() {}

    /// Loads the spec of a project directory, or the spec file `path` names (its directory is
    /// then the project directory).
    public func load(at path: String) throws(PipelineSpecError) -> PipelineSpec {
        let absolute = SpecPath.normalize(
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw PipelineSpecError("no such file or directory", at: SourceLocation(file: absolute, line: 1))
        }
        let file: String
        if isDirectory.boolValue {
            guard let found = Self.fileNames.map({ absolute + "/" + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) })
            else {
                throw PipelineSpecError(
                    "no \(Self.fileNames.joined(separator: " or ")) in this directory", at: SourceLocation(file: absolute, line: 1))
            }
            file = found
        } else {
            file = absolute
        }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw PipelineSpecError("cannot read the spec: \(error.localizedDescription)", at: SourceLocation(file: file, line: 1))
        }
        return try load(text: text, file: file)
    }

    /// Loads spec text as if read from `file` (absolute; its directory is the project directory).
    public func load(text: String, file: String) throws(PipelineSpecError) -> PipelineSpec {
        let projectDirectory = (file as NSString).deletingLastPathComponent
        let parsed = try SpecNode.parseYAML(text, file: file)
        let start = SourceLocation(file: file, line: 1)
        // An empty file is an empty pipeline, as DVC reads it: nothing to run.
        let root = parsed.isNull ? SpecNode(.dict([]), at: parsed.location) : parsed
        guard let entries = root.entries else {
            throw PipelineSpecError("the spec must be a mapping with 'stages:', not \(root.typeName)", at: root.location)
        }
        try Self.checkKeys(entries, allowed: Self.topLevelKeys, in: "the top level")

        let files = ParamsFiles(projectDirectory: projectDirectory)
        var context = TemplateContext(files: files)
        try context.loadDefaultParams(directory: "", at: start)
        if let vars = root["vars"] { try context.load(vars: vars, directory: "", stage: nil) }

        // No `stages:` (or `stages: {}`, or `stages:` left empty) is a pipeline with nothing
        // to run, which DVC accepts: `repro` does nothing and `status` is empty.
        let stagesNode = root["stages"].flatMap { $0.isNull ? nil : $0 } ?? SpecNode(.dict([]), at: start)
        guard let stageEntries = stagesNode.entries else {
            throw PipelineSpecError(
                "'stages' must be a mapping of stage names to stages, not \(stagesNode.typeName)", at: stagesNode.location)
        }
        var stages: [StageSpec] = []
        var namedAt: [String: SourceLocation] = [:]
        var locations = SpecLocations()
        for entry in stageEntries {
            for stage in try expand(entry, context: context, &locations) {
                if let first = namedAt[stage.name] {
                    throw PipelineSpecError("duplicate stage name '\(stage.name)' (also defined at \(first))", at: stage.location)
                }
                namedAt[stage.name] = stage.location
                stages.append(stage)
            }
        }

        var spec = PipelineSpec(
            name: (projectDirectory as NSString).lastPathComponent, projectDirectory: projectDirectory, file: file, stages: stages)
        if let name = root["name"] { spec.name = try Self.nonEmptyString(name, "name") }
        if let schedule = root["schedule"] {
            let expression = try Self.nonEmptyString(schedule, "schedule")
            try Self.checkCron(expression, at: schedule)
            spec.schedule = expression
        }
        if let triggers = root["triggers"] { spec.triggers = try Self.triggers(triggers) }
        if let concurrency = root["concurrency"] { spec.concurrency = try Self.integer(concurrency, "concurrency", minimum: 1) }

        spec.stages = Self.linkGateCandidates(spec.stages)
        try SpecValidation(spec: spec, files: files, locations: locations).check()
        return spec
    }

    // MARK: Stages

    /// One entry of `stages:`, as the one stage or the stages its `foreach`/`matrix` makes.
    private func expand(_ entry: SpecEntry, context: TemplateContext, _ locations: inout SpecLocations) throws(PipelineSpecError)
        -> [StageSpec]
    {
        let name = entry.key
        let nameLocation = entry.keyLocation
        if name.isEmpty || name.contains(where: { "@:/\\".contains($0) }) {
            throw PipelineSpecError("invalid stage name '\(name)': it may not be empty or contain '@', ':', '/' or '\\'", at: nameLocation)
        }
        guard let definition = entry.value.entries else {
            throw PipelineSpecError("stage '\(name)' must be a mapping, not \(entry.value.typeName)", at: entry.value.location)
        }
        if entry.value["foreach"] != nil || entry.value["do"] != nil {
            try Self.checkKeys(definition, allowed: ["foreach", "do"], in: "stage '\(name)' (a foreach stage)")
            guard let foreach = entry.value["foreach"] else {
                throw PipelineSpecError("stage '\(name)' has 'do' without 'foreach'", at: nameLocation)
            }
            guard let template = entry.value["do"] else {
                throw PipelineSpecError("stage '\(name)' has 'foreach' without 'do'", at: nameLocation)
            }
            guard template.entries != nil else {
                throw PipelineSpecError("'do' of stage '\(name)' must be a mapping, not \(template.typeName)", at: template.location)
            }
            try TemplateSyntax.check(template)
            try TemplateSyntax.check(foreach)
            let data = try context.resolve(foreach, stageKey: nil)
            var items: [(key: String, item: SpecNode, setsKey: Bool)] = []
            switch data.value {
            case .dict(let entries):
                items = entries.map { ($0.key, $0.value, true) }
            case .list(let list):
                // A list of mappings or lists is named by index; a list of scalars by value.
                if list.contains(where: \.isContainer) {
                    items = list.enumerated().map { (String($0.offset), $0.element, false) }
                } else {
                    items = list.map { ($0.itemName(inTemplatedList: data.fromTemplate), $0, false) }
                }
            default:
                throw PipelineSpecError(
                    "failed to resolve 'stages.\(name).foreach': expected list/dictionary, got \(data.typeName)", at: foreach.location)
            }
            var stages: [StageSpec] = []
            for (key, item, setsKey) in items {
                let itemContext = context.with(item: item, key: setsKey ? key : nil, at: foreach.location)
                stages.append(try stage(named: "\(name)@\(key)", template, context: itemContext, at: nameLocation, &locations))
            }
            return stages
        }
        if let matrix = entry.value["matrix"] {
            guard let axes = matrix.entries, !axes.isEmpty else {
                throw PipelineSpecError("'matrix' of stage '\(name)' must be a non-empty mapping of names to lists", at: matrix.location)
            }
            try TemplateSyntax.check(matrix)
            var resolvedAxes: [(String, [SpecNode])] = []
            var templatedAxes: Set<String> = []
            for axis in axes {
                let values = try context.resolve(axis.value, stageKey: nil)
                guard let list = values.items, !list.isEmpty else {
                    throw PipelineSpecError(
                        "'matrix.\(axis.key)' of stage '\(name)' must be a non-empty list, not \(values.typeName)", at: axis.value.location)
                }
                resolvedAxes.append((axis.key, list))
                if values.fromTemplate { templatedAxes.insert(axis.key) }
            }
            var combinations: [[(String, Int, SpecNode)]] = [[]]
            for (axis, values) in resolvedAxes {
                combinations = combinations.flatMap { prefix in values.enumerated().map { prefix + [(axis, $0.offset, $0.element)] } }
            }
            let template = SpecNode(.dict(definition.filter { $0.key != "matrix" }), at: entry.value.location)
            try TemplateSyntax.check(template)
            var stages: [StageSpec] = []
            for combination in combinations {
                let key = combination.map { axis, index, value in
                    value.isContainer ? "\(axis)\(index)" : value.itemName(inTemplatedList: templatedAxes.contains(axis))
                }
                .joined(separator: "-")
                let item = SpecNode(
                    .dict(combination.map { SpecEntry(key: $0.0, keyLocation: matrix.location, value: $0.2) }), at: matrix.location)
                let itemContext = context.with(item: item, key: key, at: matrix.location)
                stages.append(try stage(named: "\(name)@\(key)", template, context: itemContext, at: nameLocation, &locations))
            }
            return stages
        }
        try TemplateSyntax.check(entry.value)
        return [try stage(named: name, entry.value, context: context, at: nameLocation, &locations)]
    }

    /// One stage from its definition, templates resolved with `context`.
    private func stage(
        named name: String, _ node: SpecNode, context: TemplateContext, at location: SourceLocation, _ locations: inout SpecLocations
    ) throws(PipelineSpecError) -> StageSpec {
        let definition = node.entries ?? []
        try Self.checkKeys(definition, allowed: Self.stageKeys, in: "stage '\(name)'")
        var context = context
        var wdir = ""
        if let wdirNode = node["wdir"] {
            let resolved = try context.resolve(wdirNode, stageKey: "wdir")
            guard let text = resolved.string ?? (resolved.isContainer || resolved.isNull ? nil : resolved.pythonString) else {
                throw PipelineSpecError("'wdir' of stage '\(name)' must be a string, not \(resolved.typeName)", at: wdirNode.location)
            }
            wdir = SpecPath.normalize(text)
            if wdir.hasPrefix("/") || wdir == ".." || wdir.hasPrefix("../") {
                throw PipelineSpecError("'wdir' of stage '\(name)' is outside the project directory: '\(text)'", at: wdirNode.location)
            }
        }
        if let vars = node["vars"] { try context.load(vars: vars, directory: wdir, stage: name) }

        var resolved: [String: SpecNode] = [:]
        for entry in definition where entry.key != "vars" && entry.key != "wdir" {
            resolved[entry.key] = try context.resolve(entry.value, stageKey: entry.key)
        }

        let kind: StageSpec.Kind
        switch (resolved["cmd"], resolved["gate"]) {
        case (let cmd?, nil): kind = .command(try Self.commands(cmd, stage: name))
        case (nil, let gate?): kind = .gate(try Self.gate(gate, stage: name, wdir: wdir))
        case (.some, .some):
            throw PipelineSpecError("stage '\(name)' has both 'cmd' and 'gate'; a stage runs one or the other", at: location)
        case (nil, nil):
            throw PipelineSpecError("stage '\(name)' has neither 'cmd' nor 'gate'", at: location)
        }
        var stage = StageSpec(name: name, kind: kind, workingDirectory: wdir, location: location)
        if let deps = resolved["deps"] {
            for (path, at) in try Self.paths(deps, "deps", stage: name) {
                stage.deps.append(path)
                locations.set(at, stage: name, .dep, path)
            }
        }
        if case .gate(let gate) = kind, !stage.deps.contains(gate.data) {
            // The held-out file is the gate's input: a dep, so its hash is the dataset version.
            stage.deps.append(gate.data)
            locations.set(resolved["gate"]?["data"]?.location ?? location, stage: name, .dep, gate.data)
        }
        for (key, flags) in [("outs", Self.outputFlags), ("metrics", Self.outputFlags), ("plots", Self.plotFlags)] {
            guard let node = resolved[key] else { continue }
            let outputs = try Self.outputs(node, key, flags: flags, stage: name)
            for (output, at) in outputs { locations.set(at, stage: name, .output, output.path) }
            switch key {
            case "outs": stage.outs = outputs.map { $0.0 }
            case "metrics": stage.metrics = outputs.map { $0.0 }
            default: stage.plots = outputs.map { $0.0 }
            }
        }
        if let params = resolved["params"] {
            stage.params = try Self.params(params, stage: name)
            for reference in stage.params { locations.set(params.location, stage: name, .params, reference.file) }
        }
        if let frozen = resolved["frozen"] { stage.frozen = try Self.bool(frozen, "frozen", stage: name) }
        if let always = resolved["always_changed"] { stage.alwaysChanged = try Self.bool(always, "always_changed", stage: name) }
        if let desc = resolved["desc"], desc.string == nil {
            throw PipelineSpecError("'desc' of stage '\(name)' must be a string, not \(desc.typeName)", at: desc.location)
        }
        if let retries = resolved["retries"] { stage.retries = try Self.integer(retries, "retries", minimum: 0) }
        if let backoff = resolved["backoff"] { stage.backoff = try Self.backoff(backoff) }
        if let timeout = resolved["timeout"] { stage.timeout = try Self.duration(timeout, "timeout") }
        if let resources = resolved["resources"] { stage.resources = try Self.resources(resources) }
        if let executor = resolved["executor"] {
            guard let text = executor.string, Self.executors.contains(text) else {
                throw PipelineSpecError(
                    "'executor' must be one of \(Self.executors.joined(separator: ", ")), not '\(executor.scalarText ?? executor.typeName)'",
                    at: executor.location)
            }
            stage.executor = text
        }
        return stage
    }

    /// A gate's candidate that names a file some stage writes (holding the version number) is
    /// a dep of the gate, so the gate runs after that stage.
    static func linkGateCandidates(_ stages: [StageSpec]) -> [StageSpec] {
        let written = Set(stages.flatMap { stage in stage.writtenPaths.map { SpecPath.join(stage.workingDirectory, $0) } })
        return stages.map { stage in
            guard case .gate(let gate) = stage.kind else { return stage }
            let candidate = gate.candidate
            guard written.contains(SpecPath.join(stage.workingDirectory, candidate)), !stage.deps.contains(candidate) else { return stage }
            var linked = stage
            linked.deps.append(candidate)
            return linked
        }
    }

    // MARK: Values

    static func checkKeys(_ entries: [SpecEntry], allowed: [String], in place: String) throws(PipelineSpecError) {
        for entry in entries where !allowed.contains(entry.key) {
            let guess =
                allowed.first { editDistance($0, entry.key) <= min(2, entry.key.count / 2) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw PipelineSpecError(
                "unknown key '\(entry.key)' in \(place)\(guess); allowed: \(allowed.joined(separator: ", "))", at: entry.keyLocation)
        }
    }

    /// Levenshtein distance, for suggesting the key a typo meant.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    private static func commands(_ node: SpecNode, stage: String) throws(PipelineSpecError) -> [String] {
        switch node.value {
        case .string(let text):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw PipelineSpecError("'cmd' of stage '\(stage)' is empty", at: node.location)
            }
            return [text]
        case .list(let items) where !items.isEmpty:
            var commands: [String] = []
            for item in items {
                guard let text = item.string else {
                    throw PipelineSpecError("each 'cmd' line of stage '\(stage)' must be a string, not \(item.typeName)", at: item.location)
                }
                commands.append(text)
            }
            return commands
        default:
            throw PipelineSpecError(
                "'cmd' of stage '\(stage)' must be a string or a non-empty list of strings, not \(node.typeName)", at: node.location)
        }
    }

    private static func stringList(_ node: SpecNode, _ key: String, stage: String) throws(PipelineSpecError) -> [SpecNode] {
        if node.isNull { return [] }
        guard let items = node.items else {
            throw PipelineSpecError("'\(key)' of stage '\(stage)' must be a list, not \(node.typeName)", at: node.location)
        }
        return items
    }

    private static func paths(_ node: SpecNode, _ key: String, stage: String) throws(PipelineSpecError) -> [(String, SourceLocation)] {
        var paths: [(String, SourceLocation)] = []
        for item in try stringList(node, key, stage: stage) {
            guard let text = item.string, !text.isEmpty else {
                throw PipelineSpecError(
                    "each entry of '\(key)' of stage '\(stage)' must be a path, not \(item.typeName)", at: item.location)
            }
            paths.append((SpecPath.isURL(text) ? text : SpecPath.normalize(text), item.location))
        }
        return paths
    }

    private static func outputs(_ node: SpecNode, _ key: String, flags: [String], stage: String) throws(PipelineSpecError)
        -> [(StageSpec.Output, SourceLocation)]
    {
        var outputs: [(StageSpec.Output, SourceLocation)] = []
        for item in try stringList(node, key, stage: stage) {
            switch item.value {
            case .string(let text) where !text.isEmpty:
                outputs.append((StageSpec.Output(path: SpecPath.normalize(text)), item.location))
            case .dict(let entries) where entries.count == 1:
                let path = entries[0]
                var output = StageSpec.Output(path: SpecPath.normalize(path.key))
                guard !path.key.isEmpty else { throw PipelineSpecError("an entry of '\(key)' has an empty path", at: path.keyLocation) }
                // Plots may give a list of property sets for one file.
                let sets = path.value.items ?? [path.value]
                for set in sets {
                    guard let settings = set.entries else {
                        throw PipelineSpecError(
                            "the settings of '\(path.key)' in '\(key)' of stage '\(stage)' must be a mapping, not \(set.typeName)",
                            at: set.location)
                    }
                    try checkKeys(settings, allowed: flags, in: "'\(key)' entry '\(path.key)' of stage '\(stage)'")
                    for setting in settings {
                        switch setting.key {
                        case "cache": output.cache = try bool(setting.value, "cache", stage: stage)
                        case "persist": output.persist = try bool(setting.value, "persist", stage: stage)
                        case "checkpoint", "push", "header": _ = try bool(setting.value, setting.key, stage: stage)
                        case "labels":
                            guard let labels = setting.value.items, labels.allSatisfy({ $0.string != nil }) else {
                                throw PipelineSpecError("'labels' must be a list of strings", at: setting.value.location)
                            }
                        case "meta", "x", "y": break
                        default:
                            guard setting.value.string != nil else {
                                throw PipelineSpecError(
                                    "'\(setting.key)' must be a string, not \(setting.value.typeName)", at: setting.value.location)
                            }
                        }
                    }
                }
                outputs.append((output, path.keyLocation))
            default:
                throw PipelineSpecError(
                    "each entry of '\(key)' of stage '\(stage)' must be a path or '{path: {settings}}', not \(item.typeName)",
                    at: item.location)
            }
        }
        return outputs
    }

    private static func params(_ node: SpecNode, stage: String) throws(PipelineSpecError) -> [StageSpec.ParamsReference] {
        var references: [StageSpec.ParamsReference] = []
        // nil: every key of the file.
        func add(_ file: String, _ keys: [String]?) {
            let file = SpecPath.normalize(file)
            if let index = references.firstIndex(where: { $0.file == file }) {
                if references[index].keys.isEmpty { return }
                if let keys {
                    references[index].keys += keys.filter { !references[index].keys.contains($0) }
                } else {
                    references[index].keys = []
                }
            } else {
                references.append(StageSpec.ParamsReference(file: file, keys: keys ?? []))
            }
        }
        for item in try stringList(node, "params", stage: stage) {
            switch item.value {
            case .string(let key) where !key.isEmpty:
                add("params.yaml", [key])
            case .dict(let entries):
                for entry in entries {
                    try ParamsFiles.refuseUnsupportedFormat(entry.key, at: entry.keyLocation)
                    if entry.value.isNull {
                        add(entry.key, nil)
                        continue
                    }
                    guard let keys = entry.value.items?.compactMap(\.string), keys.count == entry.value.items?.count else {
                        throw PipelineSpecError(
                            "the keys of '\(entry.key)' in 'params' of stage '\(stage)' must be a list of strings (or nothing, for all keys)",
                            at: entry.value.location)
                    }
                    add(entry.key, keys.isEmpty ? nil : keys)
                }
            default:
                throw PipelineSpecError(
                    "each entry of 'params' of stage '\(stage)' must be a key or '{file: [keys]}', not \(item.typeName)", at: item.location)
            }
        }
        return references
    }

    static func bool(_ node: SpecNode, _ key: String, stage: String) throws(PipelineSpecError) -> Bool {
        guard case .bool(let flag) = node.value else {
            throw PipelineSpecError("'\(key)' of stage '\(stage)' must be true or false, not \(node.typeName)", at: node.location)
        }
        return flag
    }

    static func number(_ node: SpecNode, _ key: String) throws(PipelineSpecError) -> Double {
        switch node.value {
        case .int(let value): return Double(value)
        case .float(let value) where value.isFinite: return value
        default: throw PipelineSpecError("'\(key)' must be a number, not \(node.typeName)", at: node.location)
        }
    }

    static func integer(_ node: SpecNode, _ key: String, minimum: Int) throws(PipelineSpecError) -> Int {
        guard case .int(let value) = node.value else {
            throw PipelineSpecError("'\(key)' must be an integer, not \(node.typeName)", at: node.location)
        }
        guard value >= minimum else { throw PipelineSpecError("'\(key)' must be at least \(minimum), not \(value)", at: node.location) }
        return value
    }

    private static func nonEmptyString(_ node: SpecNode, _ key: String) throws(PipelineSpecError) -> String {
        guard let text = node.string, !text.isEmpty else {
            throw PipelineSpecError("'\(key)' must be a non-empty string, not \(node.typeName)", at: node.location)
        }
        return text
    }

    private static func backoff(_ node: SpecNode) throws(PipelineSpecError) -> StageSpec.Backoff {
        var backoff = StageSpec.Backoff()
        if let entries = node.entries {
            try checkKeys(entries, allowed: ["initial", "factor", "max"], in: "'backoff'")
            for entry in entries {
                let value = try number(entry.value, "backoff.\(entry.key)")
                switch entry.key {
                case "initial": backoff.initial = value
                case "factor": backoff.factor = value
                default: backoff.maximum = value
                }
                let lowest = entry.key == "factor" ? 1.0 : 0.0
                guard value >= lowest else {
                    throw PipelineSpecError(
                        "'backoff.\(entry.key)' must be at least \(Int(lowest)), not \(value)", at: entry.value.location)
                }
            }
        } else {
            backoff.initial = try number(node, "backoff (seconds, or {initial, factor, max})")
            guard backoff.initial >= 0 else { throw PipelineSpecError("'backoff' must not be negative", at: node.location) }
        }
        return backoff
    }

    /// Seconds, or text such as `30s`, `10m`, `1h30m`, `2d`, `500ms`.
    static func duration(_ node: SpecNode, _ key: String) throws(PipelineSpecError) -> Double {
        if let text = node.string {
            let units: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400]
            var total = 0.0
            var rest = Substring(text.trimmingCharacters(in: .whitespaces))
            while !rest.isEmpty {
                guard let match = rest.prefixMatch(of: /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/),
                    let amount = Double(match.output.1), let unit = units[String(match.output.2)]
                else {
                    throw PipelineSpecError(
                        "'\(key)' must be seconds or a duration such as 30s, 10m, 1h30m, not '\(text)'", at: node.location)
                }
                total += amount * unit
                rest = rest[match.range.upperBound...]
            }
            guard total > 0 else { throw PipelineSpecError("'\(key)' must be more than zero, not '\(text)'", at: node.location) }
            return total
        }
        let seconds = try number(node, key)
        guard seconds > 0 else { throw PipelineSpecError("'\(key)' must be more than zero seconds, not \(seconds)", at: node.location) }
        return seconds
    }

    private static func resources(_ node: SpecNode) throws(PipelineSpecError) -> StageSpec.Resources {
        guard let entries = node.entries else {
            throw PipelineSpecError("'resources' must be a mapping of cpus, memory and gpus, not \(node.typeName)", at: node.location)
        }
        try checkKeys(entries, allowed: ["cpus", "memory", "gpus"], in: "'resources'")
        var resources = StageSpec.Resources()
        for entry in entries {
            switch entry.key {
            case "cpus", "gpus":
                let count = try number(entry.value, "resources.\(entry.key)")
                guard count >= 0 else { throw PipelineSpecError("'resources.\(entry.key)' must not be negative", at: entry.value.location) }
                if entry.key == "cpus" { resources.cpus = count } else { resources.gpus = count }
            default:
                resources.memory = try memory(entry.value)
            }
        }
        return resources
    }

    /// Bytes, or Kubernetes' quantities: `2G` (10^9), `512Mi` (2^20), `1.5Gi`, `100k`.
    static func memory(_ node: SpecNode) throws(PipelineSpecError) -> Int64 {
        if case .int(let bytes) = node.value, bytes > 0 { return Int64(bytes) }
        let units: [String: Double] = [
            "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824,
            "Ti": 1_099_511_627_776,
        ]
        if let text = node.string, let match = text.wholeMatch(of: /([0-9]+(?:\.[0-9]+)?)\s*([kKMGT]i?)?/),
            let amount = Double(match.output.1), let unit = units[String(match.output.2 ?? "")], amount * unit >= 1
        {
            return Int64((amount * unit).rounded())
        }
        throw PipelineSpecError(
            "'resources.memory' must be bytes or a quantity such as 2G, 512Mi, 1.5Gi, not '\(node.scalarText ?? node.typeName)'",
            at: node.location)
    }

    private static func triggers(_ node: SpecNode) throws(PipelineSpecError) -> [TriggerSpec] {
        guard let items = node.items else {
            throw PipelineSpecError(
                "'triggers' must be a list of {monitor: NAME}, {model: NAME, alias: A} or {data: PATH}", at: node.location)
        }
        var triggers: [TriggerSpec] = []
        for item in items {
            guard let entries = item.entries else {
                throw PipelineSpecError(
                    "a trigger must be {monitor: NAME}, {model: NAME, alias: A} or {data: PATH}, not \(item.typeName)", at: item.location)
            }
            if let monitor = item["monitor"] {
                try checkKeys(entries, allowed: ["monitor"], in: "a monitor trigger")
                triggers.append(.monitorAlert(monitor: try nonEmptyString(monitor, "monitor")))
            } else if let model = item["model"] {
                try checkKeys(entries, allowed: ["model", "alias"], in: "a model trigger")
                var alias: String?
                if let aliasNode = item["alias"] { alias = try nonEmptyString(aliasNode, "alias") }
                triggers.append(.modelVersion(model: try nonEmptyString(model, "model"), alias: alias))
            } else if let data = item["data"] {
                try checkKeys(entries, allowed: ["data"], in: "a data trigger")
                triggers.append(.dataChanged(path: SpecPath.normalize(try nonEmptyString(data, "data"))))
            } else {
                try checkKeys(entries, allowed: ["monitor", "model", "data"], in: "a trigger")
                throw PipelineSpecError("a trigger must name a monitor, a model or data", at: item.location)
            }
        }
        return triggers
    }
}
