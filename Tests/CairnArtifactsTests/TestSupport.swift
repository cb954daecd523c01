import CairnArtifacts
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A scratch directory holding an artifact root and, next to it, an `outside` tree that no
/// operation may ever touch.
final class Sandbox {
    let base: String
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/cairn-artifacts-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw SandboxError.setup("mkdtemp") }
        base = try POSIXPath.real(String(cString: made))
        try make(directory: root)
        try make(directory: outside)
        try make(directory: outside + "/outdir")
        try write("top secret", to: outside + "/secret.txt")
        try write("inner secret", to: outside + "/outdir/deep.txt")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    func repository(chunkSize: Int = 1 << 20, durable: Bool = false) throws -> LocalArtifactRepository {
        try LocalArtifactRepository(
            rootDirectory: root,
            configuration: .init(chunkSize: chunkSize, durableWrites: durable)
        )
    }

    func make(directory path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func link(_ path: String, to target: String) throws {
        guard symlink(target, path) == 0 else { throw SandboxError.setup("symlink \(path)") }
    }

    func contents(of path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// Every path (files with their contents, directories, links with their targets) under
    /// `directory`, without following links.
    func snapshot(_ directory: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for relative in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            let path = directory + "/" + relative
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFLNK: result[relative] = "link -> " + (try FileManager.default.destinationOfSymbolicLink(atPath: path))
            case S_IFDIR: result[relative] = "dir"
            default: result[relative] = try contents(of: path)
            }
        }
        return result
    }

    /// All names under the root, hidden ones included.
    func everything() throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root).sorted()
    }
}

enum SandboxError: Error {
    case setup(String)
}

enum POSIXPath {
    static func real(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw SandboxError.setup("realpath") }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

struct InjectedFailure: Error, Equatable {}

/// Request-body stand-in: the given chunks, optionally failing before chunk `failAt`, with an
/// optional hook run before each chunk is handed out.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    var chunks: [ByteBuffer]
    var failAt: Int?
    var beforeChunk: (@Sendable (Int) async throws -> Void)?

    init(_ chunks: [ByteBuffer], failAt: Int? = nil, beforeChunk: (@Sendable (Int) async throws -> Void)? = nil) {
        self.chunks = chunks
        self.failAt = failAt
        self.beforeChunk = beforeChunk
    }

    init(_ text: String) {
        self.init([ByteBuffer(string: text)])
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: self)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: Chunks
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            if let hook = chunks.beforeChunk { try await hook(index) }
            if index == chunks.failAt { throw InjectedFailure() }
            guard index < chunks.chunks.count else { return nil }
            defer { index += 1 }
            return chunks.chunks[index]
        }
    }
}

/// A deterministic byte pattern generated chunk by chunk, so large bodies need no large
/// arrays. It repeats every 65,521 bytes (a prime, so it never lines up with a chunk size and
/// a misplaced chunk is caught). Generation and checks copy and compare whole runs, so the
/// tests stay fast in debug builds.
struct Pattern: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let total: Int
    /// Chunk sizes to cycle through, to mimic a network that delivers irregular pieces.
    let sizes: [Int]

    static let period = 65_521
    static let table: [UInt8] = (0..<period).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

    static func byte(at offset: Int) -> UInt8 {
        table[offset % period]
    }

    /// Calls `body` with consecutive runs of the pattern covering `offset..<offset + count`.
    static func forEachRun(from offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        table.withUnsafeBytes { table in
            var position = offset
            let end = offset + count
            while position < end {
                let start = position % period
                let run = Swift.min(period - start, end - position)
                body(UnsafeRawBufferPointer(rebasing: table[start..<start + run]))
                position += run
            }
        }
    }

    /// Whether `chunk` is the pattern at `offset`.
    static func matches(_ chunk: ByteBuffer, at offset: Int) -> Bool {
        chunk.withUnsafeReadableBytes { bytes in
            var cursor = 0
            var equal = true
            forEachRun(from: offset, count: bytes.count) { run in
                if equal, memcmp(bytes.baseAddress! + cursor, run.baseAddress!, run.count) != 0 { equal = false }
                cursor += run.count
            }
            return equal
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pattern: self)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let pattern: Pattern
        var offset = 0
        var turn = 0

        mutating func next() async throws -> ByteBuffer? {
            guard offset < pattern.total else { return nil }
            let count = Swift.min(pattern.sizes[turn % pattern.sizes.count], pattern.total - offset)
            turn += 1
            var buffer = ByteBuffer()
            buffer.reserveCapacity(count)
            Pattern.forEachRun(from: offset, count: count) { buffer.writeBytes($0) }
            offset += count
            return buffer
        }
    }
}

func collect(_ contents: ArtifactContents) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in contents {
        bytes += chunk.readableBytesView
    }
    return bytes
}

func text(_ contents: ArtifactContents) async throws -> String {
    String(decoding: try await collect(contents), as: UTF8.self)
}

func path(_ string: String) throws -> ArtifactPath {
    try ArtifactPath(string)
}
