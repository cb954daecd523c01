import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

@testable import CairnServer

@Suite struct RequestBodyLimitHandlerTests {
    func channel(limit: Int? = 1000) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RequestBodyLimitHandler(refuseOver: limit.map { RequestBodyLimit(bytes: $0, flag: "--max-request-bytes") }))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func head(_ fields: HTTPFields) -> HTTPRequestPart {
        .head(HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/invocations", headerFields: fields))
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() throws {
        let channel = try channel()
        try channel.writeInbound(head([.contentLength: "10", .expect: "100-continue"]))
        guard case .head(let interim)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no interim response")
            return
        }
        #expect(interim.status == .continue)
        guard case .head? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("head not passed on")
            return
        }
        _ = try channel.finish()
    }

    @Test func declaredLengthOverTheLimitIsRefusedThenClosedOnceTheBodyIsIn() throws {
        let channel = try channel()
        try channel.writeInbound(head([.contentLength: "2000", .contentType: "application/json"]))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil, "the router never sees it")
        guard case .head(let response)? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .end? = try channel.readOutbound(as: HTTPResponsePart.self)
        else {
            Issue.record("no 413")
            return
        }
        #expect(response.status == .contentTooLarge)
        #expect(response.headerFields[.connection] == "close")
        let text = String(buffer: body)
        #expect(
            text.contains("\"error_code\":\"RESOURCE_LIMIT_EXCEEDED\"") && text.contains("1000 bytes")
                && text.contains("--max-request-bytes"))
        // The client is still sending: closing now would reset the connection under the answer.
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x20, count: 2000)))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test func aRefusalFromTheRouterClosesTheConnectionAfterTheRequest() throws {
        let channel = try channel(limit: nil)
        try channel.writeInbound(head([.transferEncoding: "chunked"]))
        guard case .head? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("head not passed on")
            return
        }
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .contentTooLarge)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let response)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response")
            return
        }
        #expect(response.headerFields[.connection] == "close")
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test func aPipelinedExpectWaitsForTheResponseInProgress() throws {
        let channel = try channel()
        try channel.writeInbound(head([.contentLength: "0"]))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeInbound(head([.contentLength: "10", .expect: "100-continue"]))
        guard case .head(let first)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response")
            return
        }
        #expect(first.status == .ok)
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil, "nothing inside the response")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .end? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .head(let interim)? = try channel.readOutbound(as: HTTPResponsePart.self)
        else {
            Issue.record("no interim response after the first")
            return
        }
        #expect(interim.status == .continue)
        _ = try channel.finish()
    }

    @Test func otherAnswersKeepTheConnection() throws {
        let channel = try channel()
        try channel.writeInbound(head([.contentLength: "0"]))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .badRequest)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    /// Headers over the decoder's limit: Hummingbird answers a bare 400 (HTTPChannelHandler),
    /// which leaves here with MLflow's error body.
    @Test func aRequestTheDecoderRefusedGetsAJSONError() throws {
        let channel = try channel(limit: nil)
        channel.pipeline.fireErrorCaught(HTTPParserError.headerOverflow)
        #expect(throws: HTTPParserError.self) { try channel.throwIfErrorCaught() }
        try channel.writeOutbound(
            HTTPResponsePart.head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let response)? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .end? = try channel.readOutbound(as: HTTPResponsePart.self)
        else {
            Issue.record("no JSON body")
            return
        }
        #expect(response.status == .badRequest)
        #expect(response.headerFields[.contentType] == "application/json")
        #expect(response.headerFields[.contentLength] == String(body.readableBytes))
        let text = String(buffer: body)
        #expect(text.contains("\"error_code\":\"BAD_REQUEST\"") && text.contains("headers are too large"), "\(text)")
        _ = try? channel.finish()
    }
}
