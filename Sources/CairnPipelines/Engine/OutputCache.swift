import CairnArtifacts
import CairnCore
import Foundation
import NIOCore
import NIOPosix

/// One stored output of a stage: what the run cache remembers and a hit restores.
public struct StoredOutput: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case file
        case directory
    }
    /// As written in the spec, relative to the stage's wdir.
    public var path: String
    public var kind: Kind
    /// The file's sha256, or the directory's manifest digest.
    public var digest: String
    /// Bytes (a directory: the sum of its files).
    public var size: Int64
    /// Files in a directory (1 for a file).
    public var files: Int

    public init(path: String, kind: Kind, digest: String, size: Int64, files: Int) {
        self.path = path
        self.kind = kind
        self.digest = digest
        self.size = size
        self.files = files
    }

    public static func encode(_ outputs: [StoredOutput]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(outputs)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    public static func decode(_ json: String) -> [StoredOutput]? {
        try? JSONDecoder().decode([StoredOutput].self, from: Data(json.utf8))
    }
}

/// Stage outputs stored content-addressed in the artifact repository, under a reserved prefix:
/// a file at `.cairn-pipeline-cache/objects/ab/cdef…` (its sha256), a directory as a manifest
/// object `…/ab/cdef….dir` (JSON of its files' relative paths, digests and sizes) beside the
/// objects of its files. Objects are immutable, so two stages or runs producing one file
/// store it once, and a restore is a copy of objects that cannot have changed.
public struct OutputCache: Sendable {
    public static let prefix = ".cairn-pipeline-cache"
    let repository: any ArtifactRepository
    let threadPool: NIOThreadPool

    public init(repository: any ArtifactRepository, threadPool: NIOThreadPool) {
        self.repository = repository
        self.threadPool = threadPool
    }

    static func objectPath(_ digest: String, directory: Bool = false) throws -> ArtifactPath {
        guard digest.count == 64, Hex.decode(digest) != nil else { throw CairnError.invalidParameter("not a sha256 digest: \(digest)") }
        let head = digest.prefix(2)
        let tail = digest.dropFirst(2)
        return try ArtifactPath("\(prefix)/objects/\(head)/\(tail)\(directory ? ".dir" : "")")
    }

    /// Stores the output at `absolutePath` (already hashed as `content`) and returns its entry.
    /// Objects already present are not written again.
    public func store(path: String, absolutePath: String, content: PathDigest) async throws -> StoredOutput {
        switch content {
        case .missing:
            throw CairnError.invalidParameter("output \(path) does not exist")
        case .file(let digest, let size):
            try await storeObject(digest: digest, size: size, from: absolutePath)
            return StoredOutput(path: path, kind: .file, digest: digest, size: size, files: 1)
        case .directory(let digest, let files):
            // Distinct contents only; the files are uploaded a few at a time.
            var seen = Set<String>()
            let unique = files.filter { seen.insert($0.digest).inserted }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                func add() {
                    guard next < unique.count else { return }
                    let file = unique[next]
                    next += 1
                    group.addTask { try await storeObject(digest: file.digest, size: file.size, from: "\(absolutePath)/\(file.path)") }
                }
                for _ in 0..<4 { add() }
                while try await group.next() != nil { add() }
            }
            let manifest = try JSONEncoder().encode(files)
            let manifestPath = try Self.objectPath(digest, directory: true)
            if try await repository.status(of: manifestPath).isFile == false {
                try await repository.write(manifestPath, from: [ByteBuffer(bytes: manifest)].async)
            }
            return StoredOutput(path: path, kind: .directory, digest: digest, size: files.reduce(0) { $0 + $1.size }, files: files.count)
        }
    }

    private func storeObject(digest: String, size: Int64, from file: String) async throws {
        let objectPath = try Self.objectPath(digest)
        if case .file(let stored) = try await repository.status(of: objectPath), stored == size { return }
        try await repository.write(objectPath, from: LocalFileChunks(path: file, threadPool: threadPool))
    }

    /// Whether every object the outputs need is in the store: a hit counts only then.
    public func isComplete(_ outputs: [StoredOutput]) async throws -> Bool {
        for output in outputs {
            switch output.kind {
            case .file:
                guard case .file(let size) = try await repository.status(of: try Self.objectPath(output.digest)), size == output.size
                else { return false }
            case .directory:
                guard let files = try await manifest(output.digest) else { return false }
                for file in files {
                    guard case .file(let size) = try await repository.status(of: try Self.objectPath(file.digest)), size == file.size
                    else { return false }
                }
            }
        }
        return true
    }

    private func manifest(_ digest: String) async throws -> [ManifestEntry]? {
        let path = try Self.objectPath(digest, directory: true)
        guard try await repository.status(of: path).isFile else { return nil }
        var bytes = ByteBuffer()
        for try await var chunk in try await repository.read(path) { bytes.writeBuffer(&chunk) }
        let files = try? JSONDecoder().decode([ManifestEntry].self, from: Data(bytes.readableBytesView))
        // A manifest that does not hash to its name is not trusted.
        guard let files, ContentHasher.directoryDigest(files) == digest else { return nil }
        return files
    }

    /// Puts the output back at `absolutePath`, replacing what is there: a file is copied to a
    /// temporary name beside it and renamed; a directory is built beside it and renamed in.
    /// Returns the files written (for the file-state table).
    public func restore(_ output: StoredOutput, to absolutePath: String) async throws {
        switch output.kind {
        case .file:
            try await copyObject(output.digest, to: absolutePath)
        case .directory:
            guard let files = try await manifest(output.digest) else {
                throw CairnError.notFound("the cached directory \(output.path) is incomplete")
            }
            let parent = PathText(path: absolutePath).parent
            let staging = "\(parent)/.\(PathText(path: absolutePath).name).cairn-restore-\(UInt32.random(in: 0...UInt32.max))"
            do {
                try await threadPool.runIfActive { try LocalFiles.makeDirectories(staging) }
                for file in files { try await copyObject(file.digest, to: "\(staging)/\(file.path)") }
                try await threadPool.runIfActive {
                    try LocalFiles.remove(absolutePath)
                    guard rename(staging, absolutePath) == 0 else { throw POSIXFailure(call: "rename", path: absolutePath) }
                }
            } catch {
                try? await threadPool.runIfActive { try LocalFiles.remove(staging) }
                throw error
            }
        }
    }

    private func copyObject(_ digest: String, to destination: String) async throws {
        let contents = try await repository.read(try Self.objectPath(digest))
        let pending = try await threadPool.runIfActive { try PendingLocalFile(destination: destination) }
        do {
            for try await chunk in contents {
                try await threadPool.runIfActive { try pending.write(chunk) }
            }
            try await threadPool.runIfActive {
                // A directory at a file's place (an earlier run's shape) gives way.
                var status = stat()
                if lstat(destination, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { try LocalFiles.remove(destination) }
                try pending.commit()
            }
        } catch {
            pending.discard()
            throw error
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence (for one-chunk uploads).
    var async: AsyncArray<Element> { AsyncArray(elements: self) }
}

struct AsyncArray<Element: Sendable>: AsyncSequence, Sendable {
    let elements: [Element]
    func makeAsyncIterator() -> Iterator { Iterator(elements: elements) }
    struct Iterator: AsyncIteratorProtocol {
        var elements: [Element]
        var index = 0
        mutating func next() async -> Element? {
            guard index < elements.count else { return nil }
            defer { index += 1 }
            return elements[index]
        }
    }
}
