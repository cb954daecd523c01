/// Which stage feeds which, from paths: a stage depends on another when one of its deps is one
/// of the other's outs, inside one, or contains one (paths taken relative to the project).
/// The loader has already refused cycles and two writers of one path.
struct StageGraph: Sendable {
    let stages: [StageSpec]
    /// Stage name → the names of the stages it needs.
    let upstream: [String: Set<String>]
    let downstream: [String: Set<String>]

    init(_ stages: [StageSpec]) {
        self.stages = stages
        var writers: [(path: String, stage: String)] = []
        for stage in stages {
            for path in stage.writtenPaths { writers.append((Self.projectPath(path, wdir: stage.workingDirectory), stage.name)) }
        }
        var upstream: [String: Set<String>] = [:]
        var downstream: [String: Set<String>] = [:]
        for stage in stages {
            upstream[stage.name, default: []] = []
            for dep in stage.deps {
                let path = Self.projectPath(dep, wdir: stage.workingDirectory)
                for writer in writers where writer.stage != stage.name {
                    if writer.path == path || path.hasPrefix(writer.path + "/") || writer.path.hasPrefix(path + "/") {
                        upstream[stage.name, default: []].insert(writer.stage)
                        downstream[writer.stage, default: []].insert(stage.name)
                    }
                }
            }
        }
        self.upstream = upstream
        self.downstream = downstream
    }

    static func projectPath(_ path: String, wdir: String) -> String {
        var parts: [Substring] = []
        for part in ((wdir.isEmpty ? "" : wdir + "/") + path).split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == "..", !parts.isEmpty, parts.last != ".." {
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    func closure(of names: Set<String>, along edges: [String: Set<String>]) -> Set<String> {
        var seen = names
        var queue = Array(names)
        while let name = queue.popLast() {
            for next in edges[name] ?? [] where seen.insert(next).inserted { queue.append(next) }
        }
        return seen
    }

    /// The stages a run with these options considers, in file order (DVC's rules: targets with
    /// their upstream; `-s` the targets alone; `--downstream` the targets and what follows
    /// them; `--from S` is S with `--downstream`).
    func select(_ options: PipelineRunOptions) throws -> [StageSpec] {
        let known = Set(stages.map(\.name))
        var targets = Set(options.targets)
        if let from = options.from { targets.insert(from) }
        for target in targets where !known.contains(target) {
            throw PipelineEngineError.unknownStage(target, known: stages.map(\.name))
        }
        let targetNames = Set(options.targets)
        var selected: Set<String>
        if targetNames.isEmpty {
            selected = options.from == nil ? known : []
        } else if options.singleItem {
            selected = targetNames
        } else if options.downstream {
            selected = closure(of: targetNames, along: downstream)
        } else {
            selected = closure(of: targetNames, along: upstream)
        }
        if let from = options.from { selected.formUnion(closure(of: [from], along: downstream)) }
        return stages.filter { selected.contains($0.name) }
    }
}

extension PipelineEngine {
    /// Stage name → the stages it needs (for showing a pipeline).
    public static func upstream(of spec: PipelineSpec) -> [String: Set<String>] {
        StageGraph(spec.stages).upstream
    }
}
