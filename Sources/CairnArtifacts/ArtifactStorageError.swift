#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A storage failure no client caused: permissions, a full disk, an I/O error, a file that
/// changed under a download. It is deliberately not a `CairnError`, so the server answers
/// with a bare 500 and logs this description instead of showing it to the client.
public struct ArtifactStorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failed operation, e.g. `renameat`.
    public var operation: String
    /// The `errno` value, or 0 when the failure was not a system call.
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    static func last(_ operation: String) -> ArtifactStorageError {
        ArtifactStorageError(operation: operation, code: errno)
    }

    public var description: String {
        code == 0 ? "artifact storage: \(operation)" : "artifact storage: \(operation): \(String(cString: strerror(code))) (errno \(code))"
    }
}
