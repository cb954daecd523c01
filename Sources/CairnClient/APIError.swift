import CairnCore

/// An error answer from the tracking server: MLflow's `{"error_code", "message"}` body and
/// the HTTP status it came with. `errorCode` is kept as sent, because an MLflow server has
/// codes Cairn does not (`code` is nil for those).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var errorCode: String
    public var message: String
    /// The request's URL, for messages; it never holds credentials (they go in a header).
    public var url: String

    public init(status: Int, errorCode: String, message: String, url: String) {
        self.status = status
        self.errorCode = errorCode
        self.message = message
        self.url = url
    }

    /// The answer's body decoded: MLflow's error when it is one, else an error that says the
    /// tracking URI may not be a tracking server (most often it points at something else).
    public init(status: Int, body: some Collection<UInt8>, url: String) {
        let document = try? JSONValue.parse(body)
        if case .string(let code)? = document?["error_code"] {
            let message: String = if case .string(let text)? = document?["message"] { text } else { "" }
            self.init(status: status, errorCode: code, message: message, url: url)
        } else {
            self.init(
                status: status, errorCode: Self.codeName(status: status),
                message:
                    "Tracking server answered \(status) to \(url) without an MLflow error: is the tracking URI a cairn or MLflow tracking server?",
                url: url
            )
        }
    }

    public var code: ErrorCode? { ErrorCode(rawValue: errorCode) }

    /// The same error in Cairn's one error type (unknown codes become INTERNAL_ERROR).
    public var cairnError: CairnError { CairnError(code ?? .internalError, message) }

    public var description: String { "\(errorCode): \(message)" }

    /// MLflow's `get_error_code` for an answer without an MLflow body.
    static func codeName(status: Int) -> String {
        switch status {
        case 400: "BAD_REQUEST"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "ENDPOINT_NOT_FOUND"
        case 409: "ALREADY_EXISTS"
        case 429: "RESOURCE_EXHAUSTED"
        case 499: "CANCELLED"
        case 501: "NOT_IMPLEMENTED"
        case 503: "TEMPORARILY_UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: "INTERNAL_ERROR"
        }
    }
}
