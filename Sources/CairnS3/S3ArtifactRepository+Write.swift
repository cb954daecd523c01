import CairnArtifacts
import CairnCore
import NIOCore

extension S3ArtifactRepository {
    /// Streams `body` to the object at `path`. A body that fits in one part is one PutObject
    /// of its buffered bytes; a larger one becomes a multipart upload whose parts are sent as
    /// they fill, one in flight while the next is gathered. Readers see the old object or the
    /// complete new one: S3 publishes an object only when PutObject or
    /// CompleteMultipartUpload succeeds, and any failure, the body's or the store's, or the
    /// task's cancellation, aborts the multipart upload and its parts.
    @discardableResult
    public func write<Body: AsyncSequence & Sendable>(_ path: ArtifactPath, from body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        let key = key(for: path)
        let partSize = configuration.partSize
        var part = allocator.buffer(capacity: 0)
        var total: Int64 = 0
        var upload: StreamedUpload?
        do {
            for try await chunk in body {
                var chunk = chunk
                while chunk.readableBytes > 0 {
                    // A full part is sent only once more bytes arrive: the last part must be
                    // known to be the last, and a body of exactly one part stays one PutObject.
                    if part.readableBytes == partSize {
                        if upload == nil {
                            let id = try await translating { try await client.createMultipartUpload(key) }
                            upload = StreamedUpload(id: id)
                        }
                        // The part sent before this one is done by now: its buffer is refilled
                        // rather than a fresh 8 MiB allocated per part, which kept the allocator's
                        // arenas growing (measured: 127 MiB peak RSS for 1 GiB before, debug build).
                        let sent = try await upload!.send(part, client: client, key: key, configuration: configuration)
                        part = sent ?? allocator.buffer(capacity: partSize)
                        part.clear()
                    }
                    var slice = chunk.readSlice(length: min(partSize - part.readableBytes, chunk.readableBytes))!
                    total += Int64(slice.readableBytes)
                    part.writeBuffer(&slice)
                }
            }
            // Some sequences end quietly when the task is cancelled; that is not a complete body.
            try Task.checkCancellation()
            if upload != nil {
                _ = try await upload!.send(part, client: client, key: key, configuration: configuration)
                let parts = try await upload!.finish()
                let id = upload!.id
                try await translating { try await client.completeMultipartUpload(key, uploadID: id, parts: parts) }
            } else {
                try await translating { try await client.putObject(key, part) }
            }
            return total
        } catch {
            if let upload { await upload.abandon(client: client, key: key) }
            throw error
        }
    }
}

/// A multipart upload being fed by `write`: the parts sent so far and the one in flight.
struct StreamedUpload {
    let id: String
    var parts: [(Int, String)] = []
    var inFlight: Task<String, any Error>?
    /// The buffer of the part in flight, handed back for reuse once it has been sent.
    var inFlightBuffer: ByteBuffer?

    init(id: String) {
        self.id = id
    }

    /// Waits for the part in flight, then starts sending `part` as the next one.
    /// - Returns: the buffer of the part that was in flight, now free to refill.
    mutating func send(_ part: ByteBuffer, client: S3Client, key: String, configuration: S3Configuration) async throws -> ByteBuffer? {
        let number = parts.count + (inFlight == nil ? 1 : 2)
        var free: ByteBuffer?
        if let previous = inFlight.take() {
            parts.append((parts.count + 1, try await previous.value))
            free = inFlightBuffer.take()
        }
        inFlightBuffer = part
        let id = id
        inFlight = Task {
            do {
                return try await client.uploadPart(key, uploadID: id, number: number, part)
            } catch {
                throw S3ArtifactRepository.publicError(error, configuration)
            }
        }
        return free
    }

    /// Waits for the last part; every part's number and ETag.
    mutating func finish() async throws -> [(Int, String)] {
        if let previous = inFlight.take() {
            parts.append((parts.count + 1, try await previous.value))
        }
        return parts
    }

    /// Stops the part in flight and aborts the upload, so its parts are discarded. Runs in a
    /// task of its own: the caller's may be cancelled, which would fail the abort at once.
    func abandon(client: S3Client, key: String) async {
        inFlight?.cancel()
        _ = try? await inFlight?.value
        let id = id
        _ = try? await Task { try await client.abortMultipartUpload(key, uploadID: id) }.value
    }
}
