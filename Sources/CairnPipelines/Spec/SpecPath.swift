/// Paths in a spec, normalised the one way the engine and the DAG compare them: no `./`, no
/// trailing `/`, no empty components, `..` folded where it can be.
enum SpecPath {
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !absolute {
                    parts.append(part)
                }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : joined
    }

    /// `path` (relative to `directory`, or absolute) as seen from the directory `directory` is in.
    static func join(_ directory: String, _ path: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return normalize(path) }
        return normalize(directory + "/" + path)
    }

    /// Whether `path` is `ancestor` or inside it.
    static func isWithin(_ path: String, _ ancestor: String) -> Bool {
        if ancestor.isEmpty { return !path.hasPrefix("/") && !path.hasPrefix("..") }
        return path == ancestor || path.hasPrefix(ancestor + "/")
    }

    /// A location outside the filesystem (`s3://…`, `https://…`), which DVC accepts as a dep.
    static func isURL(_ path: String) -> Bool {
        guard let range = path.firstRange(of: "://") else { return false }
        let scheme = path[..<range.lowerBound]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }
    }
}
