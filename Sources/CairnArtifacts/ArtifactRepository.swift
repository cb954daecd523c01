import NIOCore

/// Where artifacts live: the local file system now, an S3-compatible store later.
///
/// Every method takes an `ArtifactPath`, so client input has been validated before it gets
/// here; implementations still resolve that path against their root and refuse anything that
/// escapes it (symbolic links, for the local file system).
///
/// Errors: `CairnError` for what a client caused (bad path, missing file, a directory where a
/// file was expected); `ArtifactStorageError` for storage failures, which the server turns
/// into a bare 500.
public protocol ArtifactRepository: Sendable {
    /// Stores the bytes of `body` at `path`, replacing any file there, creating parent
    /// directories as needed. All or nothing: readers see the old file or the complete new
    /// one, and if `body` throws or the task is cancelled nothing is left behind.
    /// Hummingbird's `RequestBody` can be passed as is.
    /// - Returns: the number of bytes written.
    @discardableResult
    func write<Body: AsyncSequence & Sendable>(_ path: ArtifactPath, from body: Body) async throws -> Int64
    where Body.Element == ByteBuffer

    /// Opens the file at `path` for streaming. Fails up front (404 / 400) if there is no such
    /// file or it is a directory; the returned sequence reads lazily, one chunk at a time.
    func read(_ path: ArtifactPath) async throws -> ArtifactContents

    /// The entries directly inside the directory at `path`, sorted by name. Empty when `path`
    /// does not exist or is a file, like MLflow's `{}` answer.
    func list(_ path: ArtifactPath) async throws -> [ArtifactEntry]

    /// Deletes the file or directory tree at `path`. Deleting something absent is not an
    /// error, because clients retry. The root itself cannot be deleted.
    /// - Returns: whether something was removed.
    @discardableResult
    func delete(_ path: ArtifactPath) async throws -> Bool

    /// What is at `path`.
    func status(of path: ArtifactPath) async throws -> ArtifactStatus
}

/// One entry of a directory listing: MLflow's `FileInfo` with the basename as `path`.
public struct ArtifactEntry: Sendable, Hashable, CustomStringConvertible {
    /// The basename, never a path.
    public var name: String
    public var isDirectory: Bool
    /// Size in bytes for files; `nil` for directories, which MLflow lists without a size.
    public var size: Int64?

    public init(name: String, isDirectory: Bool, size: Int64?) {
        self.name = name
        self.isDirectory = isDirectory
        self.size = isDirectory ? nil : size
    }

    public static func file(_ name: String, size: Int64) -> ArtifactEntry {
        ArtifactEntry(name: name, isDirectory: false, size: size)
    }

    public static func directory(_ name: String) -> ArtifactEntry {
        ArtifactEntry(name: name, isDirectory: true, size: nil)
    }

    public var description: String { isDirectory ? "\(name)/" : "\(name) (\(size ?? 0) bytes)" }
}

/// What a path names.
public enum ArtifactStatus: Sendable, Hashable {
    case missing
    case file(size: Int64)
    case directory

    public var exists: Bool { self != .missing }
    public var isFile: Bool { if case .file = self { true } else { false } }
    public var isDirectory: Bool { self == .directory }
    /// The size of a file; `nil` otherwise.
    public var size: Int64? { if case .file(let size) = self { size } else { nil } }
}
