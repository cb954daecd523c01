import CairnCore
import Hummingbird

/// A `CairnError` that escapes every router middleware (none should: `ErrorRenderingMiddleware`
/// renders errors per route area) still answers in MLflow's shape.
extension CairnError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ErrorRendering.mlflowJSON.response(for: self)
    }
}
