import CairnCore
import HTTPTypes
import Hummingbird

/// How a route area shows a `CairnError`: MLflow's `{"error_code", "message"}` for every API
/// (the stock client parses it), a small HTML page for pages a person reads in a browser.
/// The status is MLflow's mapping of the error code either way.
enum ErrorRendering: Sendable {
    case mlflowJSON
    case htmlPage

    func response(for error: CairnError) -> Response {
        let status = Self.status(code: error.code.httpStatus)
        switch self {
        case .mlflowJSON:
            return JSONBody.error(error).response(status: status)
        case .htmlPage:
            let title = HTMLText.escape("\(status.code) \(status.reasonPhrase)")
            let page = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>\(title) · Cairn</title></head>
                <body><h1>\(title)</h1><p>\(HTMLText.escape(error.message))</p><p><code>\(HTMLText.escape(error.code.rawValue))</code></p></body></html>

                """
            var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
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
