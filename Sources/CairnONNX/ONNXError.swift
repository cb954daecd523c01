/// Every failure the ONNX reader and runtime report: malformed bytes, models
/// Cairn cannot run, and bad feeds at run time. Nothing in this module traps
/// on input it was handed; it throws one of these instead.
public struct ONNXError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The bytes are not a well-formed protobuf ModelProto.
        case malformedModel
        /// Well-formed, but inconsistent (dangling names, bad attribute values, …).
        case invalidModel
        /// Valid ONNX that uses something the native runtime does not implement.
        case unsupported
        /// A feed handed to `run` does not match what the model declares.
        case invalidInput
        /// A kernel could not compute a result for otherwise valid feeds.
        case executionFailed
        /// The model file could not be read.
        case io
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func malformed(_ message: String) -> ONNXError { ONNXError(.malformedModel, message) }
    static func invalidModel(_ message: String) -> ONNXError { ONNXError(.invalidModel, message) }
    static func unsupported(_ message: String) -> ONNXError { ONNXError(.unsupported, message) }
    static func invalidInput(_ message: String) -> ONNXError { ONNXError(.invalidInput, message) }
    static func execution(_ message: String) -> ONNXError { ONNXError(.executionFailed, message) }

    /// The same error with where it happened in front, so a failure deep in a
    /// kernel still names the node that raised it.
    func prefixed(_ context: String) -> ONNXError {
        ONNXError(kind, "\(context): \(message)")
    }
}
