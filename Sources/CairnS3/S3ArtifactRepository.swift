import AsyncHTTPClient
import CairnArtifacts
import CairnCore
import NIOCore

/// Artifacts as objects in an S3 bucket (AWS, or any S3-compatible store through an
/// endpoint URL) under a key prefix: `mlflow-artifacts:/P` is the object `<prefix>/P`,
/// where MLflow's `S3ArtifactRepository` puts it too, so either server can read what the
/// other wrote.
///
/// Directories are key prefixes, as in MLflow: a directory exists while an object lies
/// below it. Uploads stream through a part buffer (`partSize`, twice that while one part is
/// sent and the next gathered), so memory does not grow with the object; a body larger than
/// one part becomes an S3 multipart upload, aborted on any failure, so an interrupted upload
/// never leaves a visible object. Downloads stream S3's answer as the client reads it.
///
/// Client-facing errors follow the protocol: a missing key is RESOURCE_DOES_NOT_EXIST; a
/// missing bucket, refused credentials or an unreachable store are named plainly
/// (`S3Error.publicError`), 503 only for a store that does not answer.
public struct S3ArtifactRepository: ArtifactRepository {
    public let configuration: S3Configuration
    let client: S3Client
    let allocator = ByteBufferAllocator()

    /// - Parameter httpClient: defaults to one shared client for the process (connect in
    ///   10 s, no silence over 60 s reading or writing, no redirects, no retries of
    ///   refused connections: `S3Client` retries itself).
    public init(configuration: S3Configuration, httpClient: HTTPClient? = nil) {
        self.configuration = configuration
        self.client = S3Client(configuration: configuration, http: httpClient ?? Self.sharedHTTPClient)
    }

    static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.timeout.connect = .seconds(10)
        configuration.timeout.read = .seconds(60)
        // A store that stops reading an upload (frozen, or its disk full) fails the attempt after
        // a minute of no progress, as boto3's 60 s socket timeout does, rather than only at the
        // part's whole-transfer deadline (minutes for a part).
        configuration.timeout.write = .seconds(60)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Checks at start-up that the bucket exists and the credentials reach it (HeadBucket).
    /// - Throws: `CairnError` saying what is wrong, for the operator.
    public func checkBucket() async throws {
        do {
            try await client.headBucket()
        } catch let error as S3Error where error.status == 404 {
            throw CairnError(
                .resourceDoesNotExist,
                "The artifacts destination \(configuration.uri) cannot be used: bucket '\(configuration.bucket)' does not exist at \(configuration.endpoint)"
            )
        } catch {
            let shown = (Self.publicError(error, configuration) as? CairnError)?.message ?? "\(error)"
            throw CairnError(.invalidState, "The artifacts destination \(configuration.uri) cannot be used: \(shown)")
        }
    }

    /// The object key of `path`.
    func key(for path: ArtifactPath) -> String {
        if configuration.prefix.isEmpty { return path.description }
        return path.isRoot ? configuration.prefix : configuration.prefix + "/" + path.description
    }

    /// The key prefix of the directory at `path`: its key and a `/` (`""` for an unprefixed root).
    func directoryPrefix(for path: ArtifactPath) -> String {
        let key = key(for: path)
        return key.isEmpty ? "" : key + "/"
    }

    public func status(of path: ArtifactPath) async throws -> ArtifactStatus {
        try await translating {
            if path.isRoot { return .directory }
            if let head = try await client.headObject(key(for: path)) { return .file(size: head.size) }
            return try await isDirectory(path) ? .directory : .missing
        }
    }

    /// Whether any object lies below `path`.
    func isDirectory(_ path: ArtifactPath) async throws -> Bool {
        let page = try await client.listObjects(prefix: directoryPrefix(for: path), delimiter: "/", continuation: nil, maxKeys: 1)
        return !page.objects.isEmpty || !page.prefixes.isEmpty
    }

    public func list(_ path: ArtifactPath) async throws -> [ArtifactEntry] {
        try await translating {
            let prefix = directoryPrefix(for: path)
            var entries: [ArtifactEntry] = []
            var continuation: String?
            repeat {
                let page = try await client.listObjects(prefix: prefix, delimiter: "/", continuation: continuation)
                for object in page.objects {
                    let name = String(object.key.dropFirst(prefix.count))
                    // `dir/` itself (a console-made folder marker) and names no client could fetch are hidden.
                    guard ArtifactPath.isValidSegment(name) else { continue }
                    entries.append(.file(name, size: object.size))
                }
                for directory in page.prefixes {
                    let name = String(directory.dropFirst(prefix.count).dropLast())
                    guard ArtifactPath.isValidSegment(name) else { continue }
                    entries.append(.directory(name))
                }
                continuation = page.continuation
            } while continuation != nil
            entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            return entries
        }
    }

    @discardableResult
    public func delete(_ path: ArtifactPath) async throws -> Bool {
        guard !path.isRoot else { throw CairnError.invalidParameter("Cannot delete the artifact root") }
        return try await translating {
            let key = key(for: path)
            var removed = false
            if try await client.headObject(key) != nil {
                try await client.deleteObjects([key])
                removed = true
            }
            // Everything below, a page (at most 1000 keys, DeleteObjects' limit) at a time. Each
            // round lists from the start again: a continuation token need not survive the
            // deletion of the keys before it.
            var previous: String?
            while true {
                let page = try await client.listObjects(prefix: key + "/", delimiter: nil, continuation: nil)
                guard let first = page.objects.first?.key else { break }
                // A store that answers success but keeps the keys must not loop forever.
                guard first != previous else {
                    throw S3Error(status: 200, code: "DeleteIneffective", message: first, operation: "DeleteObjects")
                }
                previous = first
                try await client.deleteObjects(page.objects.map(\.key))
                removed = true
            }
            return removed
        }
    }

    public func read(_ path: ArtifactPath) async throws -> ArtifactContents {
        let isDirectory = CairnError.invalidParameter("Artifact '\(path)' is a directory")
        guard !path.isRoot else { throw isDirectory }
        return try await translating {
            let key = key(for: path)
            guard let head = try await client.headObject(key) else {
                if try await self.isDirectory(path) { throw isDirectory }
                throw CairnError.notFound("No such artifact: '\(path)'")
            }
            return ArtifactContents(size: head.size, chunks: S3ObjectChunks(client: client, key: key, etag: head.etag, size: head.size))
        }
    }

    /// Runs `body`, turning the store's failures into what a client of Cairn should see.
    func translating<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.publicError(error, configuration)
        }
    }

    static func publicError(_ error: any Error, _ configuration: S3Configuration) -> any Error {
        switch error {
        case let error as S3Error: error.publicError(configuration)
        case let error as S3UnreachableError: error.publicError
        default: error
        }
    }
}

/// An object's bytes as S3 sends them. Nothing is requested before iteration starts; each
/// iteration is one GetObject, pinned to the version that was measured (`If-Match` on the
/// ETag), so a download never mixes two uploads and its `Content-Length` stays true.
struct S3ObjectChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let client: S3Client
    let key: String
    let etag: String?
    let size: Int64

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: self)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: S3ObjectChunks
        var body: HTTPClientResponse.Body.AsyncIterator?
        var received: Int64 = 0
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            if body == nil {
                let response = try await chunks.client.getObject(chunks.key, etag: chunks.etag)
                body = response.body.makeAsyncIterator()
            }
            guard let chunk = try await body?.next() else {
                finished = true
                // The size went out as Content-Length; a short object must fail, not hang.
                guard received == chunks.size else {
                    throw S3Error(status: 200, code: "ShortRead", message: "\(received) of \(chunks.size) bytes", operation: "GetObject")
                }
                return nil
            }
            received += Int64(chunk.readableBytes)
            return chunk
        }
    }
}

extension S3ArtifactRepository: PresignedDownloadRepository {
    public func presignedDownload(_ path: ArtifactPath, lifetime: Int) async throws -> PresignedDownload {
        let isDirectory = CairnError.invalidParameter("Artifact '\(path)' is a directory")
        guard !path.isRoot else { throw isDirectory }
        return try await translating {
            let key = key(for: path)
            guard let head = try await client.headObject(key) else {
                if try await self.isDirectory(path) { throw isDirectory }
                throw CairnError.notFound("No such artifact: '\(path)'")
            }
            return PresignedDownload(url: client.presignedURL(method: "GET", key: key, query: [], lifetime: lifetime), size: head.size)
        }
    }
}
