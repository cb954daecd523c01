/// Where each path a stage names was written, for errors found once every stage is known.
struct SpecLocations {
    enum Role: Hashable { case dep, output, params }
    /// Every place a stage names a path in a role, in order (a stage may name one path twice).
    private var table: [String: [SourceLocation]] = [:]

    private static func key(_ stage: String, _ role: Role, _ path: String) -> String { "\(stage)\u{0}\(role)\u{0}\(path)" }

    mutating func set(_ location: SourceLocation, stage: String, _ role: Role, _ path: String) {
        table[Self.key(stage, role, path), default: []].append(location)
    }

    /// Where the `occurrence`-th (0-based) mention is.
    func location(_ stage: StageSpec, _ role: Role, _ path: String, occurrence: Int = 0) -> SourceLocation {
        let all = table[Self.key(stage.name, role, path)] ?? []
        return all.indices.contains(occurrence) ? all[occurrence] : all.last ?? stage.location
    }
}

/// The checks that need every stage: outputs written twice or nested in another's, a stage
/// reading its own output, deps and params files nobody makes that do not exist, cycles.
struct SpecValidation {
    let spec: PipelineSpec
    let files: ParamsFiles
    let locations: SpecLocations

    func check() throws(PipelineSpecError) {
        var written: [(stage: StageSpec, path: String, asWritten: String, at: SourceLocation)] = []
        // The same paths, indexed: each check below looks up what overlaps one path instead of
        // walking every output (which made thousands of stages quadratic).
        var index = PathOverlapIndex()
        for stage in spec.stages {
            var seen: [String: Int] = [:]
            for path in stage.writtenPaths {
                let inProject = SpecPath.join(stage.workingDirectory, path)
                let at = locations.location(stage, .output, path, occurrence: seen[path, default: 0])
                seen[path, default: 0] += 1
                if inProject.hasPrefix("/") || inProject == ".." || inProject.hasPrefix("../") || inProject.isEmpty {
                    throw PipelineSpecError("output '\(path)' of stage '\(stage.name)' is outside the project directory", at: at)
                }
                if let first = index.overlapping(inProject).first {
                    let earlier = written[first]
                    if earlier.path == inProject {
                        let who = earlier.stage.name == stage.name ? "stage '\(stage.name)' itself" : "stage '\(earlier.stage.name)'"
                        throw PipelineSpecError(
                            "output '\(inProject)' of stage '\(stage.name)' is also written by \(who) (at \(earlier.at))",
                            at: at)
                    }
                    let (inner, outer) =
                        SpecPath.isWithin(inProject, earlier.path) ? (inProject, earlier.path) : (earlier.path, inProject)
                    throw PipelineSpecError(
                        "output '\(inProject)' of stage '\(stage.name)' overlaps output '\(earlier.path)' of stage '\(earlier.stage.name)' (at \(earlier.at)): '\(inner)' is inside '\(outer)'",
                        at: at)
                }
                written.append((stage, inProject, path, at))
                index.insert(inProject)
            }
        }
        for stage in spec.stages {
            for dep in stage.deps where !SpecPath.isURL(dep) {
                let inProject = SpecPath.join(stage.workingDirectory, dep)
                let at = locations.location(stage, .dep, dep)
                let makers = index.overlapping(inProject).map { written[$0] }
                if let own = makers.first(where: { $0.stage.name == stage.name }) {
                    throw PipelineSpecError(
                        "'\(dep)' is both a dep and an output ('\(own.asWritten)') of stage '\(stage.name)'", at: at)
                }
                if makers.isEmpty && !files.exists(inProject) {
                    throw PipelineSpecError(
                        "dep '\(dep)' of stage '\(stage.name)' is made by no stage and does not exist (\(files.absolute(inProject)))",
                        at: at)
                }
            }
            for reference in stage.params {
                let inProject = SpecPath.join(stage.workingDirectory, reference.file)
                let at = locations.location(stage, .params, reference.file)
                if !index.equal(to: inProject).isEmpty { continue }
                guard files.exists(inProject) else {
                    throw PipelineSpecError(
                        "params file '\(reference.file)' of stage '\(stage.name)' is made by no stage and does not exist (\(files.absolute(inProject)))",
                        at: at)
                }
                let document = try files.load(inProject, referencedAt: at)
                for key in reference.keys where Self.lookUp(key, in: document) == nil {
                    throw PipelineSpecError("param '\(key)' of stage '\(stage.name)' is not in '\(reference.file)'", at: at)
                }
            }
        }
        let graph = PipelineGraph(spec)
        if let cycle = graph.cycle(), let first = spec.stage(named: cycle[0]) {
            throw PipelineSpecError("the stages form a cycle: \(cycle.joined(separator: " -> "))", at: first.location)
        }
    }

    /// A dotted key (`train.lr`) in a params document.
    static func lookUp(_ key: String, in document: SpecNode) -> SpecNode? {
        var node = document
        for part in key.split(separator: ".", omittingEmptySubsequences: false) {
            switch node.value {
            case .dict(let entries):
                guard let next = entries.first(where: { $0.key == part })?.value else { return nil }
                node = next
            case .list(let items):
                guard let index = Int(part), items.indices.contains(index) else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }
}
