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
///   which Hummingbird answers with a bare 400, gets MLflow's JSON error body saying why.
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

    init(refuseOver: RequestBodyLimit?, drainTimeout: TimeAmount = .seconds(10)) {
        self.refuseOver = refuseOver
        self.drainTimeout = drainTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
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
                let body = JSONBody.error(Self.error(failure)).bytes
                response.headerFields[.contentType] = "application/json"
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
    static func cairnHTTP1(refuseOver limit: RequestBodyLimit? = nil) -> HTTPServerBuilder {
        .http1(configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [RequestBodyLimitHandler(refuseOver: limit)]))
    }
}
