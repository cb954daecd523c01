import CairnCore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CairnServer

/// `JSONBody.read`, the one way a handler reads a JSON request body.
struct JSONBodyTests {
    static func router() -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ErrorRenderingMiddleware(.mlflowJSON))
        router.post("mlflow") { request, _ -> String in
            String(buffer: try await JSONBody.read(request, limit: RequestBodyLimit(bytes: 16, flag: "--max-test-bytes")))
        }
        router.post("cairn") { request, _ -> String in
            String(buffer: try await JSONBody.read(request, limit: RequestBodyLimit(bytes: 16), untypedIsJSON: true))
        }
        return router
    }

    static func errorCode(_ response: TestResponse) throws -> JSONValue? {
        try JSONValue.parse(Array(response.body.readableBytesView))["error_code"]
    }

    @Test func aBodyAtTheLimitIsReadAndOneByteMoreIsRefused() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let fits = try await client.execute(
                uri: "/mlflow", method: .post, headers: json, body: ByteBuffer(string: #"{"a": "0123456"}"#))
            #expect(fits.status == .ok)
            #expect(String(buffer: fits.body) == #"{"a": "0123456"}"#)
            let over = try await client.execute(
                uri: "/mlflow", method: .post, headers: json, body: ByteBuffer(string: #"{"a": "01234567"}"#))
            #expect(over.status == .contentTooLarge)
            #expect(try Self.errorCode(over) == .string(ErrorCode.contentTooLarge.rawValue))
            #expect(String(buffer: over.body).contains("--max-test-bytes"))
        }
    }

    @Test func theContentTypeMustBeJSON() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let text = try await client.execute(
                uri: "/mlflow", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}"))
            #expect(text.status == .badRequest)
            #expect(try Self.errorCode(text) == .string("INVALID_PARAMETER_VALUE"))
            let untyped = try await client.execute(uri: "/mlflow", method: .post, body: ByteBuffer(string: "{}"))
            #expect(untyped.status == .badRequest)
            // Cairn's own API takes an untyped body as JSON, but not a body typed otherwise.
            #expect(try await client.execute(uri: "/cairn", method: .post, body: ByteBuffer(string: "{}")).status == .ok)
            #expect(
                try await client.execute(uri: "/cairn", method: .post, headers: [.contentType: "text/csv"], body: ByteBuffer(string: "{}"))
                    .status == .badRequest)
            // An empty body has no type to check.
            #expect(try await client.execute(uri: "/mlflow", method: .post, headers: [.contentType: "text/plain"]).status == .ok)
        }
    }
}
