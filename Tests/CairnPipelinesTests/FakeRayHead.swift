import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server standing in for a Ray head's Jobs API: it records each request and
/// answers as `reply` says (status and JSON text), for what a real head cannot be made to do
/// (refuse a token, answer "already exists" on demand).
final class FakeRayHead: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: String
    }

    private let recorded = Mutex<[Request]>([])
    private let reply: @Sendable (Request) -> (Int, String)

    var requests: [Request] { recorded.withLock { $0 } }

    private init(reply: @escaping @Sendable (Request) -> (Int, String)) { self.reply = reply }

    /// Runs `body` with the server up (given its base URL), then stops it.
    static func with<T>(reply: @escaping @Sendable (Request) -> (Int, String), _ body: (FakeRayHead, String) async throws -> T)
        async throws -> T
    {
        let server = FakeRayHead(reply: reply)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await body(server, "http://127.0.0.1:\(channel.localAddress!.port!)")
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: FakeRayHead
        var head: HTTPRequestHead?
        var body = ""

        init(server: FakeRayHead) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                guard let head else { return }
                let request = Request(method: head.method, uri: head.uri, headers: head.headers, body: body)
                server.recorded.withLock { $0.append(request) }
                let (status, text) = server.reply(request)
                let headers = HTTPHeaders([("Content-Length", String(text.utf8.count)), ("Content-Type", "application/json")])
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
