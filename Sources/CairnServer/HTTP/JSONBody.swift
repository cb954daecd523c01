import CairnCore
import Hummingbird

/// A JSON body: the one way a handler reads one from a request (`read`), and a response
/// body written with `JSONWriter`.
struct JSONBody: ResponseGenerator {
    var bytes: [UInt8]

    static let empty = JSONBody(bytes: Array("{}".utf8))

    /// Builds a top-level object: `JSONBody.object { $0.key("run"); $0.write(run) }`.
    static func object(_ build: (inout JSONWriter) -> Void) -> JSONBody {
        var writer = JSONWriter()
        writer.beginObject()
        build(&writer)
        writer.endObject()
        return JSONBody(bytes: writer.bytes)
    }

    static func error(_ error: CairnError) -> JSONBody {
        object { writer in
            writer.key("error_code")
            writer.string(error.code.rawValue)
            writer.key("message")
            writer.string(error.message)
        }
    }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// Reads a JSON request body of at most `limit` bytes (a larger one is a 413 that names
    /// the limit). A non-empty body must say it is JSON; Cairn's own API also takes one that
    /// names no type (MLflow's refuses it, as MLflow does).
    static func read(_ request: Request, limit: RequestBodyLimit, untypedIsJSON: Bool = false) async throws -> ByteBuffer {
        let body = try await limit.collect(request.body)
        guard body.readableBytes > 0 else { return body }
        let contentType = request.headers[.contentType] ?? (untypedIsJSON ? "application/json" : "")
        guard contentType.lowercased().hasPrefix("application/json") else {
            throw CairnError.invalidParameter("Bad Request. Content-Type must be 'application/json', got '\(contentType)'")
        }
        return body
    }
}
