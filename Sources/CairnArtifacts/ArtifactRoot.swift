#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The artifact root directory and the path resolution every local operation goes through.
/// All methods block; callers run them on a thread pool.
///
/// Why this is safe against symbolic links, including ones swapped in while a request runs:
/// * every directory on the way is opened relative to its parent with
///   `openat(…, O_DIRECTORY | O_NOFOLLOW)`, and every final operation (`openat`, `fstatat`,
///   `renameat`, `unlinkat`) is relative to that descriptor, so nothing is resolved by path;
/// * a link is only followed deliberately: its target is resolved with `realpath(3)`, must lie
///   under the root's own `realpath`, and is then walked again from the root with
///   `O_NOFOLLOW`. A link that is replaced after the check is met again by that walk and
///   checked again; a dangling link, a loop or too many hops is refused;
/// * links inside the root that stay inside it keep working, like MLflow's local store after
///   its symlink fix (mlflow#18964).
struct ArtifactRoot: Sendable {
    /// The root's canonical absolute path.
    let path: String
    /// Kept open so the root stays the same directory even if its path is renamed.
    private let descriptor: FileDescriptor

    /// `SYMLOOP_MAX` on Linux; also bounds retries when the tree changes under a walk.
    static let maxLinkHops = 40

    enum Failure: Error {
        /// A link leaves the root, dangles or loops: the client gets "Invalid path".
        case unsafe
        /// A directory on the way does not exist.
        case missing
        /// A non-directory sits where the path needs a directory.
        case notADirectory
        case storage(ArtifactStorageError)
    }

    /// What to do when a directory on the way does not exist.
    enum MissingDirectories {
        case fail, create, stop
    }

    /// An open directory and its root-relative path without links.
    struct Directory {
        let descriptor: FileDescriptor
        let segments: [String]
    }

    enum Location {
        /// The path is the root itself (or a link to it).
        case root
        /// `name` inside `parent`; `status` is `nil` when there is no such entry, and is never
        /// a link when links are followed.
        case entry(parent: Directory, name: String, status: FileStatus?)
        /// Only with `.stop`: `deepest` is the deepest existing directory on the way and
        /// `missing` what is left to create, ending with the final name.
        case below(deepest: Directory, missing: [String])
    }

    /// Opens (and creates if needed) the root. Blocks; meant for start-up.
    init(path: String) throws {
        try Self.makeDirectories(path)
        let canonical = try POSIX.realPath(path)
        self.path = canonical
        self.descriptor = try POSIX.open(canonical, O_RDONLY | O_DIRECTORY)
    }

    /// `mkdir -p` for the operator-supplied root, the only path-based creation.
    private static func makeDirectories(_ path: String) throws(ArtifactStorageError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o777) != 0, errno != EEXIST {
                throw .last("mkdir")
            }
        }
    }

    // MARK: - Walking

    /// A fresh descriptor on the root: directory reads must not share the root's offset.
    func openRoot() throws(Failure) -> FileDescriptor {
        do {
            return try POSIX.openAt(descriptor, ".", O_RDONLY | O_DIRECTORY)
        } catch {
            throw .storage(error)
        }
    }

    /// Absolute path of root-relative segments, for `realpath` only.
    func absolute(_ segments: [String]) -> String {
        segments.isEmpty ? path : (path == "/" ? "" : path) + "/" + segments.joined(separator: "/")
    }

    /// Root-relative segments of a canonical absolute path, or `nil` if it is outside.
    private func relative(_ canonical: String) -> [String]? {
        if canonical == path { return [] }
        let prefix = path == "/" ? "/" : path + "/"
        guard canonical.hasPrefix(prefix) else { return nil }
        return canonical.dropFirst(prefix.count).split(separator: "/").map(String.init)
    }

    /// The root-relative target of the link `name` in the directory at `segments`.
    func linkTarget(in segments: [String], _ name: String) throws(Failure) -> [String] {
        let target: String
        do {
            target = try POSIX.realPath(absolute(segments + [name]))
        } catch {
            // ENOENT (dangling), ELOOP, EACCES: the target cannot be shown to be inside.
            throw .unsafe
        }
        guard let segments = relative(target) else { throw .unsafe }
        return segments
    }

    /// Opens the directory at `segments`, following only links that stay inside the root.
    /// - Returns: the deepest directory opened and the segments below it that do not exist
    ///   (always empty unless `missing` is `.stop`).
    func walk(_ segments: [String], missing: MissingDirectories) throws(Failure) -> (Directory, remaining: [String]) {
        var current = try openRoot()
        var canonical: [String] = []
        var queue = segments
        var index = 0
        // Bounds: links followed, and retries when the tree changes under the walk.
        var hops = 0
        var races = 0
        var created = false
        func raced() throws(Failure) {
            races += 1
            guard races <= Self.maxLinkHops else {
                throw .storage(ArtifactStorageError(operation: "directory kept changing during lookup", code: 0))
            }
        }
        while index < queue.count {
            let name = queue[index]
            let opened: FileDescriptor
            do {
                opened = try POSIX.openDirectoryAt(current, name)
            } catch {
                switch error.code {
                case ENOENT:
                    switch missing {
                    case .fail:
                        throw .missing
                    case .stop:
                        return (Directory(descriptor: current, segments: canonical), Array(queue[index...]))
                    case .create:
                        if created { try raced() }
                        do {
                            try POSIX.makeDirectoryAt(current, name)
                            created = true
                        } catch  where error.code == EEXIST {
                            try raced() // created concurrently; open it on the next pass
                        } catch {
                            throw .storage(error)
                        }
                    }
                case ELOOP, ENOTDIR, EMLINK:
                    let status: FileStatus
                    do {
                        status = try POSIX.statAt(current, name)
                    } catch  where error.code == ENOENT {
                        try raced()
                        continue
                    } catch {
                        throw .storage(error)
                    }
                    switch status.kind {
                    case .symbolicLink:
                        hops += 1
                        guard hops <= Self.maxLinkHops else { throw .unsafe }
                        let target = try linkTarget(in: canonical, name)
                        queue = target + queue[(index + 1)...]
                        index = 0
                        canonical = []
                        current = try openRoot()
                    case .directory:
                        try raced() // it was replaced by a directory meanwhile
                    case .regular, .other:
                        throw .notADirectory
                    }
                default:
                    throw .storage(error)
                }
                continue
            }
            current = opened
            canonical.append(name)
            index += 1
            created = false
        }
        return (Directory(descriptor: current, segments: canonical), [])
    }

    /// Resolves `segments` to its parent directory and final name.
    /// - Parameter followLeaf: follow a link in the final position (it is checked to stay
    ///   inside the root either way).
    func locate(_ segments: [String], missing: MissingDirectories, followLeaf: Bool) throws(Failure) -> Location {
        var target = segments
        for _ in 0...Self.maxLinkHops {
            guard let name = target.last else { return .root }
            let (parent, remaining) = try walk(Array(target.dropLast()), missing: missing)
            if !remaining.isEmpty {
                return .below(deepest: parent, missing: remaining + [name])
            }
            let status: FileStatus
            do {
                status = try POSIX.statAt(parent.descriptor, name)
            } catch  where error.code == ENOENT {
                return .entry(parent: parent, name: name, status: nil)
            } catch {
                throw .storage(error)
            }
            guard status.kind == .symbolicLink else {
                return .entry(parent: parent, name: name, status: status)
            }
            let resolved = try linkTarget(in: parent.segments, name)
            guard followLeaf else {
                return .entry(parent: parent, name: name, status: status)
            }
            target = resolved
        }
        throw .unsafe
    }
}
