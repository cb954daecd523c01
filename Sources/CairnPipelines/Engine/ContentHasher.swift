import Crypto
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One file of a directory's manifest.
public struct ManifestEntry: Sendable, Equatable, Codable {
    /// Relative to the directory, `/`-separated.
    public var path: String
    public var digest: String
    public var size: Int64

    public init(path: String, digest: String, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
    }
}

/// What a dep or an out holds, by content.
public enum PathDigest: Sendable, Equatable {
    case missing
    case file(digest: String, size: Int64)
    /// `digest` is the sha256 of the sorted manifest (see `ContentHasher.directoryDigest`), so
    /// one changed file changes it and costs one re-hash.
    case directory(digest: String, files: [ManifestEntry])

    public var digest: String? {
        switch self {
        case .missing: nil
        case .file(let digest, _), .directory(let digest, _): digest
        }
    }

    public var exists: Bool { self != .missing }
}

/// sha256 of files and directories, streamed, parallel over the thread pool, remembering each
/// file's digest by its `FileIdentity` in a `FileStateTable` so unchanged files are not read.
/// The table is saved by its owner (once per run or status), not after every call: with 100k
/// entries it is megabytes, and a stage's outs change a handful of them.
public struct ContentHasher: Sendable {
    public let threadPool: NIOThreadPool
    public let state: FileStateTable
    /// How many hashing jobs run at once (at least 1).
    public let parallelism: Int

    public init(threadPool: NIOThreadPool, state: FileStateTable, parallelism: Int = System.coreCount) {
        self.threadPool = threadPool
        self.state = state
        self.parallelism = max(1, parallelism)
    }

    private enum Scan: Sendable {
        case missing
        case file(FileToHash)
        case directory([(relative: String, file: FileToHash)])
    }

    private struct FileToHash: Sendable {
        var path: String
        var identity: FileIdentity
        /// From the state table; nil when the file must be read.
        var digest: String?
    }

    /// The digest of each absolute path, in order. Unreadable files throw.
    public func digests(of paths: [String]) async throws -> [PathDigest] {
        let scans = try await threadPool.runIfActive { [state] in try paths.map { try Self.scan($0, state: state) } }
        var pending: [FileToHash] = []
        for scan in scans {
            switch scan {
            case .missing: break
            case .file(let file): if file.digest == nil { pending.append(file) }
            case .directory(let files): pending += files.lazy.map(\.file).filter { $0.digest == nil }
            }
        }
        var computed: [String: String] = [:]
        if !pending.isEmpty {
            computed = try await hash(pending)
        }
        return scans.map { scan in
            switch scan {
            case .missing:
                return .missing
            case .file(let file):
                return .file(digest: file.digest ?? computed[file.path] ?? "", size: file.identity.size)
            case .directory(let files):
                let entries = files.map {
                    ManifestEntry(path: $0.relative, digest: $0.file.digest ?? computed[$0.file.path] ?? "", size: $0.file.identity.size)
                }
                return .directory(digest: Self.directoryDigest(entries), files: entries)
            }
        }
    }

    public func digest(of path: String) async throws -> PathDigest {
        try await digests(of: [path])[0]
    }

    /// sha256 over `relative path NUL digest LF` per file, sorted by the paths' bytes.
    public static func directoryDigest(_ sortedEntries: [ManifestEntry]) -> String {
        var hasher = SHA256()
        for entry in sortedEntries {
            hasher.update(data: Array(entry.path.utf8))
            hasher.update(data: [0])
            hasher.update(data: Array(entry.digest.utf8))
            hasher.update(data: [10])
        }
        return Hex.encode(hasher.finalize())
    }

    /// Hashes the files in `parallelism` interleaved shares, each one thread-pool job.
    private func hash(_ files: [FileToHash]) async throws -> [String: String] {
        let shares = min(parallelism, files.count)
        return try await withThrowingTaskGroup(of: [(String, String)].self) { group in
            for share in 0..<shares {
                let mine = stride(from: share, to: files.count, by: shares).map { files[$0] }
                group.addTask { [threadPool, state] in
                    try await threadPool.runIfActive {
                        try mine.map { file in
                            let (digest, identity) = try Self.sha256(file: file.path)
                            state.record(file.path, identity: identity, digest: digest)
                            return (file.path, digest)
                        }
                    }
                }
            }
            var result: [String: String] = [:]
            for try await pairs in group {
                for (path, digest) in pairs { result[path] = digest }
            }
            return result
        }
    }

    // MARK: - Blocking work (thread pool only)

    private static func scan(_ path: String, state: FileStateTable) throws -> Scan {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            throw POSIXFailure(call: "stat", path: path)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            var files: [(relative: String, file: FileToHash)] = []
            try walk(directory: path, relative: "", state: state, into: &files)
            files.sort { $0.relative.utf8.lexicographicallyPrecedes($1.relative.utf8) }
            return .directory(files)
        }
        let identity = FileIdentity(status)
        return .file(FileToHash(path: path, identity: identity, digest: state.digest(for: path, identity: identity)))
    }

    /// Every regular file under `directory` (symbolic links to files followed, to directories
    /// not, so a link loop cannot hang a walk).
    private static func walk(
        directory: String, relative: String, state: FileStateTable, into files: inout [(relative: String, file: FileToHash)]
    ) throws {
        guard let handle = opendir(directory) else { throw POSIXFailure(call: "opendir", path: directory) }
        defer { closedir(handle) }
        let descriptor = dirfd(handle)
        var subdirectories: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var status = stat()
            guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { continue }
                throw POSIXFailure(call: "stat", path: "\(directory)/\(name)")
            }
            var kind = status.st_mode & S_IFMT
            if kind == S_IFLNK {
                guard fstatat(descriptor, name, &status, 0) == 0 else { continue }
                kind = status.st_mode & S_IFMT
                if kind == S_IFDIR { continue }
            }
            if kind == S_IFDIR {
                subdirectories.append(name)
            } else if kind == S_IFREG {
                let path = "\(directory)/\(name)"
                let identity = FileIdentity(status)
                files.append(
                    (
                        relative.isEmpty ? name : "\(relative)/\(name)",
                        FileToHash(path: path, identity: identity, digest: state.digest(for: path, identity: identity))
                    ))
            }
        }
        for name in subdirectories {
            try walk(
                directory: "\(directory)/\(name)", relative: relative.isEmpty ? name : "\(relative)/\(name)", state: state, into: &files)
        }
    }

    /// The file's sha256, read in 1 MiB chunks, and its identity as opened.
    static func sha256(file path: String) throws -> (String, FileIdentity) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXFailure(call: "open", path: path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw POSIXFailure(call: "fstat", path: path) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure(call: "read", path: path)
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return (Hex.encode(hasher.finalize()), FileIdentity(status))
    }
}
