import CairnCore
import NIOCore

/// A repository that can assemble one artifact from parts uploaded separately and in
/// parallel: MLflow's proxied multipart upload (`mpu/create`, part uploads, `mpu/complete` or
/// `mpu/abort`). The server advertises `multipart_uploads_enabled` exactly when its repository
/// conforms, as MLflow does for its `MultipartUploadMixin`.
///
/// Parts reach the repository through the server (`writePart`), or, for an object store, go
/// straight to it through the presigned URLs `partUploadURLs` hands out.
public protocol MultipartArtifactRepository: ArtifactRepository {
    /// Validates an upload id a client sent back, in the form this repository issues. The
    /// default accepts only Cairn's own ids (`MultipartUploadID.init(_:)`); an object store
    /// accepts its own.
    /// - Throws: INVALID_PARAMETER_VALUE for anything else.
    func uploadID(_ string: String) throws -> MultipartUploadID

    /// Where the client sends each of the `parts` parts of `upload` (part 1 first), when
    /// that is not this server: an object store's presigned URLs. `nil` (the default) means
    /// the server's own part route, which calls `writePart`.
    func partUploadURLs(for upload: MultipartUploadID, at path: ArtifactPath, parts: Int) async throws -> [String]?

    /// Starts an upload that will become the file at `path` and may have up to `parts` parts.
    /// Refuses early what writing `path` would refuse (a directory in the way, a file where a
    /// directory is needed).
    func createMultipartUpload(at path: ArtifactPath, parts: Int) async throws -> MultipartUploadID

    /// Stores part `number` of `upload`. All or nothing, like `write`: a body that fails
    /// leaves no trace. A part sent again (a client retry) does not disturb the earlier
    /// attempt; `complete` uses whichever attempt's ETag it is given.
    /// - Returns: the part with the ETag that `complete` must be given for it.
    func writePart<Body: AsyncSequence & Sendable>(_ number: Int, of upload: MultipartUploadID, from body: Body) async throws
        -> MultipartPart
    where Body.Element == ByteBuffer

    /// Joins `parts` in part-number order into the file at `path` and ends the upload. Every
    /// listed part must have been written with the ETag given; on any refusal nothing changes
    /// and the upload can still be completed or aborted.
    /// - Returns: the size of the assembled file.
    @discardableResult
    func completeMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath, parts: [MultipartPart]) async throws -> Int64

    /// Ends the upload and discards its parts. An upload that no longer exists (already
    /// completed or aborted) is not an error, because clients abort after failures of any
    /// kind, including a lost answer to `complete`.
    func abortMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath) async throws
}

extension MultipartArtifactRepository {
    public func uploadID(_ string: String) throws -> MultipartUploadID {
        try MultipartUploadID(string)
    }

    public func partUploadURLs(for upload: MultipartUploadID, at path: ArtifactPath, parts: Int) async throws -> [String]? {
        nil
    }
}

/// Limits shared by every implementation.
public enum MultipartUpload {
    /// Most parts in one upload, S3's limit (the MLflow client never needs more: its default
    /// 10 MB chunks reach it at 100 GB).
    public static let maxParts = 10_000

    /// Whether `string` is exactly `length` digits of `0-9a-f`: the only form in which client
    /// input becomes part of a file name.
    static func isLowercaseHex(_ string: String, length: Int) -> Bool {
        string.utf8.count == length
            && string.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            }
    }

    /// The error for a part number outside `1...parts` of its upload.
    static func invalidPartNumber(_ number: Int, parts: Int) -> CairnError {
        .invalidParameter("Invalid part number \(number): this upload has parts 1 to \(parts)")
    }

    static func notFound(_ upload: MultipartUploadID) -> CairnError {
        .notFound("No multipart upload with id '\(upload)'; it may have been completed or aborted")
    }

    static func wrongPath(_ upload: MultipartUploadID, _ path: ArtifactPath) -> CairnError {
        .invalidParameter("Multipart upload '\(upload)' is not an upload of artifact '\(path)'")
    }
}

/// The id of a multipart upload: 128 random bits as 32 lower-case hex digits. It is the only
/// thing a part upload is authorised by (like a presigned URL), so it is unguessable, and since
/// it names a staging directory it is validated before it gets near the disk.
public struct MultipartUploadID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    static let length = 32

    /// Validates client input.
    /// - Throws: INVALID_PARAMETER_VALUE for anything but 32 lower-case hex digits; the input
    ///   is not echoed.
    public init(_ string: String) throws(CairnError) {
        guard Self.isValid(string) else { throw .invalidParameter("Invalid multipart upload id") }
        self.rawValue = string
    }

    /// An object store's own upload id (S3's are opaque, URL-safe base64-like text). It only
    /// ever travels in a query string, encoded; it never names a file.
    /// - Throws: INVALID_PARAMETER_VALUE for an empty or over-long id, or one with characters
    ///   outside `A-Z a-z 0-9 - _ . ~ + / =`; the input is not echoed.
    public init(objectStoreID string: String) throws(CairnError) {
        guard (1...1024).contains(string.utf8.count),
            string.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-_.~+/=".utf8.contains(byte)
            })
        else { throw .invalidParameter("Invalid multipart upload id") }
        self.rawValue = string
    }

    private init(unchecked: String) {
        self.rawValue = unchecked
    }

    /// A fresh id from Cairn's one id generator, which draws on the system's
    /// cryptographically secure generator.
    static func random() -> MultipartUploadID {
        MultipartUploadID(unchecked: CairnID.make())
    }

    static func isValid(_ string: String) -> Bool {
        MultipartUpload.isLowercaseHex(string, length: length)
    }

    public var description: String { rawValue }
}

/// One uploaded part: its number and the ETag its upload answered with.
public struct MultipartPart: Sendable, Hashable {
    public var number: Int
    /// The ETag without the quotes of the `ETag` header: for parts stored by Cairn the SHA-256
    /// of the part's bytes in hex, for an object store its own.
    public var etag: String

    public init(number: Int, etag: String) {
        self.number = number
        self.etag = etag
    }

    /// Reads an ETag as clients send it back: the header's quoted form, a weak `W/` form or
    /// the bare value.
    public init(number: Int, etagHeader: String) {
        var value = Substring(etagHeader)
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
        self.init(number: number, etag: String(value))
    }

    /// The value for an `ETag` response header.
    public var etagHeader: String { "\"\(etag)\"" }
}
