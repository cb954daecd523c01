import CairnCore
import Crypto
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalArtifactRepository {
    /// Most buffers gathered into one thread-pool job. A client trickling tiny chunks
    /// cannot make the batch hold more than this many `ByteBuffer`s.
    static let maxBuffersPerBatch = 1024

    /// Streams `body` into a hidden temporary file next to its destination and renames it
    /// into place once the body has ended and (with `durableWrites`) reached the disk.
    ///
    /// The temporary file lives in the destination's directory, or, when that directory does
    /// not exist yet, in its deepest existing ancestor, so that a failed upload leaves no
    /// empty directories either. Missing directories are created only at commit time. Either
    /// way the temporary file and the destination are on one file system, so `renameat` is
    /// atomic.
    ///
    /// Request chunks are gathered, not copied, until `chunkSize` bytes are waiting, then
    /// written in one thread-pool job, so a 1 GB upload costs about a thousand jobs. One batch
    /// is written while the next is gathered; memory stays at about two batches, and
    /// back-pressure reaches the client through the body sequence.
    @discardableResult
    public func write<Body: AsyncSequence & Sendable>(_ path: ArtifactPath, from body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        let upload = try await blocking { [root] in try root.beginUpload(path) }
        do {
            let (written, last) = try await stream(body, into: upload)
            let durable = configuration.durableWrites
            try await blocking { [root] in
                try upload.append(last)
                try root.commit(upload, to: path, durable: durable)
            }
            return written + Int64(last.reduce(0) { $0 + $1.readableBytes })
        } catch {
            // Inline rather than on the pool: this must run even when the task is cancelled,
            // and `runIfActive` refuses work from a cancelled task. It is one `unlinkat`.
            upload.discard()
            throw error
        }
    }

    /// Writes `body` to `upload` in batches of about `chunkSize` bytes, all but the last.
    /// The last batch is returned unwritten, so the caller can append it in the same
    /// thread-pool job as its commit: one job less per upload, which shows with many small
    /// files. The caller discards `upload` if this throws.
    /// - Returns: the bytes written, and the last batch.
    func stream<Body: AsyncSequence & Sendable>(_ body: Body, into upload: PendingUpload) async throws -> (
        written: Int64, last: [ByteBuffer]
    )
    where Body.Element == ByteBuffer {
        // The previous batch, still being written while the next one is gathered.
        var writing: PoolJob<Void>?
        do {
            var batch: [ByteBuffer] = []
            batch.reserveCapacity(64)
            var batchBytes = 0
            var total: Int64 = 0
            for try await chunk in body where chunk.readableBytes > 0 {
                batch.append(chunk)
                batchBytes += chunk.readableBytes
                if batchBytes >= configuration.chunkSize || batch.count >= Self.maxBuffersPerBatch {
                    try await writing.take()?.value
                    writing = PoolJob(on: threadPool) { [batch] in try upload.append(batch) }
                    total += Int64(batchBytes)
                    batch.removeAll(keepingCapacity: true)
                    batchBytes = 0
                }
            }
            try await writing.take()?.value
            // Some sequences (`AsyncStream`) end quietly when the task is cancelled; a
            // cancelled upload must not be committed as if its body were complete.
            try Task.checkCancellation()
            return (total, batch)
        } catch {
            // Let a write still in flight end first; it cannot be interrupted anyway.
            _ = try? await writing.take()?.value
            throw error
        }
    }
}

/// An upload in progress: an exclusive, hidden temporary file and the directory holding it.
final class PendingUpload: Sendable {
    let directory: FileDescriptor
    let temporaryName: String
    let file: FileDescriptor
    /// The SHA-256 of what was appended so far, when the upload is a multipart part whose
    /// ETag it becomes. Updated in the same pool job as the write, while the bytes are hot.
    /// Appends run one at a time, so the lock is never contended.
    private let digest: Mutex<SHA256>?
    /// Bytes written, and how many of them the kernel was already asked to write back.
    private let progress = Mutex<(written: Int64, flushed: Int64)>((0, 0))
    /// Writeback is started every this many bytes, so the fsync before the rename waits
    /// only for the tail instead of the whole file.
    static let writebackStride: Int64 = 8 << 20

    init(directory: FileDescriptor, temporaryName: String, file: FileDescriptor, hashing: Bool = false) {
        self.directory = directory
        self.temporaryName = temporaryName
        self.file = file
        self.digest = hashing ? Mutex(SHA256()) : nil
    }

    func append(_ buffers: [ByteBuffer]) throws {
        var appended: Int64 = 0
        for buffer in buffers {
            try buffer.withUnsafeReadableBytes { bytes throws(ArtifactStorageError) in
                try POSIX.writeAll(file, bytes)
                digest?.withLock { $0.update(bufferPointer: bytes) }
            }
            appended += Int64(buffer.readableBytes)
        }
        let range = progress.withLock { progress -> Range<Int64>? in
            progress.written += appended
            guard progress.written - progress.flushed >= Self.writebackStride else { return nil }
            defer { progress.flushed = progress.written }
            return progress.flushed..<progress.written
        }
        if let range { POSIX.startWriteback(file, range) }
    }

    /// The hex SHA-256 of everything appended; `nil` unless created with `hashing`.
    func sha256() -> String? {
        digest?.withLock { hasher in
            hasher.finalize().map { byte in
                let digits = String(byte, radix: 16)
                return byte < 16 ? "0" + digits : digits
            }.joined()
        }
    }

    /// Removes the temporary file; safe to call when it is already gone.
    func discard() {
        _ = unlinkat(directory.raw, temporaryName, 0)
    }
}

extension ArtifactRoot {
    private static func directoryConflict(_ path: ArtifactPath) -> CairnError {
        .invalidParameter("Cannot write artifact '\(path)': a directory exists at that path")
    }

    private static func fileConflict(_ path: ArtifactPath) -> CairnError {
        .invalidParameter("Cannot write artifact '\(path)': a file is in the way of its directory")
    }

    /// Checks the destination and creates the temporary file. Refuses early what the commit
    /// would refuse anyway, before a large body is received.
    func beginUpload(_ path: ArtifactPath) throws -> PendingUpload {
        try Self.temporaryFile(in: uploadDirectory(for: path).descriptor)
    }

    /// The directory an upload to `path` keeps its temporary file in: the destination's own,
    /// or its deepest existing ancestor. Refuses a destination that the commit would refuse.
    func uploadDirectory(for path: ArtifactPath) throws -> Directory {
        let location: Location
        do {
            location = try locate(path.segments, missing: .stop, followLeaf: true)
        } catch ArtifactRoot.Failure.notADirectory {
            throw Self.fileConflict(path)
        }
        let directory: Directory
        switch location {
        case .root:
            throw ArtifactPath.invalid
        case .below(let deepest, _):
            directory = deepest
        case .entry(let parent, _, let status):
            if status?.kind == .directory { throw Self.directoryConflict(path) }
            directory = parent
        }
        return directory
    }

    /// Creates an exclusive, hidden temporary file in `directory`.
    /// - Parameter hashing: compute the SHA-256 of what is appended.
    static func temporaryFile(in directory: FileDescriptor, hashing: Bool = false) throws -> PendingUpload {
        for _ in 0..<8 {
            let name = ArtifactPath.reservedPrefix + randomSuffix()
            do {
                let file = try POSIX.openAt(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o666)
                return PendingUpload(directory: directory, temporaryName: name, file: file, hashing: hashing)
            } catch  where error.code == EEXIST {
                continue
            } catch {
                // Spelled out: an implicit rethrow of a typed error from a `catch where`
                // inside a loop crashes Swift 6.3.1 (MandatoryAllocBoxToStack).
                throw error
            }
        }
        throw ArtifactStorageError(operation: "no unused temporary file name", code: EEXIST)
    }

    /// Flushes the temporary file, creates missing directories and renames it into place,
    /// resolving the destination again: the tree may have changed during the upload.
    func commit(_ upload: PendingUpload, to path: ArtifactPath, durable: Bool) throws {
        if durable { try POSIX.sync(upload.file) }
        let location: Location
        do {
            location = try locate(path.segments, missing: .create, followLeaf: true)
        } catch ArtifactRoot.Failure.notADirectory {
            throw Self.fileConflict(path)
        }
        guard case .entry(let parent, let name, let status) = location else { throw ArtifactPath.invalid }
        if status?.kind == .directory { throw Self.directoryConflict(path) }
        do {
            try POSIX.renameAt(upload.directory, upload.temporaryName, parent.descriptor, name)
        } catch {
            switch error.code {
            case EISDIR, ENOTEMPTY, EEXIST: throw Self.directoryConflict(path)
            default: throw error
            }
        }
        // The file is in place and its data is on disk; a failure to persist the directory
        // entry is not worth failing an upload that every reader can already see.
        if durable { _ = try? POSIX.sync(parent.descriptor) }
    }

    /// 16 hex digits from the system's cryptographically secure generator.
    static func randomSuffix() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
