import CairnCore
import Hummingbird

/// A JSON response body written with `JSONWriter`.
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
            writer.key("error_code"); writer.string(error.code.rawValue)
            writer.key("message"); writer.string(error.message)
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
}
