import CairnCore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Connection-level handling of request bodies, ahead of the router (Hummingbird does none
/// of it):
/// - `Expect: 100-continue` is answered `100 Continue` at once, so curl and other clients that
///   ask send their body without first waiting a second for an answer that never comes;
/// - with `refuseOver` set, a request whose Content-Length is over it is answered 413 before
///   any of its body is read and never reaches the router;
/// - after any 413, the router's included, the connection closes, but only once the client
///   has sent what it declared (or `drainTimeout` passed): a client that writes its whole
///   body before reading (Python's requests, most scripts) then reads the 413, where an
///   early close would reset the connection under it and lose the answer;
/// - a request the HTTP decoder cannot read (headers over its 80 KiB limit, malformed HTTP),
///   which Hummingbird answers with a bare 400, gets MLflow's JSON error body saying why; a
///   request line over the limit (a URL past 80 KiB) is a 414, and a web UI page's is the UI's
///   HTML error page (the decoder keeps nothing of a head it refused, so `RequestHeadPeek`
///   keeps its first bytes).
final class RequestBodyLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let refuseOver: RequestBodyLimit?
    private let drainTimeout: TimeAmount
    /// A request head was read and its end was not.
    private var requestOpen = false
    /// The open request was refused here; the rest of its body is read and dropped.
    private var discarding = false
    /// The response being written is a 413.
    private var closeAfterResponse = false
    /// A 413 was sent: close when the open request ends.
    private var closeAfterRequest = false
    /// A response is being written; an interim 100 Continue must wait for its end, or it
    /// would land inside it (a client that pipelines).
    private var responding = false
    private var continuePending = false
    private var drainDeadline: Scheduled<Void>?
    /// The decoder failed: the 400 Hummingbird writes next is for it.
    private var parserFailure: HTTPParserError?
    /// The start of the head being read, filled ahead of the decoder.
    private let peek = RequestHeadPeek()
    /// The web UI's pages (the tracking server's): their refused heads get an HTML page.
    private let pages: (staticPrefix: String, routes: PageRouteTable)?

    init(
        refuseOver: RequestBodyLimit?, drainTimeout: TimeAmount = .seconds(10),
        pages: (staticPrefix: String, routes: PageRouteTable)? = nil
    ) {
        self.refuseOver = refuseOver
        self.drainTimeout = drainTimeout
        self.pages = pages
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Just ahead of the HTTP decoder, where the bytes of a head it refuses can still be seen.
        let pipeline = context.pipeline.syncOperations
        if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? pipeline.addHandler(RequestHeadPeekHandler(peek: peek), position: .before(decoder.handler))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            peek.reading = false
            requestOpen = true
            let expectsContinue = head.headerFields[.expect]?.lowercased() == "100-continue"
            if !responding, let limit = refuseOver, let length = head.headerFields[.contentLength].flatMap({ Int($0) }),
                length > limit.bytes
            {
                discarding = true
                refuse(context: context, limit: limit, bodyWillFollow: !expectsContinue && length > 0)
                return
            }
            if expectsContinue {
                if responding {
                    continuePending = true
                } else {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
                }
            }
            context.fireChannelRead(data)
        case .body:
            if !discarding { context.fireChannelRead(data) }
        case .end:
            peek.reset()
            requestOpen = false
            if discarding {
                discarding = false
            } else {
                context.fireChannelRead(data)
            }
            if closeAfterRequest { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let failure = error as? HTTPParserError { parserFailure = failure }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response):
            if let failure = parserFailure, response.status == .badRequest {
                parserFailure = nil
                let longLine = failure == .headerOverflow && peek.requestLineTooLong
                let error = longLine ? Self.uriTooLong : Self.error(failure)
                if longLine { response.status = .uriTooLong }
                let body: [UInt8]
                if let pages, let path = peek.targetPath, let page = Self.pagePath(path, prefix: pages.staticPrefix),
                    pages.routes.methods(at: page) != nil
                {
                    body = Array(ErrorRendering.htmlDocument(for: error, status: response.status, staticPrefix: pages.staticPrefix).utf8)
                    response.headerFields[.contentType] = "text/html; charset=utf-8"
                    UIPages.addSecurityHeaders(&response.headerFields)
                } else {
                    body = JSONBody.error(error).bytes
                    response.headerFields[.contentType] = "application/json"
                }
                response.headerFields[.contentLength] = String(body.count)
                context.write(wrapOutboundOut(.head(response)), promise: promise)
                context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
                return
            }
            if response.status.kind != .informational { responding = true }
            if response.status == .contentTooLarge {
                closeAfterResponse = true
                response.headerFields[.connection] = "close"
            }
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responding = false
            if closeAfterResponse {
                closeAfterResponse = false
                let written = promise ?? context.eventLoop.makePromise()
                context.write(data, promise: written)
                afterRefusal(context: context, written: written.futureResult)
                return
            }
            context.write(data, promise: promise)
            if continuePending {
                continuePending = false
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        drainDeadline?.cancel()
        drainDeadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        drainDeadline?.cancel()
        drainDeadline = nil
    }

    static let uriTooLong = CairnError(
        .badRequest, "The request's URL is too long: the request line and headers may take at most 80 KiB. Shorten the query.")

    /// `path` below the static prefix, nil when it is not under it or is an API's.
    static func pagePath(_ path: String, prefix: String) -> String? {
        guard prefix.isEmpty || path == prefix || path.hasPrefix(prefix + "/") else { return nil }
        guard !ErrorRenderingMiddleware<AppRequestContext>.isAPIPath(path, prefix: prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }

    /// What the client is told about a request the decoder refused.
    static func error(_ failure: HTTPParserError) -> CairnError {
        switch failure {
        case .headerOverflow:
            CairnError(.badRequest, "The request's headers are too large: at most 80 KiB in all, and per header.")
        default:
            CairnError(.badRequest, "The request is not valid HTTP/1.1 (\(failure)).")
        }
    }

    private func refuse(context: ChannelHandlerContext, limit: RequestBodyLimit, bodyWillFollow: Bool) {
        let body = JSONBody.error(limit.error).bytes
        var response = HTTPResponse(status: .contentTooLarge)
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = String(body.count)
        response.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        // A client that waits for 100 Continue sends no body after a final answer.
        if !bodyWillFollow {
            requestOpen = false
            discarding = false
        }
        afterRefusal(context: context, written: written.futureResult)
    }

    /// Closes once the answer is out and the client has finished sending its request.
    private func afterRefusal(context: ChannelHandlerContext, written: EventLoopFuture<Void>) {
        if requestOpen {
            closeAfterRequest = true
            drainDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: drainTimeout) {
                context.close(promise: nil)
            }
        } else {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        context.flush()
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Cairn's handling of request bodies (see `RequestBodyLimitHandler`).
    static func cairnHTTP1(
        refuseOver limit: RequestBodyLimit? = nil, pages: (staticPrefix: String, routes: PageRouteTable)? = nil
    ) -> HTTPServerBuilder {
        .http1(
            configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [
                RequestBodyLimitHandler(refuseOver: limit, pages: pages)
            ]))
    }
}

/// The first bytes of the request head being read, seen before the HTTP decoder: when the
/// decoder refuses a head as too large, they tell a request line too long (a URL past the
/// limit) from headers too large, and name the path asked for. Only heads are looked at
/// (`reading` is cleared once the decoder has read the head), so bodies cost nothing here.
/// Belongs to one channel: its handlers share it on the channel's event loop.
final class RequestHeadPeek {
    /// Bytes of the request line kept: enough for a method and a page's path.
    static let kept = 2048
    /// A request line longer than this, still without its end when the decoder gives up, is
    /// what overflowed (headers alone cannot have filled the limit).
    static let longLine = 8 * 1024

    var reading = true
    private(set) var line: [UInt8] = []
    private(set) var lineLength = 0
    private(set) var lineEnded = false

    /// After a request's end: the next bytes are the next head's.
    func reset() {
        reading = true
        line.removeAll(keepingCapacity: true)
        lineLength = 0
        lineEnded = false
    }

    func observe(_ buffer: ByteBuffer) {
        guard reading, !lineEnded else { return }
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                // Empty lines before a request line are allowed (RFC 9112 2.2).
                if lineLength == 0, byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
                if byte == UInt8(ascii: "\n") {
                    lineEnded = true
                    return
                }
                lineLength += 1
                if line.count < Self.kept { line.append(byte) } else if lineLength > Self.longLine { return }
            }
        }
    }

    var requestLineTooLong: Bool { !lineEnded && lineLength > Self.longLine }

    /// The path of the request line's target (`GET /a/b?x HTTP/1.1` → `/a/b`), nil when the
    /// kept bytes do not start like a request line.
    var targetPath: String? {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")), line[..<space].allSatisfy({ (0x41...0x5A).contains($0) }) else {
            return nil
        }
        let rest = line[(space + 1)...]
        let target = rest.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        // A path cut off where the kept bytes stop is not the path asked for.
        let cut = target.count == rest.count && lineLength > line.count
        guard target.first == UInt8(ascii: "/"), !cut else { return nil }
        return String(decoding: target, as: UTF8.self)
    }
}

/// Shows each read of a head to the channel's `RequestHeadPeek`, first in the pipeline.
final class RequestHeadPeekHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let peek: RequestHeadPeek

    init(peek: RequestHeadPeek) {
        self.peek = peek
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if peek.reading { peek.observe(unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }
}
