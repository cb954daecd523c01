import CairnCore
import Foundation
import Hummingbird
import NIOCore

/// The largest request body a route takes, and the refusal a client gets when it sends more:
/// a 413 in MLflow's error shape that names the limit and, where there is one, the flag
/// that raises it, so the fix is in the message.
public struct RequestBodyLimit: Sendable {
    public var bytes: Int
    /// The command-line option that sets the limit, e.g. `--max-request-bytes`.
    public var flag: String?

    public init(bytes: Int, flag: String? = nil) {
        self.bytes = bytes
        self.flag = flag
    }

    public var error: CairnError {
        let mebibytes = Double(bytes) / Double(1 << 20)
        let size =
            mebibytes >= 1 ? " (\(mebibytes.rounded() == mebibytes ? String(Int(mebibytes)) : String(format: "%.1f", mebibytes)) MiB)" : ""
        let remedy = flag.map { "; start the server with a larger \($0) to accept it" } ?? ""
        return CairnError(.contentTooLarge, "The request body is larger than the limit of \(bytes) bytes\(size)\(remedy).")
    }

    /// Reads the whole body, refusing with `error` as soon as it passes the limit.
    public func collect(_ body: RequestBody) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: bytes)
        } catch is NIOTooManyBytesError {
            throw error
        }
    }
}
