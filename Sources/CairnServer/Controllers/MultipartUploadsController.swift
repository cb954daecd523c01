import CairnArtifacts
import CairnCore
import HTTPTypes
import Hummingbird

/// MLflow's proxied multipart upload, `/api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/…`,
/// mounted when the artifact repository can assemble parts.
///
/// The protocol, as the 3.17 client drives it: `create` answers an upload id and one URL per
/// part; the client PUTs the parts to their URLs in parallel with plain `requests` (no
/// tracking credentials) and keeps each answer's `ETag`; then it calls `complete` with every
/// part's number and ETag, or `abort` after any failure. An object store (S3) hands out its
/// own presigned URLs, and the parts go straight to the bucket; for a repository on this
/// server the URLs point back at
/// `PUT /api/cairn/v1/artifacts/mpu/{upload_id}/parts/{part_number}`, a Cairn route because
/// MLflow has none. The unguessable upload id is what authorises a part, as a presigned URL's
/// signature would.
struct MultipartUploadsController<Context: CairnRequestContext>: Sendable {
    let repository: any MultipartArtifactRepository
    /// The server's `--static-prefix`: the part URLs the client calls back must carry it.
    var staticPrefix = ""

    static var partsPrefix: String { "/api/cairn/v1/artifacts/mpu" }

    func addRoutes(to router: some RouterMethods<Context>) {
        router.post("api/2.0/mlflow-artifacts/mpu/create/**", use: create)
        router.post("api/2.0/mlflow-artifacts/mpu/complete/**", use: complete)
        router.post("api/2.0/mlflow-artifacts/mpu/abort/**", use: abort)
        router.put("api/cairn/v1/artifacts/mpu/{upload_id}/parts/{part_number}", use: uploadPart)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> JSONBody {
        let parameters = try await RequestParameters.from(request)
        let destination = try Self.multipartDestination(capturedBy: context, parameters)
        let parts = try parameters.int("num_parts") ?? 0
        guard (0...MultipartUpload.maxParts).contains(parts) else {
            throw CairnError.invalidParameter("num_parts must be between 0 and \(MultipartUpload.maxParts)")
        }
        // Before anything is staged: an upload whose part URLs cannot be built is useless.
        let origin = try Self.origin(of: request)
        let upload = try await repository.createMultipartUpload(at: destination, parts: parts)
        let urls: [String]
        do {
            urls =
                try await repository.partUploadURLs(for: upload, at: destination, parts: parts)
                ?? (0..<parts).map { "\(origin)\(staticPrefix)\(Self.partsPrefix)/\(upload)/parts/\($0 + 1)" }
        } catch {
            try? await repository.abortMultipartUpload(upload, at: destination)
            throw error
        }
        return .object { writer in
            writer.key("upload_id")
            writer.string(upload.rawValue)
            writer.key("credentials")
            writer.beginArray()
            for (number, url) in urls.enumerated() {
                writer.beginObject()
                writer.key("url")
                writer.string(url)
                writer.key("part_number")
                writer.int(Int64(number + 1))
                writer.endObject()
            }
            writer.endArray()
        }
    }

    /// Streams one part to the repository and answers its ETag, which the client hands back
    /// to `complete`.
    @Sendable func uploadPart(_ request: Request, context: Context) async throws -> Response {
        let upload = try repository.uploadID(context.parameters.get("upload_id") ?? "")
        let number = try Self.partNumber(context.parameters.get("part_number") ?? "")
        let part = try await repository.writePart(number, of: upload, from: request.body)
        var response = JSONBody.empty.response()
        response.headers[.eTag] = part.etagHeader
        return response
    }

    @Sendable func complete(_ request: Request, context: Context) async throws -> JSONBody {
        let parameters = try await RequestParameters.from(request)
        let destination = try Self.multipartDestination(capturedBy: context, parameters)
        let upload = try repository.uploadID(parameters.requiredString("upload_id"))
        guard parameters.fields["parts"] != nil else { throw CairnError.missingParameter("parts") }
        var parts: [MultipartPart] = []
        for part in try parameters.objects("parts") {
            let number = try part.requiredInt64("part_number")
            guard let fitted = Int(exactly: number), fitted >= 1, fitted <= MultipartUpload.maxParts else {
                throw CairnError.invalidParameter("Invalid part number \(number)")
            }
            parts.append(MultipartPart(number: fitted, etagHeader: try part.string("etag") ?? ""))
        }
        try await repository.completeMultipartUpload(upload, at: destination, parts: parts)
        return .empty
    }

    @Sendable func abort(_ request: Request, context: Context) async throws -> JSONBody {
        let parameters = try await RequestParameters.from(request)
        let destination = try Self.multipartDestination(capturedBy: context, parameters)
        let upload = try repository.uploadID(parameters.requiredString("upload_id"))
        try await repository.abortMultipartUpload(upload, at: destination)
        return .empty
    }

    /// The artifact a multipart request is about: the directory in the URL joined with the
    /// base name of `path`, the client's local file, as MLflow's repositories join them. Both
    /// separators end a directory, so a Windows client's path works too.
    static func multipartDestination(capturedBy context: Context, _ parameters: RequestParameters) throws -> ArtifactPath {
        let directory = try ArtifactsController<Context>.path(capturedBy: context)
        let local = try parameters.requiredString("path")
        let name = local.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }.last ?? ""
        let file = try ArtifactPath(String(name))
        guard file.segments.count == 1 else { throw ArtifactPath.invalid }
        return try directory.appending(file)
    }

    /// A part number from the URL: plain decimal digits in `1...maxParts`.
    static func partNumber(_ text: String) throws -> Int {
        guard text.utf8.count <= 5, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let number = Int(text), number >= 1, number <= MultipartUpload.maxParts
        else { throw CairnError.invalidParameter("Invalid part number") }
        return number
    }

    /// `scheme://host[:port]` of this server as the client addressed it, for the part URLs
    /// the client calls back. The client's own `Host` is the one name known to reach this
    /// server from there (`HostOriginMiddleware` has already checked it against the allowed
    /// hosts); it must be a bare authority, so it cannot smuggle user info, a path or a query
    /// into the URL. A proxy that terminates TLS says so with `X-Forwarded-Proto`; at worst a
    /// client that forges it gets unusable URLs for itself.
    static func origin(of request: Request) throws -> String {
        guard let authority = request.head.authority, isBareAuthority(authority) else {
            throw CairnError.invalidParameter("Multipart upload needs a Host header naming this server")
        }
        let forwarded = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased()
        return "\(forwarded == "https" ? "https" : "http")://\(authority)"
    }

    /// A host name, IPv4 or bracketed IPv6 address, and an optional port.
    static func isBareAuthority(_ authority: String) -> Bool {
        !authority.isEmpty && authority.utf8.count <= 261
            && authority.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
                    true
                default:
                    false
                }
            }
    }
}
