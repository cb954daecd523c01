/// The run's view of `PipelineGraph`: the stages a run selects (DVC's rules) and the edges
/// both ways for the scheduler.
struct StageGraph: Sendable {
    let stages: [StageSpec]
    /// Stage name → the names of the stages it needs.
    let upstream: [String: Set<String>]
    let downstream: [String: Set<String>]

    init(_ spec: PipelineSpec) {
        let graph = PipelineGraph(spec)
        self.stages = spec.stages
        var upstream: [String: Set<String>] = [:]
        var downstream: [String: Set<String>] = [:]
        for stage in spec.stages {
            upstream[stage.name] = Set(graph.upstream[stage.name] ?? [])
            for needed in graph.upstream[stage.name] ?? [] { downstream[needed, default: []].insert(stage.name) }
        }
        self.upstream = upstream
        self.downstream = downstream
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
        StageGraph(spec).upstream
    }
}
