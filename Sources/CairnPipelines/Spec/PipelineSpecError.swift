import CairnCore

/// A spec the engine must not run, refused at load time: where (`file:line:column`) and why.
/// The server maps it to `CairnError.invalidParameterValue` with `description` as the message.
public struct PipelineSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var reason: String

    public init(_ reason: String, at location: SourceLocation) {
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(location): \(reason)" }
}

extension PipelineSpecError {
    /// The error the API answers with (MLflow's `INVALID_PARAMETER_VALUE`, the whole
    /// `file:line:column: reason` as the message).
    public var cairnError: CairnError { .invalidParameter(description) }
}
