import CairnAuth
import CairnCore
import Hummingbird
import Logging
import NIOCore

/// What every Cairn handler knows about its request besides the request itself: the request
/// id (echoed as `X-Request-ID` and in every log line of the request) and who sent it.
public protocol CairnRequestContext: RequestContext {
    var requestID: String { get set }
    /// Who sent the request, once authentication has said; nil until then, and always nil on
    /// a server without `--auth`.
    var identity: RequestIdentity? { get set }
    /// The peer's IP address, for the audit log and the failed-login limits.
    var remoteAddress: String? { get }
    /// The request's fields when a middleware already parsed them (the authorizer reads an MLflow
    /// call's fields to decide on it), so the handler does not parse the body a second time.
    var requestParameters: RequestParameters? { get set }
}

extension CairnRequestContext {
    public var remoteAddress: String? { nil }

    /// Whether the caller may read a resource: always without auth; with it, by the caller's
    /// permissions. Searches filter their results through this, so a page never names what
    /// its reader may not see.
    func canRead(_ type: AuthResourceType, _ id: String) -> Bool {
        identity?.access.can(.read, type, id) ?? true
    }
}

/// The request context of both applications, `cairn server` and `cairn serve`.
public struct AppRequestContext: CairnRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// A fresh id until `RequestIDMiddleware` adopts the client's, so a context never lacks one.
    public var requestID: String
    public var identity: RequestIdentity?
    public let remoteAddress: String?
    public var requestParameters: RequestParameters?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        requestID = CairnID.make()
        identity = nil
        requestParameters = nil
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// An authenticated caller, as `AuthMiddleware` found it: the user and what they may do.
public struct RequestIdentity: Sendable {
    /// The username.
    public var subject: String
    public var user: User
    /// The access token the request presented; nil for a password.
    public var tokenID: String?
    /// The server calling itself (the evaluation gate, pipeline stages).
    public var isInternal: Bool
    public var access: UserAccess

    public init(subject: String, user: User, tokenID: String? = nil, isInternal: Bool = false, access: UserAccess) {
        self.subject = subject
        self.user = user
        self.tokenID = tokenID
        self.isInternal = isInternal
        self.access = access
    }

    public var isAdmin: Bool { access.isAdmin }
}
