import CairnCore
import CairnUI
import HTTPTypes
import Hummingbird

/// How a route area shows a `CairnError`: MLflow's `{"error_code", "message"}` for every API
/// (the stock client parses it), a small HTML page for pages a person reads in a browser.
/// The status is MLflow's mapping of the error code either way.
enum ErrorRendering: Sendable {
    case mlflowJSON
    /// The UI's error page, its links under the server's static prefix.
    case htmlPage(staticPrefix: String)

    /// `status` overrides the error code's mapping, for the statuses no MLflow code has (405, 414).
    func response(for error: CairnError, status: HTTPResponse.Status? = nil) -> Response {
        let status = status ?? Self.status(code: error.code.httpStatus)
        switch self {
        case .mlflowJSON:
            return JSONBody.error(error).response(status: status)
        case .htmlPage(let staticPrefix):
            return UIPages.html(Self.htmlDocument(for: error, status: status, staticPrefix: staticPrefix), status: status)
        }
    }

    /// The UI's error page: the layout and stylesheet, every value through Mustache's escaping.
    static func htmlDocument(for error: CairnError, status: HTTPResponse.Status, staticPrefix: String) -> String {
        let heading = "\(status.code) \(status.reasonPhrase)"
        do {
            return try UIRenderer.standard.render(
                page: "error_page", title: heading,
                content: ErrorPageView(heading: heading, message: error.message, code: error.code.rawValue),
                chrome: PageChrome(staticPrefix: staticPrefix))
        } catch {
            return "<!doctype html><title>Error</title><h1>\(HTMLText.escape(heading))</h1>"
        }
    }

    /// The status with its reason phrase (for a page's title), for every code an error maps to.
    static func status(code: Int) -> HTTPResponse.Status {
        let named: [HTTPResponse.Status] = [
            .badRequest, .unauthorized, .forbidden, .notFound, .conflict, .contentTooLarge, .unsupportedMediaType,
            .tooManyRequests, .internalServerError, .notImplemented, .serviceUnavailable,
        ]
        return named.first { $0.code == code } ?? HTTPResponse.Status(code: code)
    }
}
