import CairnCore
import HTTPTypes
import Hummingbird
import Logging

/// Gives each request its id: the client's `X-Request-ID` when it is a sane token (so a
/// caller can correlate its own logs and send feedback for it), else the context's fresh one.
/// The id goes into the logger's metadata and back in the response header, errors included.
struct RequestIDMiddleware<Context: CairnRequestContext>: RouterMiddleware {
    static var header: HTTPField.Name { HTTPField.Name("X-Request-ID")! }

    /// Printable ASCII without spaces, at most 128 bytes: safe in a header, a log line and
    /// the inference log, and never mistaken for two ids.
    static func accepts(_ given: String) -> Bool {
        (1...128).contains(given.utf8.count) && given.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let given = request.headers[Self.header], Self.accepts(given) { context.requestID = given }
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Rendered here rather than by the framework so the header is on errors too.
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.header] = context.requestID
        return response
    }
}
