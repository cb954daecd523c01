import CairnAuth
import CairnCore
import CairnStore
import CairnUI
import HTTPTypes
import Hummingbird

/// `cairn server --auth` in a browser: `/login` signs in with a username and password and sets
/// the session cookie (`cairn_session`: HttpOnly, SameSite=Strict, scoped to the UI, the
/// secret stored only hashed); `/logout` ends the session. Both forms carry the UI's CSRF token.
/// A page asked for without a session redirects here (`AuthMiddleware`).
struct LoginPagesController<Context: CairnRequestContext>: Sendable {
    let auth: ServerAuth
    let ui: UIPages

    static var cookieName: String { "cairn_session" }

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("login", use: loginPage)
        router.post("login", use: login)
        router.get("logout", use: logoutPage)
        router.post("logout", use: logout)
    }

    /// A path of the UI to return to after signing in; anything else (another site, `//host`,
    /// a scheme) goes to the home page, so the form cannot be used to send a user elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { return "/" }
        return next
    }

    @Sendable func loginPage(_ request: Request, context: Context) async throws -> Response {
        let next = Self.safeNext(PageForm.query(of: request).string("next"))
        return try ui.page(
            "login", title: "Sign in", content: LoginView(next: next, username: ""), chrome: ui.chrome(for: request, section: nil),
            request: request)
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        let username = form.string("username") ?? ""
        let next = Self.safeNext(form.string("next"))
        do {
            let signedIn = try await auth.authenticator.signIn(
                username: username, password: form.string("password") ?? "", address: context.remoteAddress)
            record(request, context: context, username: signedIn.user.username, status: 303)
            // The static prefix is the UI's root; `next` is a path below it.
            var response = Response(status: .seeOther, headers: [.location: ui.url(next)])
            response.setCookie(
                Cookie(
                    name: Self.cookieName, value: signedIn.session, maxAge: Int(Authenticator.sessionLifetime.components.seconds),
                    path: ui.staticPrefix + "/", httpOnly: true, sameSite: .strict))
            return response
        } catch let error as CairnError where error.code == .unauthenticated || error.code == .requestLimitExceeded {
            let status: HTTPResponse.Status = error.code == .unauthenticated ? .unauthorized : .tooManyRequests
            record(request, context: context, username: nil, status: Int(status.code))
            let message =
                error.code == .unauthenticated
                ? "The username or the password is wrong." : "Too many failed sign-ins; try again in a few minutes."
            return try ui.page(
                "login", title: "Sign in", content: LoginView(next: next, username: username, error: message),
                chrome: ui.chrome(for: request, section: nil), request: request, status: status)
        }
    }

    @Sendable func logoutPage(_ request: Request, context: Context) async throws -> Response {
        var username = ""
        if let secret = request.cookies[Self.cookieName]?.value,
            let user = try? await auth.authenticator.authenticate(session: secret)
        {
            username = user.user.username
        }
        return try ui.page(
            "logout", title: "Sign out", content: LoginView(next: "/", username: username), chrome: ui.chrome(for: request, section: nil),
            request: request)
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        _ = try await PageForm.read(request)
        if let secret = request.cookies[Self.cookieName]?.value { try await auth.authenticator.signOut(session: secret) }
        record(request, context: context, username: nil, status: 303)
        var response = ui.redirect(to: "/login")
        // An expired cookie of the same name and path: the browser drops it.
        response.setCookie(
            Cookie(name: Self.cookieName, value: "", maxAge: 0, path: ui.staticPrefix + "/", httpOnly: true, sameSite: .strict))
        return response
    }

    /// Sign-ins and sign-outs are writes: they go in the audit log like every other.
    func record(_ request: Request, context: Context, username: String?, status: Int) {
        let time = auth.now()
        auth.audit.record(
            AuditEntry(
                id: auth.audit.nextID(time: time), time: time, username: username, address: context.remoteAddress,
                method: request.method.rawValue, path: request.uri.path, resource: nil, status: status))
    }
}
