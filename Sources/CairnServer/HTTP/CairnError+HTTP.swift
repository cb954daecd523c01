import CairnCore
import Hummingbird

/// Domain errors render as MLflow's `{"error_code", "message"}` with MLflow's status mapping.
extension CairnError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONBody.error(self).response(status: status)
    }
}
