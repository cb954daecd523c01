import CairnCore

/// An answer from the object store that is not a success: its status and S3's error code
/// (`NoSuchKey`, `AccessDenied`...) from the `<Error>` body, or from the status for answers
/// without one (HEAD).
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// The operation, e.g. `GetObject`, for the log.
    public var operation: String

    public init(status: Int, code: String, message: String = "", operation: String) {
        self.status = status
        self.code = code
        self.message = message
        self.operation = operation
    }

    public var description: String {
        "S3 \(operation): \(status) \(code)" + (message.isEmpty ? "" : ": \(message)")
    }

    /// Reads an `<Error>` body; the status names the error when the body has none.
    static func from(status: Int, body: some Collection<UInt8>, operation: String) -> S3Error {
        if let xml = try? S3XML.parse(body), xml.name == "Error", let code = xml["Code"]?.text, !code.isEmpty {
            return S3Error(status: status, code: code, message: xml["Message"]?.text ?? "", operation: operation)
        }
        let code =
            switch status {
            case 301, 307: "PermanentRedirect"
            case 403: "AccessDenied"
            case 404: "NotFound"
            case 412: "PreconditionFailed"
            case 503: "SlowDown"
            default: "HTTP\(status)"
            }
        return S3Error(status: status, code: code, operation: operation)
    }

    /// Credentials or policy refused: the server's configuration, not the client's request.
    var isAccessDenied: Bool {
        [
            "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AllAccessDisabled",
            "AccountProblem",
        ]
        .contains(code)
    }

    /// Worth another attempt: the store is busy or failed internally.
    var isTransient: Bool {
        status >= 500 || code == "SlowDown" || code == "RequestTimeout"
    }

    /// What the client of Cairn is told: MLflow's error codes, never a bare 5xx for a store
    /// that answered; 503 only when it is unavailable.
    func publicError(_ configuration: S3Configuration) -> any Error {
        if code == "NoSuchBucket" {
            return CairnError(
                .resourceDoesNotExist,
                "The artifact store's bucket '\(configuration.bucket)' does not exist at \(configuration.endpoint) (S3 NoSuchBucket)")
        }
        if isAccessDenied {
            return CairnError(
                .permissionDenied,
                "The artifact store at \(configuration.endpoint) refused this server's access to bucket '\(configuration.bucket)' (S3 \(code))"
            )
        }
        if code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" {
            return CairnError(
                .invalidState,
                "The artifact store says bucket '\(configuration.bucket)' is not in region \(configuration.region) (S3 \(code)); set AWS_REGION"
            )
        }
        if isTransient {
            return CairnError(
                .temporarilyUnavailable, "The artifact store at \(configuration.endpoint) is unavailable (S3 \(status) \(code)); try again")
        }
        return self
    }
}

/// The object store could not be reached, or did not answer in time.
public struct S3UnreachableError: Error, Sendable, CustomStringConvertible {
    public var endpoint: String
    public var operation: String
    public var reason: String

    public var description: String { "S3 \(operation): \(endpoint) unreachable: \(reason)" }

    var publicError: CairnError {
        CairnError(.temporarilyUnavailable, "The artifact store at \(endpoint) is unreachable (\(reason)); try again")
    }
}
