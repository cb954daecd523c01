import CairnAuth
import CairnCore
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

@testable import CairnServer

/// `cairn server --auth` in process: the router with the auth middleware over a real SQLite
/// store, an admin, and users made through the API.
struct AuthAPIFixture {
    static let adminPassword = "admin password 123"
    static let password = "user password 1234"

    static func withApp(
        defaultPermission: Permission = .read, _ body: @Sendable (any TestClientProtocol, ServerAuth) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-auth-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let auth = ServerAuth(
            store: SQLAuthStore(database: database), policy: AccessPolicy(defaultPermission: defaultPermission),
            hasher: PasswordHasher(cost: 4), logger: logger)
        try await AdminBootstrap.ensureAdmin(
            store: auth.store, hasher: auth.hasher, settings: .init(username: "admin", password: adminPassword), logger: logger, now: 1)
        let router = buildRouter(
            store: SQLTrackingStore(database: database), registryStore: SQLRegistryStore(database: database),
            loggedModelStore: SQLLoggedModelStore(database: database), registry: PrometheusCollectorRegistry(), auth: auth)
        let app = Application(router: router, logger: logger)
        do {
            try await app.test(.router) { client in try await body(client, auth) }
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}

/// Requests as one user.
struct As {
    let client: any TestClientProtocol
    let authorization: String

    init(_ client: any TestClientProtocol, _ username: String, _ password: String = AuthAPIFixture.password) {
        self.client = client
        authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    init(_ client: any TestClientProtocol, token: String) {
        self.client = client
        authorization = "Bearer " + token
    }

    func send(_ method: HTTPRequest.Method, _ path: String, _ json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: authorization]
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func get(_ path: String) async throws -> TestResponse { try await send(.get, path) }
    func post(_ path: String, _ json: String) async throws -> TestResponse { try await send(.post, path, json) }
}

func jsonText(_ value: JSONValue?) -> String? {
    if case .string(let text)? = value { return text }
    return nil
}

func listed(_ response: TestResponse, _ list: String, _ field: String) throws -> [String] {
    guard case .array(let items)? = try json(response)[list] else { return [] }
    return items.compactMap { jsonText($0[field]) }
}

@Suite struct AuthAPITests {
    /// A NUL in a user's name or password is refused where it is set (MLflow stores it; Cairn's
    /// PostgreSQL cannot, and bcrypt would read the password only up to it) and nothing is made.
    @Test func namesAndPasswordsWithANulAreRefusedAndNothingIsCreated() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            for body in [
                #"{"username":"fresh\u0000tail","password":"\#(AuthAPIFixture.password)"}"#,
                #"{"username":"fresh","password":"\#(AuthAPIFixture.password)\u0000x"}"#,
            ] {
                try expectError(try await admin.post("/api/2.0/mlflow/users/create", body), .invalidParameterValue)
            }
            try expectError(try await admin.get("/api/2.0/mlflow/users/get?username=fresh"), .resourceDoesNotExist)
            try expectError(try await admin.get("/api/2.0/mlflow/users/get?username=fresh%00tail"), .resourceDoesNotExist)
            // A password update is checked the same way.
            try expectError(
                try await admin.send(
                    .patch, "/api/2.0/mlflow/users/update-password", #"{"username":"admin","password":"long enough pass\u0000"}"#),
                .invalidParameterValue)
            #expect(try await admin.get("/api/2.0/mlflow/users/current").status == .ok)
        }
    }

    @Test func everyRouteButTheOpenOnesNeedsCredentials() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            #expect(try await client.get("/health").status == .ok)
            #expect(try await client.get("/version").status == .ok)
            #expect(try await client.get("/api/3.0/mlflow/server-info").status == .ok)
            let refused = try await client.get("/api/2.0/mlflow/experiments/get?experiment_id=0")
            try expectError(refused, .unauthenticated)
            #expect(refused.headers[.wwwAuthenticate] == "Basic realm=\"mlflow\"")
            // A wrong password and an unknown user answer alike.
            let wrong = try await As(client, "admin", "not the password").get("/api/2.0/mlflow/experiments/get?experiment_id=0")
            let unknown = try await As(client, "nobody", "whatever").get("/api/2.0/mlflow/experiments/get?experiment_id=0")
            try expectError(wrong, .unauthenticated)
            #expect(wrong.body == unknown.body)
            try expectError(try await client.get("/"), .unauthenticated)
            try expectError(try await client.get("/metrics"), .unauthenticated)
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            #expect(try await admin.get("/api/2.0/mlflow/experiments/get?experiment_id=0").status == .ok)
        }
    }

    @Test func thePermissionMatrix() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            for name in ["owner", "reader", "outsider"] {
                let created = try await admin.post(
                    "/api/2.0/mlflow/users/create", #"{"username":"\#(name)","password":"\#(AuthAPIFixture.password)"}"#)
                #expect(created.status == .ok)
                #expect(jsonText(try json(created)["user"]?["username"]) == name)
            }
            let owner = As(client, "owner")
            let reader = As(client, "reader")
            let outsider = As(client, "outsider")
            // Any user may create; the creator gets MANAGE.
            let experimentID = try #require(
                jsonText(try json(try await owner.post("/api/2.0/mlflow/experiments/create", #"{"name":"e"}"#))["experiment_id"]))
            let run = try json(try await owner.post("/api/2.0/mlflow/runs/create", #"{"experiment_id":"\#(experimentID)"}"#))
            let runID = try #require(jsonText(run["run"]?["info"]?["run_id"]))
            let logMetric = #"{"run_id":"\#(runID)","key":"m","value":1,"timestamp":1,"step":0}"#
            #expect(try await owner.post("/api/2.0/mlflow/runs/log-metric", logMetric).status == .ok)

            // The default READ lets others read, not write.
            #expect(try await reader.get("/api/2.0/mlflow/runs/get?run_id=\(runID)").status == .ok)
            try expectError(try await reader.post("/api/2.0/mlflow/runs/log-metric", logMetric), .permissionDenied)
            try expectError(
                try await reader.post("/api/2.0/mlflow/experiments/delete", #"{"experiment_id":"\#(experimentID)"}"#), .permissionDenied)
            // An unknown run answers as an unknown experiment would: no oracle for run ids.
            try expectError(
                try await reader.post(
                    "/api/2.0/mlflow/runs/log-metric", #"{"run_id":"00000000000000000000000000000000","key":"m","value":1,"timestamp":1}"#),
                .permissionDenied)

            // The owner grants EDIT: the reader may log now, not delete; a second grant is refused.
            let grant = #"{"username":"reader","resource_type":"experiment","resource_id":"\#(experimentID)","permission":"EDIT"}"#
            try expectError(try await reader.post("/api/3.0/mlflow/users/permissions/grant", grant), .permissionDenied)
            #expect(try await owner.post("/api/3.0/mlflow/users/permissions/grant", grant).status == .ok)
            try expectError(try await owner.post("/api/3.0/mlflow/users/permissions/grant", grant), .resourceAlreadyExists)
            #expect(try await reader.post("/api/2.0/mlflow/runs/log-metric", logMetric).status == .ok)
            try expectError(try await reader.post("/api/2.0/mlflow/runs/delete", #"{"run_id":"\#(runID)"}"#), .permissionDenied)
            let check = try json(
                try await reader.get(
                    "/api/3.0/mlflow/users/permissions/get?username=reader&resource_type=experiment&resource_id=\(experimentID)"))
            #expect(jsonText(check["permission"]) == "EDIT" && check["allowed"] == .bool(true))

            // DENY hides the experiment from the outsider, in reads and in searches.
            let deny = #"{"username":"outsider","resource_type":"experiment","resource_id":"\#(experimentID)","permission":"DENY"}"#
            #expect(try await owner.post("/api/3.0/mlflow/users/permissions/grant", deny).status == .ok)
            try expectError(try await outsider.get("/api/2.0/mlflow/experiments/get?experiment_id=\(experimentID)"), .permissionDenied)
            let seen = try listed(
                try await outsider.post("/api/2.0/mlflow/experiments/search", #"{"max_results":100}"#), "experiments", "name")
            #expect(seen == ["Default"])
            let runs = try json(try await outsider.post("/api/2.0/mlflow/runs/search", #"{"experiment_ids":["\#(experimentID)"]}"#))
            #expect(runs["runs"] == nil || runs["runs"] == .array([]))
            #expect(try listed(try await reader.post("/api/2.0/mlflow/experiments/search", "{}"), "experiments", "name").contains("e"))
            // Artifacts are judged by their experiment, and a path into another experiment's run is refused.
            try expectError(
                try await outsider.get("/api/2.0/mlflow-artifacts/artifacts/\(experimentID)/\(runID)/artifacts/x.txt"), .permissionDenied)
            try expectError(try await owner.send(.put, "/api/2.0/mlflow-artifacts/artifacts/0/\(runID)/artifacts/x.txt"), .permissionDenied)

            // The admin bypasses everything; users cannot manage users.
            #expect(try await admin.post("/api/2.0/mlflow/experiments/delete", #"{"experiment_id":"\#(experimentID)"}"#).status == .ok)
            try expectError(
                try await owner.post("/api/2.0/mlflow/users/create", #"{"username":"x","password":"\#(AuthAPIFixture.password)"}"#),
                .permissionDenied)
            try expectError(try await owner.get("/api/2.0/mlflow/users/get?username=reader"), .permissionDenied)
            #expect(try await owner.get("/api/2.0/mlflow/users/get?username=owner").status == .ok)
            #expect(jsonText(try json(try await owner.get("/api/2.0/mlflow/users/current"))["user"]?["username"]) == "owner")
            try expectError(try await owner.get("/api/2.0/mlflow/webhooks"), .permissionDenied)
        }
    }

    @Test func searchesWithoutADefaultShowOnlyGrantedModels() async throws {
        try await AuthAPIFixture.withApp(defaultPermission: .noPermissions) { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"u","password":"\#(AuthAPIFixture.password)"}"#)
            for name in ["secret", "shared"] {
                _ = try await admin.post("/api/2.0/mlflow/registered-models/create", #"{"name":"\#(name)"}"#)
            }
            let user = As(client, "u")
            #expect(try listed(try await user.get("/api/2.0/mlflow/registered-models/search"), "registered_models", "name").isEmpty)
            let grant = #"{"username":"u","resource_type":"registered_model","resource_id":"shared","permission":"READ"}"#
            #expect(try await admin.post("/api/3.0/mlflow/users/permissions/grant", grant).status == .ok)
            #expect(try listed(try await user.get("/api/2.0/mlflow/registered-models/search"), "registered_models", "name") == ["shared"])
            try expectError(try await user.get("/api/2.0/mlflow/registered-models/get?name=secret"), .permissionDenied)
            // Resource-blind pages need a caller who may read everything.
            try expectError(try await user.get("/api/cairn/v1/monitors"), .permissionDenied)
        }
    }

    @Test func protectedAliasesNeedManage() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"editor","password":"\#(AuthAPIFixture.password)"}"#)
            _ = try await admin.post("/api/2.0/mlflow/registered-models/create", #"{"name":"m"}"#)
            _ = try await admin.post("/api/2.0/mlflow/model-versions/create", #"{"name":"m","source":"s3://bucket/1"}"#)
            let grant = #"{"username":"editor","resource_type":"registered_model","resource_id":"m","permission":"EDIT"}"#
            #expect(try await admin.post("/api/3.0/mlflow/users/permissions/grant", grant).status == .ok)
            let editor = As(client, "editor")
            #expect(
                try await editor.post("/api/2.0/mlflow/registered-models/alias", #"{"name":"m","alias":"staging","version":"1"}"#).status
                    == .ok)
            try expectError(
                try await editor.post("/api/2.0/mlflow/registered-models/alias", #"{"name":"m","alias":"champion","version":"1"}"#),
                .permissionDenied)
            try expectError(
                try await editor.send(.delete, "/api/2.0/mlflow/registered-models/alias", #"{"name":"m","alias":"staging"}"#),
                .permissionDenied)
            #expect(
                try await admin.post("/api/2.0/mlflow/registered-models/alias", #"{"name":"m","alias":"champion","version":"1"}"#).status
                    == .ok)
        }
    }

    @Test func tokensAuthenticateAndRevokedOnesDoNot() async throws {
        try await AuthAPIFixture.withApp { client, auth in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"u","password":"\#(AuthAPIFixture.password)"}"#)
            let created = try json(try await As(client, "u").post("/api/cairn/v1/tokens", #"{"name":"laptop"}"#))
            let secret = try #require(jsonText(created["token"]))
            let tokenID = try #require(jsonText(created["access_token"]?["id"]))
            let withToken = As(client, token: secret)
            #expect(jsonText(try json(try await withToken.get("/api/2.0/mlflow/users/current"))["user"]?["username"]) == "u")
            #expect(try listed(try await withToken.get("/api/cairn/v1/tokens"), "access_tokens", "name") == ["laptop"])
            #expect(try await withToken.send(.delete, "/api/cairn/v1/tokens/\(tokenID)").status == .ok)
            try expectError(try await withToken.get("/api/2.0/mlflow/users/current"), .unauthenticated)
            // A deleted user's password stops working at once.
            #expect(try await As(client, "u").get("/api/2.0/mlflow/users/current").status == .ok)
            #expect(try await admin.send(.delete, "/api/2.0/mlflow/users/delete", #"{"username":"u"}"#).status == .ok)
            try expectError(try await As(client, "u").get("/api/2.0/mlflow/users/current"), .unauthenticated)
            _ = auth
        }
    }

    @Test func writesAreAuditedAllowedOrRefused() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            let admin = As(client, "admin", AuthAPIFixture.adminPassword)
            _ = try await admin.post("/api/2.0/mlflow/users/create", #"{"username":"u","password":"\#(AuthAPIFixture.password)"}"#)
            _ = try await As(client, "u").post("/api/2.0/mlflow/experiments/delete", #"{"experiment_id":"0"}"#)
            _ = try await client.post("/api/2.0/mlflow/experiments/create", #"{"name":"anonymous"}"#)
            try expectError(try await As(client, "u").get("/api/cairn/v1/audit"), .permissionDenied)
            let log = try json(try await admin.get("/api/cairn/v1/audit?max_results=10"))
            guard case .array(let entries)? = log["entries"] else {
                Issue.record("no entries")
                return
            }
            let seen = entries.map {
                "\(jsonText($0["username"]) ?? "-") \(jsonText($0["path"]) ?? "") \($0["status"].map { "\($0)" } ?? "")"
            }
            #expect(entries.count == 3, "\(seen)")
            #expect(jsonText(entries.first?["path"]) == "/api/2.0/mlflow/experiments/create" && entries.first?["username"] == .null)
            #expect(jsonText(entries[1]["username"]) == "u" && jsonText(entries[1]["resource"]) == "experiment:0")
            let onlyU = try json(try await admin.get("/api/cairn/v1/audit?user=u"))
            guard case .array(let mine)? = onlyU["entries"] else { return }
            #expect(mine.count == 1)
        }
    }
}

@Suite struct LoginPagesTests {
    /// The cookie a response sets, as `name=value`.
    static func cookie(_ response: TestResponse, _ name: String) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix(name + "=") }.map { String($0.split(separator: ";")[0]) }
    }

    @Test func aBrowserSignsInWithACookieAndOut() async throws {
        try await AuthAPIFixture.withApp { client, _ in
            // A page without a session sends the browser to the sign-in page.
            let page = try await client.execute(uri: "/experiments?x=1", method: .get, headers: [.accept: "text/html"])
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/experiments%3Fx%3D1")
            let form = try await client.execute(uri: "/login?next=/experiments", method: .get, headers: [.accept: "text/html"])
            #expect(form.status == .ok)
            let csrf = try #require(Self.cookie(form, "cairn_csrf"))
            let token = String(csrf.dropFirst("cairn_csrf=".count))
            func post(_ path: String, _ body: String, cookies: String) async throws -> TestResponse {
                try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookies],
                    body: ByteBuffer(string: body))
            }
            // A wrong password re-renders the form; no session cookie is set.
            let wrong = try await post("/login", "csrf_token=\(token)&username=admin&password=nope&next=/experiments", cookies: csrf)
            #expect(wrong.status == .unauthorized && Self.cookie(wrong, "cairn_session") == nil)
            // Without the CSRF token the form is refused.
            #expect(try await post("/login", "username=admin&password=x", cookies: csrf).status == .forbidden)
            let password = AuthAPIFixture.adminPassword.replacingOccurrences(of: " ", with: "+")
            let signedIn = try await post(
                "/login", "csrf_token=\(token)&username=admin&password=\(password)&next=//evil.example", cookies: csrf)
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/")
            let setCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("cairn_session=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let session = try #require(Self.cookie(signedIn, "cairn_session"))
            // The session authenticates pages and the API alike.
            let api = try await client.execute(uri: "/api/2.0/mlflow/users/current", method: .get, headers: [.cookie: session])
            #expect(jsonText(try json(api)["user"]?["username"]) == "admin")
            // A forged cookie is nobody.
            try expectError(
                try await client.execute(uri: "/api/2.0/mlflow/users/current", method: .get, headers: [.cookie: "cairn_session=forged"]),
                .unauthenticated)
            let out = try await post("/logout", "csrf_token=\(token)", cookies: "\(csrf); \(session)")
            #expect(out.status == .seeOther)
            try expectError(
                try await client.execute(uri: "/api/2.0/mlflow/users/current", method: .get, headers: [.cookie: session]), .unauthenticated)
        }
    }
}
