import Foundation

/// The stage DAG: a stage depends on every stage that writes (as an out, a metric or a plot)
/// a path one of its deps or params files is, is inside, or contains, as DVC links them.
public struct PipelineGraph: Sendable, Equatable {
    /// Stages in spec order.
    public let stages: [StageSpec]
    /// Stage → the stages it needs, in spec order.
    public let upstream: [String: [String]]

    public init(_ spec: PipelineSpec) {
        stages = spec.stages
        var upstream: [String: [String]] = [:]
        // Each written path with the index of the stage writing it.
        var written = PathOverlapIndex()
        var writer: [Int] = []
        for (index, stage) in spec.stages.enumerated() {
            for path in stage.writtenPaths {
                written.insert(SpecPath.join(stage.workingDirectory, path))
                writer.append(index)
            }
        }
        for (index, stage) in spec.stages.enumerated() {
            var needs = Set<Int>()
            for read in Self.readPaths(of: stage) {
                for entry in written.overlapping(read) where writer[entry] != index { needs.insert(writer[entry]) }
            }
            upstream[stage.name] = needs.sorted().map { spec.stages[$0].name }
        }
        self.upstream = upstream
    }

    /// Deps and params files, relative to the project.
    static func readPaths(of stage: StageSpec) -> [String] {
        (stage.deps + stage.params.map(\.file)).filter { !SpecPath.isURL($0) }.map { SpecPath.join(stage.workingDirectory, $0) }
    }

    /// One path is the other or inside it.
    static func overlap(_ a: String, _ b: String) -> Bool { SpecPath.isWithin(a, b) || SpecPath.isWithin(b, a) }

    /// The stages that need `stage`, in spec order.
    public func downstream(of stage: String) -> [String] {
        stages.map(\.name).filter { upstream[$0]?.contains(stage) == true }
    }

    /// A cycle as the stages along it, the first repeated at the end (`a`, `b`, `a`), or nil.
    public func cycle() -> [String]? {
        var state: [String: Int] = [:] // 1: on the path, 2: done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            state[name] = 1
            path.append(name)
            for next in upstream[name] ?? [] {
                if state[next] == 1, let start = path.firstIndex(of: next) {
                    // The path follows "needs" edges; report it in running order.
                    return (Array(path[start...]) + [next]).reversed()
                }
                if state[next] == nil, let found = visit(next) { return found }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for stage in stages where state[stage.name] == nil {
            if let found = visit(stage.name) { return found }
        }
        return nil
    }

    /// Every stage after the stages it needs, ties in spec order; nil when there is a cycle.
    public func topologicalOrder() -> [String]? {
        var remaining = upstream.mapValues { Set($0) }
        var order: [String] = []
        var pending = stages.map(\.name)
        while !pending.isEmpty {
            guard let next = pending.firstIndex(where: { remaining[$0]?.isEmpty ?? true }) else { return nil }
            let name = pending.remove(at: next)
            order.append(name)
            for key in remaining.keys { remaining[key]?.remove(name) }
        }
        return order
    }

    public enum Format: String, Sendable, CaseIterable {
        case dot, mermaid, json
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .dot: dot()
        case .mermaid: mermaid()
        case .json: json()
        }
    }

    /// Graphviz, as `dvc dag --dot` writes it (edges run from a stage to the stages needing it).
    public func dot() -> String {
        func quoted(_ name: String) -> String {
            "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["strict digraph {"]
        lines += stages.map { "\(quoted($0.name));" }
        for stage in stages {
            for need in upstream[stage.name] ?? [] { lines.append("\(quoted(need)) -> \(quoted(stage.name));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Mermaid flowchart, as `dvc dag --mermaid` writes it.
    public func mermaid() -> String {
        var ids: [String: String] = [:]
        var lines = ["flowchart TD"]
        for (index, stage) in stages.enumerated() {
            ids[stage.name] = "node\(index + 1)"
            let label = stage.name.replacingOccurrences(of: "\"", with: "#quot;")
            lines.append("\tnode\(index + 1)[\"\(label)\"]")
        }
        for stage in stages {
            for need in upstream[stage.name] ?? [] { lines.append("\t\(ids[need]!)-->\(ids[stage.name]!)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The resolved stages with their commands and edges, for tools and for comparing with
    /// what DVC resolves.
    public func json() -> String {
        let objects: [[String: Any]] = stages.map { stage in
            var object: [String: Any] = [
                "name": stage.name, "wdir": stage.workingDirectory, "deps": stage.deps, "outs": stage.outs.map(\.path),
                "metrics": stage.metrics.map(\.path), "plots": stage.plots.map(\.path), "upstream": upstream[stage.name] ?? [],
                "frozen": stage.frozen, "always_changed": stage.alwaysChanged, "executor": stage.executor,
                "params": stage.params.map { ["file": $0.file, "keys": $0.keys] as [String: Any] },
            ]
            switch stage.kind {
            case .command(let lines): object["cmd"] = lines
            case .gate(let gate):
                object["gate"] = ["model": gate.model, "candidate": gate.candidate, "alias": gate.alias, "data": gate.data]
            }
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["stages": objects], options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
