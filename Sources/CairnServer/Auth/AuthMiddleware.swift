import CairnAuth
import CairnCore
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `cairn server --auth`: authenticates every request but the open ones (HTTP Basic or a
/// bearer token), decides from `AuthRules` whether the caller may make it, gives creators
/// MANAGE on what they create, and records every write, allowed or refused, in the audit log.
/// A refusal is MLflow's error shape: 401 UNAUTHENTICATED with the Basic challenge (which a
/// browser answers with its login prompt), or 403 PERMISSION_DENIED.
struct AuthMiddleware<Context: CairnRequestContext>: RouterMiddleware {
    let auth: ServerAuth
    let rules: AuthRules
    let staticPrefix: String

    init(auth: ServerAuth, tracking: any TrackingStore, staticPrefix: String) {
        self.auth = auth
        self.rules = AuthRules(access: auth.access, tracking: tracking)
        self.staticPrefix = staticPrefix
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var path = request.uri.path
        if !staticPrefix.isEmpty, path.hasPrefix(staticPrefix) { path = String(path.dropFirst(staticPrefix.count)) }
        if AuthRules.isOpen(path) { return try await next(request, context) }
        let isWrite = !(request.method == .get || request.method == .head || request.method == .options)
        var context = context
        var request = request
        var username: String?
        var resource: String?
        do {
            let authenticated: AuthenticatedUser
            if request.headers[.authorization] == nil, let session = request.cookies[LoginPagesController<Context>.cookieName]?.value {
                // A browser signed in through /login.
                authenticated = try await auth.authenticator.authenticate(session: session)
            } else {
                authenticated = try await auth.authenticator.authenticate(
                    authorization: request.headers[.authorization], address: context.remoteAddress)
            }
            username = authenticated.user.username
            let access = try await auth.access.access(for: authenticated)
            context.identity = RequestIdentity(
                subject: authenticated.user.username, user: authenticated.user, tokenID: authenticated.tokenID,
                isInternal: authenticated.isInternal, access: access)
            let requirement: AccessRequirement
            if let route = AuthRules.mlflowRoute(path) {
                // The fields decide; the body is read once here and handed on to the handler.
                if isWrite { request.body = .init(buffer: try await RequestParameters.bodyLimit.collect(request.body)) }
                let parameters = try await RequestParameters.from(request)
                context.requestParameters = parameters
                requirement = try await rules.requirement(mlflowRoute: route, method: request.method, parameters)
            } else {
                requirement = try await rules.requirement(
                    method: request.method, path: path, query: try RequestParameters(query: request.uri.query))
            }
            resource = requirement.resource
            guard requirement.isMet(by: access) else {
                if requirement.isUnlisted {
                    throw CairnError(
                        .endpointNotFound,
                        "No API endpoint matches \(request.method.rawValue) \(PercentDecoding.decodeLeniently(request.uri.path, mode: .path))"
                    )
                }
                throw CairnError(.permissionDenied, "Permission denied")
            }
            let response = try await next(request, context)
            if response.status.code < 400, let follow = requirement.follow {
                do {
                    try await apply(follow, for: authenticated)
                } catch {
                    // The write itself committed; the client must hear that, not a 500 it would retry.
                    context.logger.error("Updating grants after a write failed", metadata: ["error": "\(error)", "path": "\(path)"])
                }
            }
            if isWrite {
                record(request, path: path, username: username, context: context, resource: resource, status: response.status.code)
            }
            return response
        } catch {
            if isWrite {
                record(request, path: path, username: username, context: context, resource: resource, status: Self.status(of: error))
            }
            if let error = error as? CairnError, error.code == .unauthenticated {
                // A person opening a page is sent to the sign-in page; clients get the challenge.
                if ErrorRenderingMiddleware<Context>.isBrowserPage(request, prefix: staticPrefix) {
                    let target = String(path.prefix(2000)) + (request.uri.query.map { "?" + $0 } ?? "")
                    var query = "next="
                    query += target.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-._~"))) ?? "/"
                    return Response(status: .seeOther, headers: [.location: staticPrefix + "/login?" + query])
                }
                var response = JSONBody.error(error).response(status: .unauthorized)
                response.headers[.wwwAuthenticate] = "Basic realm=\"mlflow\""
                return response
            }
            throw error
        }
    }

    func apply(_ follow: AccessRequirement.Follow, for authenticated: AuthenticatedUser) async throws {
        // The creator's next request (a run in the experiment just made) must see the new grant.
        defer { auth.access.invalidate() }
        switch follow {
        case .creatorOfExperiment(let name):
            guard !authenticated.isInternal, let experiment = try await rules.tracking.getExperiment(name: name) else { return }
            try await auth.store.upsertGrant(
                userID: authenticated.user.id,
                PermissionGrant(resourceType: .experiment, resourceID: experiment.experimentID, permission: .manage))
        case .creatorOfModel(let name):
            guard !authenticated.isInternal, !name.isEmpty else { return }
            try await auth.store.upsertGrant(
                userID: authenticated.user.id, PermissionGrant(resourceType: .registeredModel, resourceID: name, permission: .manage))
        case .renameModel(let from, let to):
            guard !to.isEmpty else { return }
            try await auth.store.renameGrants(resourceType: .registeredModel, from: from, to: to)
        case .dropModel(let name):
            try await auth.store.dropGrants(resourceType: .registeredModel, resourceID: name)
        }
    }

    func record(_ request: Request, path: String, username: String?, context: Context, resource: String?, status: Int) {
        let time = auth.now()
        auth.audit.record(
            AuditEntry(
                id: auth.audit.nextID(time: time), time: time, username: username, address: context.remoteAddress,
                method: request.method.rawValue, path: String(path.prefix(1000)), resource: resource.map { String($0.prefix(500)) },
                status: status))
    }

    static func status(of error: any Error) -> Int {
        switch error {
        case let error as CairnError: error.code.httpStatus
        case let error as HTTPError: error.status.code
        default: 500
        }
    }
}
