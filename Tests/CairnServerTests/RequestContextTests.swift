import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import CairnServer

/// The request context's id, and error rendering chosen by route area.
struct RequestContextTests {
    static let requestID = HTTPField.Name("X-Request-ID")!

    /// A router shaped like the applications': request ids and MLflow errors for everything,
    /// and a test-only group of pages that renders its errors as HTML.
    static func router() -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorRenderingMiddleware(.mlflowJSON))
        router.get("api/echo") { _, context -> String in
            let logged = context.logger[metadataKey: "request_id"].map { "\($0)" } ?? "none"
            return "\(context.requestID) \(logged) \(context.identity == nil)"
        }
        router.get("api/missing") { _, _ -> String in throw CairnError.notFound("Run '<b>' not found") }
        let pages = router.pages("pages")
        pages.get("missing") { _, _ -> String in throw CairnError.notFound("Run '<script>alert(1)</script>' & co not found") }
        pages.get("broken") { _, _ -> String in throw CocoaError(.fileReadCorruptFile) }
        return router
    }

    @Test func aValidIncomingIDIsAdoptedLoggedAndEchoed() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/api/echo", method: .get, headers: [Self.requestID: "client-id-42"])
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "client-id-42 client-id-42 true")
            #expect(response.headers[Self.requestID] == "client-id-42")
        }
    }

    @Test(arguments: ["", "has space", String(repeating: "x", count: 129), "tab\there", "é"])
    func anInvalidIncomingIDIsReplaced(given: String) async throws {
        try await Application(router: Self.router()).test(.router) { client in
            var headers = HTTPFields()
            headers[Self.requestID] = given
            let response = try await client.execute(uri: "/api/echo", method: .get, headers: headers)
            let id = try #require(response.headers[Self.requestID])
            #expect(id != given)
            #expect(
                id.utf8.count == 32
                    && id.utf8.allSatisfy {
                        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
                    })
            #expect(String(buffer: response.body) == "\(id) \(id) true")
        }
    }

    @Test func errorsCarryTheRequestID() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/api/missing", method: .get, headers: [Self.requestID: "abc"])
            #expect(response.status == .notFound)
            #expect(response.headers[Self.requestID] == "abc")
            let unmatched = try await client.execute(uri: "/nowhere", method: .get)
            #expect(unmatched.headers[Self.requestID] != nil)
        }
    }

    @Test func apiErrorsAreMLflowJSON() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/api/missing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            let body = try JSONValue.parse(Array(response.body.readableBytesView))
            #expect(body["error_code"] == .string("RESOURCE_DOES_NOT_EXIST"))
            #expect(body["message"] == .string("Run '<b>' not found"))
        }
    }

    @Test func pageErrorsAreEscapedHTMLWithTheStatus() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/pages/missing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let page = String(buffer: response.body)
            #expect(page.contains("<h1>404 Not Found</h1>"))
            #expect(page.contains("Run &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; &amp; co not found"))
            #expect(!page.contains("<script>"))

            let broken = try await client.execute(uri: "/pages/broken", method: .get)
            #expect(broken.status == .internalServerError)
            #expect(broken.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: broken.body).contains("Internal server error"))
            #expect(!String(buffer: broken.body).contains("Cocoa"))
        }
    }

    @Test func bothApplicationsEchoTheRequestID() async throws {
        try await APIFixture.withApp { client in
            let response = try await client.execute(
                uri: "/api/2.0/mlflow/experiments/get?experiment_id=0", method: .get, headers: [Self.requestID: "trace-1"])
            #expect(response.status == .ok)
            #expect(response.headers[Self.requestID] == "trace-1")
        }
    }

    @Test func scoringAnswersWithTheContextsRequestID() async throws {
        let row = try ServingFixture.cases().rows[0]
        let columns = (0..<20).map { "\"f\($0)\"" }.joined(separator: ",")
        let body = #"{"dataframe_split": {"columns": [\#(columns)], "data": [[\#(row.map { "\($0)" }.joined(separator: ","))]]}}"#
        try await ServingFixture.withServer { client in
            let given = try await client.execute(
                uri: "/invocations", method: .post, headers: [.contentType: "application/json", Self.requestID: "score-7"],
                body: ByteBuffer(string: body))
            #expect(given.status == .ok)
            #expect(given.headers[Self.requestID] == "score-7")
            let refused = try await client.execute(
                uri: "/invocations", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x"))
            #expect(refused.status == .unsupportedMediaType)
            #expect(refused.headers[Self.requestID]?.utf8.count == 32)
        }
    }
}

extension RequestContextTests {
    /// Every status an error code maps to has its reason phrase for a page's title.
    @Test(arguments: ErrorCode.allCases)
    func everyErrorStatusHasAReasonPhrase(code: ErrorCode) {
        #expect(!ErrorRendering.status(code: code.httpStatus).reasonPhrase.isEmpty)
    }
}
