/// Paths (normalised by `SpecPath`, relative to the project) indexed so that "which of them
/// overlap this path" (`PipelineGraph.overlap`: the same path, one inside the other) costs the
/// path's depth rather than the number of paths, which keeps reading a spec of thousands of
/// stages near-linear.
struct PathOverlapIndex {
    private(set) var paths: [String] = []
    /// Path → the indices of its entries.
    private var exact: [String: [Int]] = [:]
    /// Proper ancestor → the indices of the entries inside it.
    private var inside: [String: [Int]] = [:]

    mutating func insert(_ path: String) {
        let index = paths.count
        paths.append(path)
        exact[path, default: []].append(index)
        for ancestor in Self.properAncestors(of: path) { inside[ancestor, default: []].append(index) }
    }

    /// The indices of the paths equal to `path`, in insertion order.
    func equal(to path: String) -> [Int] { exact[path] ?? [] }

    /// The indices of the paths that overlap `path`, in insertion order, each once.
    func overlapping(_ path: String) -> [Int] {
        // The project root ("") contains every relative path, as `SpecPath.isWithin` says.
        if path.isEmpty { return Array(paths.indices.filter { !paths[$0].hasPrefix("/") && !paths[$0].hasPrefix("..") }) }
        var found = exact[path] ?? []
        found += inside[path] ?? []
        for ancestor in Self.properAncestors(of: path) { found += exact[ancestor] ?? [] }
        // An indexed "" contains `path` when it is relative and inside the project.
        if !path.hasPrefix("/"), !path.hasPrefix(".."), let roots = exact[""] { found += roots }
        return Array(Set(found)).sorted()
    }

    /// `a/b/c` → `a`, `a/b` (a leading `/` gives no empty ancestor).
    static func properAncestors(of path: String) -> [String] {
        var result: [String] = []
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            if slash != path.startIndex { result.append(String(path[..<slash])) }
            index = path.index(after: slash)
        }
        return result
    }
}
