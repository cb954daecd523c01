import CairnArtifacts
import CairnCore
import NIOCore

/// MLflow's proxied multipart upload mapped onto S3's: `mpu/create` starts an S3 multipart
/// upload and answers one presigned UploadPart URL per part, so the client sends the parts
/// straight to the bucket, as MLflow's own server does for an S3 destination; `complete` and
/// `abort` are S3's. The upload id the client holds is S3's.
extension S3ArtifactRepository: MultipartArtifactRepository {
    public func uploadID(_ string: String) throws -> MultipartUploadID {
        try MultipartUploadID(objectStoreID: string)
    }

    public func createMultipartUpload(at path: ArtifactPath, parts: Int) async throws -> MultipartUploadID {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        guard (0...MultipartUpload.maxParts).contains(parts) else {
            throw CairnError.invalidParameter("A multipart upload has at most \(MultipartUpload.maxParts) parts, not \(parts)")
        }
        let id = try await translating { try await client.createMultipartUpload(key(for: path)) }
        return try MultipartUploadID(objectStoreID: id)
    }

    public func partUploadURLs(for upload: MultipartUploadID, at path: ArtifactPath, parts: Int) async throws -> [String]? {
        let key = key(for: path)
        return (0..<parts).map { client.presignedUploadPartURL(key, uploadID: upload.rawValue, number: $0 + 1) }
    }

    /// Parts go to the presigned URLs `mpu/create` answered, not through this server; the
    /// part route has no artifact path to name the object by.
    public func writePart<Body: AsyncSequence & Sendable>(_ number: Int, of upload: MultipartUploadID, from body: Body) async throws
        -> MultipartPart
    where Body.Element == ByteBuffer {
        throw CairnError(.notImplemented, "Parts of an upload to S3 are sent to the presigned URLs that mpu/create answered")
    }

    @discardableResult
    public func completeMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath, parts: [MultipartPart]) async throws -> Int64 {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        var seen = Set<Int>()
        for part in parts {
            guard part.number >= 1, part.number <= MultipartUpload.maxParts else {
                throw CairnError.invalidParameter("Invalid part number \(part.number)")
            }
            guard seen.insert(part.number).inserted else {
                throw CairnError.invalidParameter("Part \(part.number) is listed more than once")
            }
            guard !part.etag.isEmpty, !part.etag.contains("\""), part.etag.utf8.count <= 1024 else {
                throw CairnError.invalidParameter("Part \(part.number) has an invalid ETag")
            }
        }
        let key = key(for: path)
        return try await translating {
            do {
                try await client.completeMultipartUpload(
                    key, uploadID: upload.rawValue, parts: parts.sorted { $0.number < $1.number }.map { ($0.number, "\"\($0.etag)\"") })
            } catch let error as S3Error where ["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"].contains(error.code) {
                throw CairnError.invalidParameter("The object store refused the parts listed (S3 \(error.code)): \(error.message)")
            } catch let error as S3Error where error.code == "NoSuchUpload" {
                throw MultipartUploadNotFound.error(upload)
            }
            return try await client.headObject(key)?.size ?? 0
        }
    }

    public func abortMultipartUpload(_ upload: MultipartUploadID, at path: ArtifactPath) async throws {
        guard !path.isRoot else { throw ArtifactPath.invalid }
        try await translating { try await client.abortMultipartUpload(key(for: path), uploadID: upload.rawValue) }
    }
}

enum MultipartUploadNotFound {
    static func error(_ upload: MultipartUploadID) -> CairnError {
        .notFound("No multipart upload with id '\(upload)' for this artifact; it may have been completed or aborted")
    }
}
