import CairnCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The one place a failure becomes a response. Every error is first made a `CairnError`: an
/// unmatched route becomes ENDPOINT_NOT_FOUND (the MLflow client falls back on it), and an
/// unexpected error a bare INTERNAL_ERROR that is logged here but leaks nothing. It is then
/// rendered as its route area asks: each router installs this middleware for its APIs, and a
/// group of pages (`router.pages(…)`) installs it again with `.htmlPage`, so its errors never
/// reach the API's.
struct ErrorRenderingMiddleware<Context: RequestContext>: RouterMiddleware {
    let rendering: ErrorRendering
    /// The UI's static prefix when the router serves pages: a browser asking for a path no
    /// route matches (outside the APIs) gets the UI's 404 page instead of MLflow's JSON.
    let pagesPrefix: String?
    /// The pages' routes: a page path asked with a method it does not take is a 405 page.
    let pageRoutes: PageRouteTable?

    init(_ rendering: ErrorRendering = .mlflowJSON, pagesPrefix: String? = nil, pageRoutes: PageRouteTable? = nil) {
        self.rendering = rendering
        self.pagesPrefix = pagesPrefix
        self.pageRoutes = pageRoutes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let failure = Self.cairnError(error, request: request, logger: context.logger)
            if let pagesPrefix, failure.code == .endpointNotFound, let allowed = pageMethods(request, prefix: pagesPrefix),
                !allowed.contains(request.method)
            {
                let path = PercentDecoding.decodeLeniently(request.uri.path, mode: .path)
                var response = ErrorRendering.htmlPage(staticPrefix: pagesPrefix).response(
                    for: CairnError(
                        .badRequest,
                        "The page \(path) does not take \(request.method.rawValue) requests; it takes \(PageRouteTable.allowHeader(allowed))."
                    ),
                    status: .methodNotAllowed)
                response.headers[.allow] = PageRouteTable.allowHeader(allowed)
                return response
            }
            if let pagesPrefix, failure.code == .endpointNotFound, Self.isBrowserPage(request, prefix: pagesPrefix) {
                return ErrorRendering.htmlPage(staticPrefix: pagesPrefix).response(
                    for: CairnError(
                        .resourceDoesNotExist, "There is no page at \(PercentDecoding.decodeLeniently(request.uri.path, mode: .path))."))
            }
            // A refusal before any route (HostOriginMiddleware's) of a browser's form post or
            // page load: the browser shows it as a page, not as MLflow's JSON.
            if let pagesPrefix, failure.code == .permissionDenied, Self.acceptsHTML(request),
                !Self.isAPIPath(request.uri.path, prefix: pagesPrefix)
            {
                return ErrorRendering.htmlPage(staticPrefix: pagesPrefix).response(for: failure)
            }
            return rendering.response(for: failure)
        }
    }

    /// A GET a browser sent for a page (it asks for HTML), outside the API paths, where the
    /// MLflow client's fallbacks expect ENDPOINT_NOT_FOUND in JSON.
    static func isBrowserPage(_ request: Request, prefix: String) -> Bool {
        guard request.method == .get || request.method == .head, acceptsHTML(request) else { return false }
        return !isAPIPath(request.uri.path, prefix: prefix)
    }

    /// The methods the page at the request's path takes, nil outside the pages (the APIs keep
    /// MLflow's ENDPOINT_NOT_FOUND, which the client's fallbacks read).
    func pageMethods(_ request: Request, prefix: String) -> Set<HTTPRequest.Method>? {
        guard let pageRoutes, !Self.isAPIPath(request.uri.path, prefix: prefix) else { return nil }
        guard prefix.isEmpty || request.uri.path == prefix || request.uri.path.hasPrefix(prefix + "/") else { return nil }
        return pageRoutes.methods(at: String(request.uri.path.dropFirst(prefix.count)))
    }

    static func acceptsHTML(_ request: Request) -> Bool { request.headers[.accept]?.contains("text/html") == true }

    /// A path under the APIs (below the static prefix when there is one), not a page's.
    static func isAPIPath(_ requestPath: String, prefix: String) -> Bool {
        let path = requestPath.hasPrefix(prefix) ? String(requestPath.dropFirst(prefix.count)) : requestPath
        return ["/api/", "/ajax-api/", "/graphql"].contains { path.hasPrefix($0) }
    }

    static func cairnError(_ error: any Error, request: Request, logger: Logger) -> CairnError {
        switch error {
        case let error as CairnError:
            return error
        case let error as HTTPError:
            // The path as the client wrote it before its library percent-encoded it.
            let path = PercentDecoding.decodeLeniently(request.uri.path, mode: .path)
            switch error.status {
            case .notFound:
                return CairnError(.endpointNotFound, "No API endpoint matches \(request.method.rawValue) \(path)")
            case .methodNotAllowed:
                return CairnError(.badRequest, "Method \(request.method.rawValue) is not allowed for \(path)")
            case .contentTooLarge:
                return CairnError(.contentTooLarge, error.body ?? "The request body is too large.")
            default:
                return CairnError(error.status.code >= 500 ? .internalError : .badRequest, error.body ?? error.status.reasonPhrase)
            }
        case is NIOTooManyBytesError:
            // A body collected past its limit without a RequestBodyLimit (Hummingbird's own
            // decoding) would otherwise answer a bare 413.
            return CairnError(.contentTooLarge, "The request body is too large.")
        default:
            logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return CairnError(.internalError, "Internal server error")
        }
    }
}

extension RouterMethods {
    /// A group of pages a person reads in a browser: its errors render as an HTML page, where
    /// the rest of the router's render as MLflow JSON. Pages are mounted through this, so the
    /// choice is made once per area; their routes are recorded in `routes` (for the 405 of a
    /// page asked with a method it does not take).
    func pages(_ path: RouterPath, staticPrefix: String = "", routes: PageRouteTable? = nil) -> RouterGroup<Context> {
        let group = routes.map { PageRouteRecorder(parent: self, table: $0).group(path) } ?? self.group(path)
        group.add(middleware: ErrorRenderingMiddleware(.htmlPage(staticPrefix: staticPrefix)))
        return group
    }
}
