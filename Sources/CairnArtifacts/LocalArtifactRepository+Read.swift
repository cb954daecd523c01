import CairnCore
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
    public func read(_ path: ArtifactPath) async throws -> ArtifactContents {
        let file = try await blocking { [root] in try root.openForReading(path) }
        let chunks = LocalFileChunks(
            file: file.descriptor,
            size: file.size,
            chunkSize: configuration.chunkSize,
            threadPool: threadPool,
            allocator: allocator,
            recycler: BufferRecycler()
        )
        return ArtifactContents(size: file.size, chunks: chunks)
    }
}

extension ArtifactRoot {
    struct OpenFile: Sendable {
        let descriptor: FileDescriptor
        let size: Int64
    }

    func openForReading(_ path: ArtifactPath) throws -> OpenFile {
        let notFound = CairnError.notFound("No such artifact: '\(path)'")
        let isDirectory = CairnError.invalidParameter("Artifact '\(path)' is a directory")
        let location: Location
        do {
            location = try locate(path.segments, missing: .fail, followLeaf: true)
        } catch ArtifactRoot.Failure.missing, ArtifactRoot.Failure.notADirectory {
            throw notFound
        }
        guard case .entry(let parent, let name, let status) = location else { throw isDirectory }
        guard let status else { throw notFound }
        switch status.kind {
        case .regular: break
        case .directory: throw isDirectory
        case .symbolicLink, .other: throw notFound
        }
        // O_NOFOLLOW: a link swapped in since `locate` is refused, not followed.
        // O_NONBLOCK: a FIFO swapped in cannot block a pool thread on open.
        let descriptor: FileDescriptor
        do {
            descriptor = try POSIX.openAt(parent.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            switch error.code {
            case ENOENT: throw notFound
            case ELOOP, EMLINK: throw ArtifactPath.invalid
            default: throw error
            }
        }
        let opened = try POSIX.stat(descriptor)
        switch opened.kind {
        case .regular: return OpenFile(descriptor: descriptor, size: opened.size)
        case .directory: throw isDirectory
        case .symbolicLink, .other: throw notFound
        }
    }
}

/// A file read in chunks with `pread`, one thread-pool job per chunk. While the consumer
/// handles one chunk the next is already being read (one chunk of read-ahead); nothing is
/// read before iteration starts. A chunk the consumer has let go of is refilled instead of
/// allocating a new one: fresh megabyte allocations cost page faults that showed up as a
/// third of the system time in the copy benchmark. Files are replaced by `rename`,
/// so an open descriptor keeps reading the version it opened: a download never mixes two
/// uploads.
struct LocalFileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let file: FileDescriptor
    let size: Int64
    let chunkSize: Int
    let threadPool: NIOThreadPool
    let allocator: ByteBufferAllocator
    let recycler: BufferRecycler

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: self)
    }

    /// Starts reading the chunk at `offset`.
    func readChunk(at offset: Int64) -> PoolJob<ByteBuffer> {
        let count = Int(Swift.min(Int64(chunkSize), size - offset))
        return PoolJob(on: threadPool) { [file, allocator, recycler] in
            // Reused only if no one else holds it; otherwise `clear()` gives fresh storage.
            var buffer = recycler.take() ?? allocator.buffer(capacity: count)
            buffer.clear()
            let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try POSIX.readFully(file, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<count]), at: offset)
            }
            // The size went out as Content-Length; sending less would hang the client, so a
            // file truncated in place (not through this repository) fails the download.
            guard read == count else {
                throw ArtifactStorageError(operation: "file shrank while being read", code: 0)
            }
            return buffer
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: LocalFileChunks
        var offset: Int64 = 0
        var readAhead: PoolJob<ByteBuffer>?
        /// The chunk handed out last; by the next call the consumer is usually done with it.
        var handedOut: ByteBuffer?

        mutating func next() async throws -> ByteBuffer? {
            if let previous = handedOut.take() { chunks.recycler.put(previous) }
            guard offset < chunks.size else { return nil }
            let job = readAhead ?? chunks.readChunk(at: offset)
            readAhead = nil
            let chunk = try await job.value
            offset += Int64(chunk.readableBytes)
            if offset < chunks.size {
                readAhead = chunks.readChunk(at: offset)
            }
            handedOut = chunk
            return chunk
        }
    }
}

/// Spare chunk buffers of one download, at most two.
final class BufferRecycler: Sendable {
    private let spares = Mutex<[ByteBuffer]>([])

    func put(_ buffer: ByteBuffer) {
        spares.withLock { spares in
            if spares.count < 2 { spares.append(buffer) }
        }
    }

    func take() -> ByteBuffer? {
        spares.withLock { $0.popLast() }
    }
}
