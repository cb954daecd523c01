/// MLflow's error codes, as the stock client expects them in `{"error_code": …}`.
///
/// The HTTP status of each code follows MLflow's `ERROR_CODE_TO_HTTP_STATUS`, because the
/// client decides whether to retry from the status: a client error must never look like a 5xx.
public enum ErrorCode: String, Sendable, CaseIterable {
    case invalidParameterValue = "INVALID_PARAMETER_VALUE"
    case resourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
    case badRequest = "BAD_REQUEST"
    case unauthenticated = "UNAUTHENTICATED"
    case permissionDenied = "PERMISSION_DENIED"
    case resourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST"
    case endpointNotFound = "ENDPOINT_NOT_FOUND"
    case resourceConflict = "RESOURCE_CONFLICT"
    case requestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
    case internalError = "INTERNAL_ERROR"
    case invalidState = "INVALID_STATE"
    case notImplemented = "NOT_IMPLEMENTED"
    case temporarilyUnavailable = "TEMPORARILY_UNAVAILABLE"
    /// Not one of MLflow's codes: its scoring server answers 415 for a content type it
    /// cannot read, and Cairn keeps the status while giving the body the usual shape.
    case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    /// A request body over the server's limit. MLflow maps no code to 413 (its
    /// REQUEST_LIMIT_EXCEEDED is a 429, which clients retry); this is MLflow's code for a
    /// limit that retrying cannot get past, answered as 413.
    case contentTooLarge = "RESOURCE_LIMIT_EXCEEDED"

    public var httpStatus: Int {
        switch self {
        case .invalidParameterValue, .resourceAlreadyExists, .badRequest: 400
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .resourceDoesNotExist, .endpointNotFound: 404
        case .resourceConflict: 409
        case .requestLimitExceeded: 429
        case .internalError, .invalidState: 500
        case .notImplemented: 501
        case .temporarilyUnavailable: 503
        case .unsupportedMediaType: 415
        case .contentTooLarge: 413
        }
    }
}

/// A domain error with MLflow's shape. Everything a client can cause is one of these;
/// anything else that escapes a handler is a bug and is reported as a bare 500.
public struct CairnError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func invalidParameter(_ message: String) -> CairnError {
        CairnError(.invalidParameterValue, message)
    }

    public static func notFound(_ message: String) -> CairnError {
        CairnError(.resourceDoesNotExist, message)
    }

    public static func alreadyExists(_ message: String) -> CairnError {
        CairnError(.resourceAlreadyExists, message)
    }

    public static func missingParameter(_ name: String) -> CairnError {
        .invalidParameter("Missing value for required parameter '\(name)'. See the API docs for more information about request parameters.")
    }
}
