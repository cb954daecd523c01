/// A repository whose files a client can fetch straight from the store, through a URL the
/// server signs: MLflow's `GET /mlflow-artifacts/presigned/<path>`, which the client uses for
/// parallel ranged downloads when the server's info says `multipart_downloads_enabled`, as
/// MLflow's server does for an object store.
public protocol PresignedDownloadRepository: ArtifactRepository {
    /// A URL that downloads the file at `path` (any byte range of it) for `lifetime` seconds.
    /// Fails like `read` when there is no such file or it is a directory.
    func presignedDownload(_ path: ArtifactPath, lifetime: Int) async throws -> PresignedDownload
}

/// A presigned download: the URL, the headers to send with it, and the file's size.
public struct PresignedDownload: Sendable, Equatable {
    public var url: String
    public var headers: [String: String]
    public var size: Int64

    public init(url: String, headers: [String: String] = [:], size: Int64) {
        self.url = url
        self.headers = headers
        self.size = size
    }
}
