import CairnAuth
import CairnCore
import CairnStore
import Hummingbird

/// `/api/cairn/v1/tokens`: personal access tokens, which the stock client sends as
/// `MLFLOW_TRACKING_TOKEN`. A user creates, lists and revokes their own; the secret is in the
/// create answer only (the server keeps its SHA-256). `/api/cairn/v1/audit`: the audit log,
/// for admins.
struct AccessTokensController<Context: CairnRequestContext>: Sendable {
    let auth: ServerAuth

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("tokens", use: mlflow(create))
        group.get("tokens", use: mlflow(list))
        group.delete("tokens/{token_id}", use: mlflowWithPath(revoke))
        group.get("audit", use: mlflow(audit))
    }

    /// Body: `name` (what the token is for). Answers the token once, with its record.
    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<AuthAPI.CreatedToken> {
        let identity = try UsersController<Context>.identity(context)
        guard !identity.isInternal else { throw CairnError.invalidParameter("The server's own credential cannot create tokens.") }
        let name = try parameters.requiredString("name")
        guard name.count <= 256 else { throw CairnError.invalidParameter("A token's name is at most 256 characters.") }
        let secret = AccessTokens.generate()
        let info = try await auth.store.createToken(
            id: CairnID.make(), userID: identity.user.id, name: name, tokenHash: AccessTokens.hash(secret), at: auth.now())
        return CairnAPIBody(AuthAPI.CreatedToken(token: secret, accessToken: AuthAPI.Token(info)))
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<AuthAPI.Tokens> {
        let identity = try UsersController<Context>.identity(context)
        let tokens = identity.isInternal ? [] : try await auth.store.tokens(userID: identity.user.id)
        return CairnAPIBody(AuthAPI.Tokens(accessTokens: tokens.map(AuthAPI.Token.init)))
    }

    @Sendable func revoke(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        let identity = try UsersController<Context>.identity(context)
        let id = try path.required("token_id")
        try await auth.store.revokeToken(id: id, userID: identity.user.id, at: auth.now())
        auth.authenticator.invalidate(tokenID: id)
        return .empty
    }

    /// `?user=NAME&since=MILLIS&max_results=N` (default 100, at most 10,000), newest first.
    @Sendable func audit(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<AuthAPI.AuditEntries> {
        try UsersController<Context>.requireAdmin(context)
        let maxResults = try parameters.int("max_results") ?? 100
        guard (1...10_000).contains(maxResults) else {
            throw CairnError.invalidParameter("Invalid value \(maxResults) for parameter 'max_results': it must be between 1 and 10000.")
        }
        // Entries still in the recorder's buffer are written first, so a write is visible
        // to the query that follows it.
        await auth.audit.flush()
        let entries = try await auth.store.audit(
            username: try parameters.string("user"), since: try parameters.int64("since"), maxResults: maxResults)
        return CairnAPIBody(AuthAPI.AuditEntries(entries: entries.map(AuthAPI.AuditEntryDTO.init)))
    }
}
