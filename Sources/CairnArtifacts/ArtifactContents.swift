import NIOCore

/// A file's bytes as a stream of chunks, with its size known before the first chunk so a
/// response can carry `Content-Length`. Pass it to Hummingbird's
/// `ResponseBody(asyncSequence:)`.
///
/// Chunks are produced on demand, so memory stays at about one chunk whatever the file size
/// and however slow the consumer. Dropping the sequence (for example when the client goes
/// away) releases the underlying file. Each iteration starts from the beginning.
public struct ArtifactContents: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// Total size in bytes; the chunks add up to exactly this or the iteration throws.
    public let size: Int64
    private let makeIterator: @Sendable () -> AsyncIterator

    /// Wraps a repository's own chunk sequence. The type is erased so that `any
    /// ArtifactRepository` has one concrete return type; the cost is one indirect call per
    /// chunk, nothing per byte.
    public init<Chunks: AsyncSequence & Sendable>(size: Int64, chunks: Chunks) where Chunks.Element == ByteBuffer {
        self.size = size
        self.makeIterator = { AsyncIterator(chunks.makeAsyncIterator()) }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        makeIterator()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextChunk: () async throws -> ByteBuffer?

        init<Base: AsyncIteratorProtocol>(_ base: Base) where Base.Element == ByteBuffer {
            let box = IteratorBox(base)
            self.nextChunk = { try await box.base.next() }
        }

        public mutating func next() async throws -> ByteBuffer? {
            try await nextChunk()
        }
    }

    /// Holds the mutable base iterator. An iterator is used by one task at a time, like any
    /// `AsyncIteratorProtocol` value, so it needs no synchronisation.
    private final class IteratorBox<Base: AsyncIteratorProtocol> {
        var base: Base

        init(_ base: Base) {
            self.base = base
        }
    }
}
