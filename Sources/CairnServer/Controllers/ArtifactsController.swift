import CairnArtifacts
import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

/// MLflow's proxied artifact API, `/api/2.0/mlflow-artifacts/artifacts/…`: the client sends
/// every file through the tracking server, which stores it under its artifacts destination.
/// Multipart uploads are `MultipartUploadsController`'s when the repository supports them.
struct ArtifactsController<Context: CairnRequestContext>: Sendable {
    let repository: any ArtifactRepository

    static var prefix: String { "/api/2.0/mlflow-artifacts/artifacts" }

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("api/2.0/mlflow-artifacts/artifacts", use: list)
        router.get("api/2.0/mlflow-artifacts/artifacts/**", use: download)
        router.put("api/2.0/mlflow-artifacts/artifacts/**", use: upload)
        router.delete("api/2.0/mlflow-artifacts/artifacts/**", use: delete)
        if !(repository is any MultipartArtifactRepository) {
            // The client recognises this message and falls back to a plain PUT.
            for route in [
                "api/2.0/mlflow-artifacts/mpu/create/**", "api/2.0/mlflow-artifacts/mpu/complete/**",
                "api/2.0/mlflow-artifacts/mpu/abort/**",
            ] {
                router.post(RouterPath(route)) { _, _ -> Response in
                    throw CairnError(.notImplemented, "Multipart upload is not supported for the current artifact repository")
                }
            }
        }
        // Presigned downloads exist for object stores; a local destination answers 501 as
        // MLflow's does, and the client falls back to a plain GET (server-info also tells
        // it they are off).
        if let presigning = repository as? any PresignedDownloadRepository {
            router.get("api/2.0/mlflow-artifacts/presigned/**") { _, context -> JSONBody in
                try await Self.presigned(presigning, path: try Self.path(capturedBy: context))
            }
        } else {
            router.get("api/2.0/mlflow-artifacts/presigned/**") { _, _ -> Response in
                throw CairnError(.notImplemented, "Presigned URLs are not supported for the current artifact repository")
            }
        }
    }

    /// MLflow's `PresignedDownloadUrlResponse`: the URL, its headers and the file's size.
    static func presigned(_ repository: any PresignedDownloadRepository, path: ArtifactPath) async throws -> JSONBody {
        let download = try await repository.presignedDownload(path, lifetime: PresignedDownloadLifetime.seconds)
        return .object { writer in
            writer.key("url")
            writer.string(download.url)
            writer.key("headers")
            writer.beginObject()
            for (name, value) in download.headers.sorted(by: { $0.key < $1.key }) {
                writer.key(name)
                writer.string(value)
            }
            writer.endObject()
            writer.key("file_size")
            writer.int(download.size)
        }
    }

    /// The artifact path the route's `**` captured, percent-decoded once (a path's `+` is
    /// literal) and validated. The capture, not the request path, so a server mounted under a
    /// static prefix reads the same path.
    static func path(capturedBy context: Context) throws -> ArtifactPath {
        guard let raw = context.parameters[Parameters.recursiveCaptureKey] else { throw ArtifactPath.invalid }
        guard let decoded = try? PercentDecoding.decode(raw, mode: .path) else { throw ArtifactPath.invalid }
        return try ArtifactPath(decoded)
    }

    @Sendable func upload(_ request: Request, context: Context) async throws -> JSONBody {
        let path = try Self.path(capturedBy: context)
        guard !path.isRoot else { throw ArtifactPath.invalid }
        // A path that names a folder (`…/dir/`, or `…/dir%2F`) would be stored as a file named
        // like the folder, in the way of every later file under it. MLflow refuses it with
        // this message; the router drops the trailing empty segment, so the raw path is asked.
        let raw = request.uri.path
        if raw.hasSuffix("/") || raw.lowercased().hasSuffix("%2f") {
            throw CairnError.invalidParameter("Artifact path must include a filename (cannot end with '/')")
        }
        try await repository.write(path, from: request.body)
        return .empty
    }

    @Sendable func download(_ request: Request, context: Context) async throws -> Response {
        try await Self.attachment(repository: repository, path: try Self.path(capturedBy: context))
    }

    /// The file at `path` streamed as a download, never rendered in place: the API's and the
    /// UI's downloads answer alike.
    static func attachment(repository: any ArtifactRepository, path: ArtifactPath) async throws -> Response {
        let contents = try await repository.read(path)
        let name = path.name ?? "artifact"
        var headers: HTTPFields = [
            .contentType: MediaType.forArtifact(named: name),
            .contentLength: String(contents.size),
            .contentDisposition: "attachment; filename=\"\(name.replacingOccurrences(of: "\"", with: ""))\"",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: contents))
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody {
        let fields = try QueryString.parse(request.uri.query ?? "")
        var text = ""
        if case .string(let value)? = fields["path"] { text = value }
        let path = try ArtifactPath(text)
        let entries = try await repository.list(path)
        return .object { writer in
            guard !entries.isEmpty else { return }
            writer.key("files")
            writer.beginArray()
            for entry in entries {
                writer.beginObject()
                writer.key("path")
                writer.string(entry.name)
                writer.key("is_dir")
                writer.bool(entry.isDirectory)
                if let size = entry.size, !entry.isDirectory {
                    writer.key("file_size")
                    writer.int(size)
                }
                writer.endObject()
            }
            writer.endArray()
        }
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> JSONBody {
        let path = try Self.path(capturedBy: context)
        guard !path.isRoot else { throw ArtifactPath.invalid }
        try await repository.delete(path)
        return .empty
    }
}

/// Lifetime of a presigned download URL: `MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS`, as
/// MLflow's server reads it, else its 5 minutes (at most SigV4's 7 days).
enum PresignedDownloadLifetime {
    static let seconds: Int = {
        guard let text = ProcessInfo.processInfo.environment["MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS"], let seconds = Int(text),
            (1...604_800).contains(seconds)
        else { return 300 }
        return seconds
    }()
}

extension MediaType {
    /// The Content-Type MLflow serves artifacts with: text for MLmodel and YAML/text files,
    /// otherwise by extension, falling back to octet-stream.
    static func forArtifact(named name: String) -> String {
        let lower = name.lowercased()
        if lower == "mlmodel" || lower.hasSuffix(".txt") || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".log") {
            return "text/plain"
        }
        if let dot = lower.lastIndex(of: "."), let type = MediaType.getMediaType(forExtension: String(lower[lower.index(after: dot)...])) {
            return type.description
        }
        return "application/octet-stream"
    }
}
