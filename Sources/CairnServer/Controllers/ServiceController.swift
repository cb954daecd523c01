import CairnCore
import Hummingbird
import Prometheus

/// Endpoints about the server itself: liveness, version, Prometheus metrics and the
/// capabilities the MLflow client probes before artifact transfers.
struct ServiceController<Context: CairnRequestContext>: Sendable {
    let registry: PrometheusCollectorRegistry
    /// Whether this server proxies artifacts (`/api/2.0/mlflow-artifacts/…`).
    let servesArtifacts: Bool
    /// Whether the artifact repository assembles multipart uploads. The client reads
    /// `multipart_uploads_enabled` when `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD` is unset and
    /// then sends files from `MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE` (500 MB) up in parts.
    let multipartUploads: Bool
    /// Whether the repository presigns downloads: the client then fetches files straight from
    /// the store in parallel ranges (`multipart_downloads_enabled`), as from MLflow's server
    /// on an object store.
    var multipartDownloads = false

    static var version: String { CairnVersion.current }

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("health") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "OK")))
        }
        router.get("version") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: Self.version)))
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("api/3.0/mlflow/server-info") { _, _ in
            JSONBody.object { writer in
                writer.key("store_type")
                writer.string("SqlStore")
                writer.key("artifact_serving_enabled")
                writer.bool(servesArtifacts)
                writer.key("multipart_uploads_enabled")
                writer.bool(multipartUploads)
                writer.key("multipart_downloads_enabled")
                writer.bool(multipartDownloads)
                writer.key("artifacts_presigned_only")
                writer.bool(false)
                writer.key("workspaces_enabled")
                writer.bool(false)
                writer.key("trace_archival_enabled")
                writer.bool(false)
            }
        }
    }
}
