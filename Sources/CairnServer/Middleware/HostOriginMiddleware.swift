import CairnCore
import Foundation
import Hummingbird

/// Refuses requests whose `Host` is not one this server answers to (DNS rebinding: a page on
/// an attacker's domain that resolves to 127.0.0.1 reaches a loopback server with the
/// attacker's host name) and state-changing requests whose `Origin` is another site (CSRF).
struct HostOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: HostPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let host = request.head.authority, !policy.allows(authority: host) {
            throw CairnError(
                .permissionDenied, "Host '\(host.prefix(200))' is not allowed; start the server with --allowed-hosts to permit it")
        }
        switch request.method {
        case .get, .head, .options:
            break
        default:
            if let origin = request.headers[.origin], !policy.allows(origin: origin) {
                throw CairnError(.permissionDenied, "Cross-origin request from '\(origin.prefix(200))' is not allowed")
            }
        }
        return try await next(request, context)
    }
}

/// Which `Host` and `Origin` values a server accepts.
public struct HostPolicy: Sendable {
    /// Lower-cased host names without ports; nil accepts any host.
    var allowedHosts: Set<String>?

    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]

    /// A server bound to loopback answers only to loopback names unless told otherwise; a
    /// server bound elsewhere was put on a network on purpose and accepts any host name.
    public init(bindHost: String, allowedHosts: [String]) {
        if allowedHosts.contains("*") {
            self.allowedHosts = nil
        } else if !allowedHosts.isEmpty {
            self.allowedHosts = Set(allowedHosts.map { $0.lowercased() }).union(Self.loopbackNames)
        } else if Self.loopbackNames.contains(bindHost.lowercased()) || bindHost.hasPrefix("127.") {
            self.allowedHosts = Self.loopbackNames.union([bindHost.lowercased()])
        } else {
            self.allowedHosts = nil
        }
    }

    func allows(authority: String) -> Bool {
        guard let allowedHosts else { return true }
        return allowedHosts.contains(Self.hostName(of: authority))
    }

    /// Same-site origins (one of the allowed hosts, any port) may write; `null` and foreign
    /// origins may not. A server open to any host accepts any origin.
    func allows(origin: String) -> Bool {
        guard let allowedHosts else { return true }
        guard let schemeEnd = origin.range(of: "://") else { return false }
        return allowedHosts.contains(Self.hostName(of: String(origin[schemeEnd.upperBound...])))
    }

    /// `host:port` → `host`, keeping IPv6 brackets.
    static func hostName(of authority: String) -> String {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") {
            guard let close = lowered.firstIndex(of: "]") else { return lowered }
            return String(lowered[...close])
        }
        if let colon = lowered.lastIndex(of: ":") { return String(lowered[..<colon]) }
        return lowered
    }
}
