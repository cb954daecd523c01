import CairnCore
import Hummingbird
import Logging

/// What every Cairn handler knows about its request besides the request itself: the request
/// id (echoed as `X-Request-ID` and in every log line of the request) and who sent it.
public protocol CairnRequestContext: RequestContext {
    var requestID: String { get set }
    /// Who sent the request, once authentication has said; nil until then.
    var identity: RequestIdentity? { get set }
}

/// The request context of both applications, `cairn server` and `cairn serve`.
public struct AppRequestContext: CairnRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// A fresh id until `RequestIDMiddleware` adopts the client's, so a context never lacks one.
    public var requestID: String
    public var identity: RequestIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        requestID = CairnID.make()
        identity = nil
    }
}

/// An authenticated caller. The authentication middleware (a later issue) fills it in.
public struct RequestIdentity: Sendable, Hashable {
    public var subject: String

    public init(subject: String) {
        self.subject = subject
    }
}
