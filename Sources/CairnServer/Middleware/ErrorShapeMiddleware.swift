import CairnCore
import Hummingbird
import Logging
import NIOCore

/// Gives every failure MLflow's error shape: an unmatched route becomes ENDPOINT_NOT_FOUND
/// (the client falls back on it), and an unexpected error becomes a bare INTERNAL_ERROR that
/// is logged here but leaks nothing to the client.
struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as CairnError {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                throw CairnError(.endpointNotFound, "No API endpoint matches \(request.method.rawValue) \(request.uri.path)")
            case .methodNotAllowed:
                throw CairnError(.badRequest, "Method \(request.method.rawValue) is not allowed for \(request.uri.path)")
            case .contentTooLarge:
                throw CairnError(.contentTooLarge, error.body ?? "The request body is too large.")
            default:
                throw CairnError(error.status.code >= 500 ? .internalError : .badRequest, error.body ?? error.status.reasonPhrase)
            }
        } catch is NIOTooManyBytesError {
            // A body collected past its limit without a RequestBodyLimit (Hummingbird's own
            // decoding) would otherwise answer a bare 413.
            throw CairnError(.contentTooLarge, "The request body is too large.")
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw CairnError(.internalError, "Internal server error")
        }
    }
}
