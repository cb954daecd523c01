import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// What the test server received.
struct RecordedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// How the test server answers one request.
enum Reply: Sendable {
    case respond(status: Int, headers: [(String, String)] = [], body: String = "{}")
    /// Closes the connection without an answer.
    case close
    /// Never answers (a hung server).
    case hang
}

/// A loopback HTTP/1.1 server (optionally TLS) that records every request and answers as
/// `reply` says, given the request and how many came before it.
final class TestHTTPServer: Sendable {
    private let recorded = Mutex<[RecordedRequest]>([])
    let reply: @Sendable (RecordedRequest, Int) -> Reply

    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    private init(reply: @escaping @Sendable (RecordedRequest, Int) -> Reply) {
        self.reply = reply
    }

    /// Runs `body` with a server up (given its base URL), then stops it.
    static func with<T>(
        tls: NIOSSLContext? = nil, reply: @escaping @Sendable (RecordedRequest, Int) -> Reply,
        _ body: (TestHTTPServer, String) async throws -> T
    ) async throws -> T {
        let server = TestHTTPServer(reply: reply)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = "\(tls != nil ? "https" : "http")://127.0.0.1:\(channel.localAddress!.port!)"
        do {
            let result = try await body(server, url)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    fileprivate func record(_ request: RecordedRequest) -> Int {
        recorded.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: TestHTTPServer
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(server: TestHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = RecordedRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
                switch server.reply(request, server.record(request)) {
                case .close:
                    context.close(promise: nil)
                case .hang:
                    break
                case .respond(let status, let extra, let text):
                    var headers = HTTPHeaders(extra)
                    headers.add(name: "Content-Length", value: String(text.utf8.count))
                    if !headers.contains(name: "Content-Type") { headers.add(name: "Content-Type", value: "application/json") }
                    context.write(
                        wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                        promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost (valid until 2126) and its key,
/// made for these tests only: no client trusts it unless told to skip verification.
enum TestCertificate {
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBmzCCAUGgAwIBAgIUUaOuYIZ2ZLmPHJQCnci3TujpO5YwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzA3MTA1MVoYDzIxMjYxMTEz
        MDcxMDUxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAARxAahOtx0XYEyym7KtNeLBGQ5owAbbGtXFCMMpKV4xhiMJa+TgK0Ly
        Lgk/FCvDTU14cTuKfJFWD4mm2biSeEDto28wbTAdBgNVHQ4EFgQUS9/iOp62paAw
        5NTKgO6MPNFS+nAwHwYDVR0jBBgwFoAUS9/iOp62paAw5NTKgO6MPNFS+nAwDwYD
        VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
        zj0EAwIDSAAwRQIgLVfq+q32KvTyC9mgizFWF/5gbqKasvUl7lVCTZtZJFsCIQCA
        NRhYGJnp1FFtK6+DPXj5vgP4taSGvi7IIr/gGNIKrQ==
        -----END CERTIFICATE-----
        """
    static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyB7/wv+ZXaGtQOVH
        xESGFbUFv/UOS0ySNdpTF1Kysa6hRANCAARxAahOtx0XYEyym7KtNeLBGQ5owAbb
        GtXFCMMpKV4xhiMJa+TgK0LyLgk/FCvDTU14cTuKfJFWD4mm2biSeEDt
        -----END PRIVATE KEY-----
        """

    static func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKey.utf8), format: .pem))
        )
        return try NIOSSLContext(configuration: configuration)
    }
}
