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

    /// `readdir`'s `d_type` values (the same on Linux and the BSDs).
    private enum DirectoryEntryType {
        static let directory: UInt8 = 4
        static let regular: UInt8 = 8
    }

    private enum Scan: Sendable {
        case missing
        case file(FileToHash)
        /// The files sorted, and the walk's fingerprint (see `FileStateTable.DirectoryEntry`).
        case directory(path: String, fingerprint: Int, files: [(relative: String, file: FileToHash)])
        /// Unchanged since the last walk: the remembered digest and manifest.
        case unchangedDirectory(digest: String, files: [ManifestEntry])
    }

    private struct FileToHash: Sendable {
        var path: String
        var identity: FileIdentity
        /// From the state table; nil when the file must be read.
        var digest: String?
    }

    /// The digest of each absolute path, in order. Unreadable files throw.
    public func digests(of paths: [String]) async throws -> [PathDigest] {
        let listings = try await threadPool.runIfActive { [state] in try paths.map { try Self.list($0, state: state) } }
        var scans: [Scan] = []
        scans.reserveCapacity(listings.count)
        for listing in listings {
            switch listing {
            case .missing: scans.append(.missing)
            case .file(let file): scans.append(.file(file))
            case .directory(let path, let tree): scans.append(try await scan(directory: path, tree))
            }
        }
        var pending: [FileToHash] = []
        for scan in scans {
            switch scan {
            case .missing: break
            case .file(let file): if file.digest == nil { pending.append(file) }
            case .directory(_, _, let files): pending += files.lazy.map(\.file).filter { $0.digest == nil }
            case .unchangedDirectory: break
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
            case .directory(let path, let fingerprint, let files):
                let entries = files.map {
                    ManifestEntry(path: $0.relative, digest: $0.file.digest ?? computed[$0.file.path] ?? "", size: $0.file.identity.size)
                }
                let digest = Self.directoryDigest(entries)
                state.remember(directory: path, fingerprint: fingerprint, digest: digest, files: entries)
                return .directory(digest: digest, files: entries)
            case .unchangedDirectory(let digest, let files):
                return .directory(digest: digest, files: files)
            }
        }
    }

    /// A listed directory's files `stat`ed in `parallelism` contiguous shares, each one
    /// thread-pool job (the `stat` calls are most of a warm status over 100k files, and the
    /// kernel serves them in parallel), then compared with its last walk.
    private func scan(directory path: String, _ tree: DirectoryTree) async throws -> Scan {
        let shares = max(1, min(parallelism, tree.names.count / 2048))
        let size = (tree.names.count + shares - 1) / shares
        let parts = try await withThrowingTaskGroup(of: (Int, StatedShare).self) { group in
            for share in 0..<shares {
                let range = (share * size)..<min(tree.names.count, (share + 1) * size)
                group.addTask { [threadPool] in
                    (share, try await threadPool.runIfActive { try Self.statFiles(tree, range) })
                }
            }
            var parts = [StatedShare](repeating: StatedShare(), count: shares)
            for try await (share, stated) in group { parts[share] = stated }
            return parts
        }
        // An unchanged directory (the same names and identities in the same walk order) is
        // answered from its last walk, which holds every file's digest: a warm status over
        // 100k files is then the walk's `stat` calls and these fingerprints, with no per-file
        // path or lookup.
        var fingerprint = Hasher()
        fingerprint.combine(tree.names.count)
        for part in parts { fingerprint.combine(part.fingerprint) }
        let walked = fingerprint.finalize()
        if let remembered = state.directory(path, fingerprint: walked) {
            return .unchangedDirectory(digest: remembered.digest, files: remembered.files)
        }
        let known = state.snapshot()
        return try await threadPool.runIfActive {
            var files: [(relative: String, file: FileToHash)] = []
            files.reserveCapacity(tree.names.count)
            for part in parts {
                for (index, identity) in part.files {
                    let (directory, name) = tree.names[index]
                    let absolute = "\(tree.directories[directory])/\(name)"
                    let relative = tree.relatives[directory].isEmpty ? name : "\(tree.relatives[directory])/\(name)"
                    let digest = known.digest(for: absolute, identity: identity)
                    files.append((relative, FileToHash(path: absolute, identity: identity, digest: digest)))
                }
            }
            files.sort { $0.relative.utf8.lexicographicallyPrecedes($1.relative.utf8) }
            return .directory(path: path, fingerprint: walked, files: files)
        }
    }

    /// One share of a directory's files as `stat`ed (the index of each regular file in the
    /// tree's names, with its identity) and a fingerprint of them in walk order.
    private struct StatedShare: Sendable {
        var files: [(index: Int, identity: FileIdentity)] = []
        var fingerprint = 0
    }

    public func digest(of path: String) async throws -> PathDigest {
        try await digests(of: [path])[0]
    }

    /// sha256 over `relative path NUL digest LF` per file, sorted by the paths' bytes.
    public static func directoryDigest(_ sortedEntries: [ManifestEntry]) -> String {
        // One buffer, hashed once: a manifest of 100k lines is a few MB.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sortedEntries.count * 100)
        for entry in sortedEntries {
            bytes.append(contentsOf: entry.path.utf8)
            bytes.append(0)
            bytes.append(contentsOf: entry.digest.utf8)
            bytes.append(10)
        }
        return Hex.encode(SHA256.hash(data: bytes))
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

    /// A directory's walk before its files are `stat`ed: every directory under it (the first is
    /// the root) with its path relative to the root, and, in walk order, each candidate file's
    /// directory and name.
    private struct DirectoryTree: Sendable {
        var directories: [String] = []
        var relatives: [String] = []
        var names: [(directory: Int, name: String)] = []
    }

    private enum Listing: Sendable {
        case missing
        case file(FileToHash)
        case directory(path: String, DirectoryTree)
    }

    private static func list(_ path: String, state: FileStateTable) throws -> Listing {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            throw POSIXFailure(call: "stat", path: path)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            var tree = DirectoryTree()
            try walk(directory: path, relative: "", into: &tree)
            return .directory(path: path, tree)
        }
        let identity = FileIdentity(status)
        return .file(FileToHash(path: path, identity: identity, digest: state.digest(for: path, identity: identity)))
    }

    /// Lists every regular file under `directory` by the type `readdir` reports, `stat`ing only
    /// what it cannot tell (symbolic links, file systems without `d_type`): symbolic links to
    /// files are followed, to directories not, so a link loop cannot hang a walk.
    private static func walk(directory: String, relative: String, into tree: inout DirectoryTree) throws {
        guard let handle = opendir(directory) else { throw POSIXFailure(call: "opendir", path: directory) }
        defer { closedir(handle) }
        let descriptor = dirfd(handle)
        let index = tree.directories.count
        tree.directories.append(directory)
        tree.relatives.append(relative)
        var subdirectories: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var kind = entry.pointee.d_type
            if kind != DirectoryEntryType.directory && kind != DirectoryEntryType.regular {
                var status = stat()
                guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if errno == ENOENT { continue }
                    throw POSIXFailure(call: "stat", path: "\(directory)/\(name)")
                }
                var mode = status.st_mode & S_IFMT
                if mode == S_IFLNK {
                    guard fstatat(descriptor, name, &status, 0) == 0 else { continue }
                    mode = status.st_mode & S_IFMT
                    if mode == S_IFDIR { continue }
                }
                kind = mode == S_IFDIR ? DirectoryEntryType.directory : mode == S_IFREG ? DirectoryEntryType.regular : 0
            }
            if kind == DirectoryEntryType.directory {
                subdirectories.append(name)
            } else if kind == DirectoryEntryType.regular {
                tree.names.append((index, name))
            }
        }
        for name in subdirectories {
            try walk(directory: "\(directory)/\(name)", relative: relative.isEmpty ? name : "\(relative)/\(name)", into: &tree)
        }
    }

    /// `stat`s `range` of a tree's files (following links; a file gone since the listing, or no
    /// longer a regular file, is left out), fingerprinting their names and identities.
    private static func statFiles(_ tree: DirectoryTree, _ range: Range<Int>) throws -> StatedShare {
        var descriptors: [Int: Int32] = [:]
        defer { for descriptor in descriptors.values { close(descriptor) } }
        var share = StatedShare()
        share.files.reserveCapacity(range.count)
        var fingerprint = Hasher()
        for index in range {
            let (directory, name) = tree.names[index]
            let descriptor: Int32
            if let open = descriptors[directory] {
                descriptor = open
            } else {
                descriptor = open(tree.directories[directory], O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard descriptor >= 0 else { throw POSIXFailure(call: "open", path: tree.directories[directory]) }
                descriptors[directory] = descriptor
            }
            var status = stat()
            guard fstatat(descriptor, name, &status, 0) == 0 else {
                if errno == ENOENT { continue }
                throw POSIXFailure(call: "stat", path: "\(tree.directories[directory])/\(name)")
            }
            guard (status.st_mode & S_IFMT) == S_IFREG else { continue }
            let identity = FileIdentity(status)
            fingerprint.combine(directory)
            fingerprint.combine(name)
            fingerprint.combine(identity)
            share.files.append((index, identity))
        }
        share.fingerprint = fingerprint.finalize()
        return share
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
