import CairnArtifacts
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

/// The experiments pages over the router, against a real SQLite store and artifact directory.
struct UIFixture {
    static func withApp(
        staticPrefix: String = "", _ body: @Sendable (any TestClientProtocol, _ artifactRoot: String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let root = directory.appendingPathComponent("artifacts").path
        let artifacts = try LocalArtifactRepository(rootDirectory: root, configuration: .init(durableWrites: false))
        let router = buildRouter(
            store: SQLTrackingStore(database: database), registryStore: SQLRegistryStore(database: database),
            loggedModelStore: SQLLoggedModelStore(database: database), artifacts: artifacts, registry: PrometheusCollectorRegistry(),
            staticPrefix: staticPrefix)
        let app = Application(router: router, logger: logger)
        do {
            try await app.test(.router) { try await body($0, root) }
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}

/// A browser's session: the CSRF cookie the first page set, sent back with each form.
struct BrowserSession {
    var token: String

    static func start(_ client: some TestClientProtocol, prefix: String = "") async throws -> BrowserSession {
        let page = try await client.execute(uri: prefix + "/experiments", method: .get)
        let cookie = try #require(page.headers[.setCookie])
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        #expect(cookie.contains("Path=\(prefix)/"))
        let value = try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last)
        return BrowserSession(token: String(value))
    }

    func post(_ client: some TestClientProtocol, _ path: String, _ fields: [(String, String)], token: String? = nil) async throws
        -> TestResponse
    {
        let body = ([("csrf_token", token ?? self.token)] + fields).map { "\($0)=\(Self.encode($1))" }.joined(separator: "&")
        return try await client.execute(
            uri: path, method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cairn_csrf=\(self.token)"],
            body: ByteBuffer(string: body))
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }
}

@Suite struct ExperimentPagesTests {
    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func createExperiment(_ client: some TestClientProtocol, _ name: String, prefix: String = "") async throws -> String {
        var writer = JSONWriter()
        writer.string(name)
        let quoted = String(decoding: writer.bytes, as: UTF8.self)
        let response = try await client.post(prefix + "/api/2.0/mlflow/experiments/create", #"{"name": \#(quoted)}"#)
        #expect(response.status == .ok)
        guard case .string(let id)? = try json(response)["experiment_id"] else { throw CairnError.invalidParameter("no id") }
        return id
    }

    @Test func theListAndTheRootAnswerPages() async throws {
        try await UIFixture.withApp { client, _ in
            _ = try await Self.createExperiment(client, "iris")
            for path in ["/", "/experiments", "/experiments?view=all&order=name&size=10&page=1"] {
                let response = try await client.get(path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = Self.html(response)
                #expect(page.contains(#"<a href="/experiments/1">iris</a>"#), "\(path)")
                #expect(page.contains(#"<a href="/experiments" aria-current="page">Experiments</a>"#))
                #expect(page.contains("Default"))
            }
        }
    }

    @Test func searchSortViewAndPages() async throws {
        try await UIFixture.withApp { client, _ in
            for index in 1...12 { _ = try await Self.createExperiment(client, "exp-\(index < 10 ? "0" : "")\(index)") }
            _ = try await Self.createExperiment(client, "other")
            let found = Self.html(try await client.get("/experiments?q=EXP-1"))
            #expect(found.contains(">exp-10<") && found.contains(">exp-11<") && found.contains(">exp-12<"))
            #expect(!found.contains(">exp-09<") && !found.contains(">other<"))

            let first = Self.html(try await client.get("/experiments?order=name&size=10"))
            #expect(first.contains("1–10 of 14"))
            #expect(first.contains(">Default<") && first.contains(">exp-09<") && !first.contains(">exp-10<"))
            #expect(first.contains(#"<a href="/experiments?order=name&amp;size=10&amp;page=2">2</a>"#))
            let second = Self.html(try await client.get("/experiments?order=name&size=10&page=2"))
            #expect(second.contains("11–14 of 14") && second.contains(">other<") && !second.contains(">exp-09<"))
            // The sorted column links to the reverse order.
            #expect(first.contains(#"<th aria-sort="ascending"><a href="/experiments?order=-name&amp;size=10">Name</a></th>"#))

            let descending = Self.html(try await client.get("/experiments?order=-name&size=10"))
            #expect(descending.range(of: ">other<")!.lowerBound < descending.range(of: ">exp-12<")!.lowerBound)
        }
    }

    @Test func badStateIsAClearPageNotA500() async throws {
        try await UIFixture.withApp { client, _ in
            for (path, text) in [
                ("/experiments?view=gone", "Unknown view"), ("/experiments?order=size", "Unknown order"),
                ("/experiments?page=0", "Invalid page"),
                ("/experiments?size=7", "Invalid page size"),
            ] {
                let response = try await client.get(path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(Self.html(response).contains(text))
                #expect(Self.html(response).contains("/static-files/cairn.css?v="))
            }
            let missing = try await client.get("/experiments/9999/delete")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Self.html(missing).contains("No Experiment with id=9999 exists"))
        }
    }

    @Test func aScriptNameComesBackInert() async throws {
        try await UIFixture.withApp { client, _ in
            let name = "<script>alert('pwn')</script>"
            let id = try await Self.createExperiment(client, name)
            for path in ["/experiments", "/experiments/\(id)/delete"] {
                let page = Self.html(try await client.get(path))
                #expect(!page.contains("<script>alert"), "\(path)")
                #expect(page.contains("&lt;script&gt;alert(&#39;pwn&#39;)&lt;/script&gt;"), "\(path)")
            }
        }
    }

    @Test func formsWithoutTheTokenAreRefused() async throws {
        try await UIFixture.withApp { client, _ in
            let session = try await BrowserSession.start(client)
            // No cookie and no field, a field that does not match the cookie, and no field.
            let bare = try await client.execute(
                uri: "/experiments", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "name=x"))
            #expect(bare.status == .forbidden)
            #expect(bare.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Self.html(bare).contains("security token"))
            let wrong = try await session.post(client, "/experiments", [("name", "x")], token: String(repeating: "0", count: 32))
            #expect(wrong.status == .forbidden)
            let missing = try await client.execute(
                uri: "/experiments", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cairn_csrf=\(session.token)"],
                body: ByteBuffer(string: "name=x"))
            #expect(missing.status == .forbidden)
            let json = try await client.execute(
                uri: "/experiments", method: .post, headers: [.contentType: "application/json", .cookie: "cairn_csrf=\(session.token)"],
                body: ByteBuffer(string: "{}"))
            #expect(json.status == .unsupportedMediaType)
            let big = try await session.post(client, "/experiments", [("name", String(repeating: "x", count: 300_000))])
            #expect(big.status == .contentTooLarge)
            // Nothing was created.
            #expect(!Self.html(try await client.get("/experiments")).contains(">x<"))
        }
    }

    @Test func createRenameDeleteRestoreThroughForms() async throws {
        try await UIFixture.withApp { client, _ in
            let session = try await BrowserSession.start(client)
            let created = try await session.post(client, "/experiments", [("name", "churn model"), ("back", "/experiments")])
            #expect(created.status == .seeOther)
            #expect(created.headers[.location] == "/experiments/1")

            // The API's validation and conflicts, shown on the list with the name kept.
            let duplicate = try await session.post(client, "/experiments", [("name", "churn model")])
            #expect(duplicate.status == .badRequest)
            #expect(Self.html(duplicate).contains("already exists"))
            #expect(Self.html(duplicate).contains(#"value="churn model""#))
            let blank = try await session.post(client, "/experiments", [("name", "")])
            #expect(blank.status == .badRequest)

            let renamed = try await session.post(
                client, "/experiments/1/rename", [("new_name", "churn v2"), ("back", "/experiments?order=name")])
            #expect(renamed.status == .seeOther)
            #expect(renamed.headers[.location] == "/experiments?order=name&done=renamed")
            let list = Self.html(try await client.get("/experiments?order=name&done=renamed"))
            #expect(list.contains(">churn v2<") && list.contains("Experiment renamed."))

            let confirm = try await client.get("/experiments/1/delete?back=%2Fexperiments")
            #expect(confirm.status == .ok)
            #expect(Self.html(confirm).contains(#"action="/experiments/1/delete""#))
            let deleted = try await session.post(client, "/experiments/1/delete", [("back", "https://evil.example/")])
            #expect(deleted.headers[.location] == "/experiments?done=deleted")
            #expect(!Self.html(try await client.get("/experiments")).contains(">churn v2<"))
            #expect(Self.html(try await client.get("/experiments?view=deleted")).contains(">churn v2<"))

            let again = try await session.post(client, "/experiments/1/delete", [])
            #expect(again.status == .notFound)
            let defaultExperiment = try await session.post(client, "/experiments/0/delete", [])
            #expect(defaultExperiment.status == .badRequest)
            #expect(Self.html(defaultExperiment).contains("Cannot delete the default experiment"))

            let restored = try await session.post(client, "/experiments/1/restore", [("back", "/experiments?view=deleted")])
            #expect(restored.headers[.location] == "/experiments?view=deleted&done=restored")
            #expect(Self.html(try await client.get("/experiments")).contains(">churn v2<"))
        }
    }

    @Test func purgeRemovesTheRunsAndTheirFiles() async throws {
        try await UIFixture.withApp { client, artifactRoot in
            let session = try await BrowserSession.start(client)
            let id = try await Self.createExperiment(client, "old")
            let keep = try await Self.createExperiment(client, "kept")
            var runs: [String] = []
            for experiment in [id, keep] {
                let run = try json(try await client.post("/api/2.0/mlflow/runs/create", #"{"experiment_id": "\#(experiment)"}"#))
                guard case .string(let runID)? = run["run"]?["info"]?["run_id"] else { throw CairnError.invalidParameter("no run") }
                runs.append(runID)
                #expect(
                    try await client.post(
                        "/api/2.0/mlflow/runs/log-batch",
                        #"{"run_id": "\#(runID)", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}], "params": [{"key": "p", "value": "v"}], "tags": [{"key": "t", "value": "v"}]}"#
                    ).status == .ok)
                let put = try await client.execute(
                    uri: "/api/2.0/mlflow-artifacts/artifacts/\(experiment)/\(runID)/artifacts/model.txt", method: .put,
                    body: ByteBuffer(string: "weights"))
                #expect(put.status == .ok)
            }
            // Only a deleted experiment can be purged.
            let active = try await session.post(client, "/experiments/\(id)/purge", [])
            #expect(active.status == .badRequest)
            #expect(Self.html(active).contains("not in the deleted lifecycle stage"))
            #expect(try await client.get("/experiments/\(id)/purge").status == .badRequest)

            #expect(try await session.post(client, "/experiments/\(id)/delete", []).status == .seeOther)
            let confirm = try await client.get("/experiments/\(id)/purge")
            #expect(confirm.status == .ok)
            #expect(Self.html(confirm).contains("cannot be undone"))
            let purged = try await session.post(client, "/experiments/\(id)/purge", [("back", "/experiments?view=deleted")])
            #expect(purged.status == .seeOther)
            #expect(purged.headers[.location] == "/experiments?view=deleted&done=purged&runs=1")
            #expect(Self.html(try await client.get("/experiments?view=deleted&done=purged&runs=1")).contains("purged with its 1 run"))

            try expectError(try await client.get("/api/2.0/mlflow/experiments/get?experiment_id=\(id)"), .resourceDoesNotExist)
            try expectError(try await client.get("/api/2.0/mlflow/runs/get?run_id=\(runs[0])"), .resourceDoesNotExist)
            #expect(!FileManager.default.fileExists(atPath: "\(artifactRoot)/\(id)/\(runs[0])/artifacts/model.txt"))
            // The other experiment is untouched.
            #expect(try await client.get("/api/2.0/mlflow/runs/get?run_id=\(runs[1])").status == .ok)
            #expect(FileManager.default.fileExists(atPath: "\(artifactRoot)/\(keep)/\(runs[1])/artifacts/model.txt"))
            #expect(try await session.post(client, "/experiments/\(id)/purge", []).status == .notFound)
        }
    }

    @Test func assetsAreServedWithCachingHeaders() async throws {
        try await UIFixture.withApp { client, _ in
            let page = Self.html(try await client.get("/experiments"))
            let css = try #require(page.firstRange(of: #/href="(/static-files/cairn\.css\?v=[0-9a-f]{16})"/#)?.lowerBound)
            let path = String(page[css...].dropFirst(6).prefix { $0 != "\"" })
            let response = try await client.get(path)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
            let etag = try #require(response.headers[.eTag])
            let revalidated = try await client.execute(uri: "/static-files/cairn.css", method: .get, headers: [.ifNoneMatch: etag])
            #expect(revalidated.status == .notModified)
            let script = try await client.get("/static-files/cairn.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.cacheControl] == "no-cache")
            #expect(String(buffer: script.body).contains("/experiments/"))
        }
    }

    @Test func everythingLivesUnderTheStaticPrefix() async throws {
        try await UIFixture.withApp(staticPrefix: "/sub") { client, _ in
            let id = try await Self.createExperiment(client, "prefixed", prefix: "/sub")
            let response = try await client.get("/sub/experiments")
            #expect(response.status == .ok)
            let page = Self.html(response)
            #expect(page.contains(#"<a href="/sub/experiments/\#(id)">prefixed</a>"#))
            #expect(page.contains(#"href="/sub/static-files/cairn.css?v="#))
            #expect(page.contains(#"src="/sub/static-files/cairn.js?v="#))
            #expect(page.contains(#"action="/sub/experiments""#))
            #expect(page.contains(#"<a href="/sub/models">Models</a>"#))
            #expect(!page.contains(#"href="/experiments"#))
            #expect(try await client.get("/sub").status == .ok)
            #expect(try await client.get("/sub/static-files/cairn.css").status == .ok)
            #expect(try await client.get("/sub/health").status == .ok)
            #expect(try await client.get("/experiments").status == .notFound)
            #expect(try await client.get("/api/2.0/mlflow/experiments/search").status == .notFound)
            // A browser asking for a page no route matches gets the UI's page; the API keeps MLflow's JSON.
            let browser = try await client.execute(uri: "/sub/no/such/page", method: .get, headers: [.accept: "text/html,*/*;q=0.8"])
            #expect(browser.status == .notFound)
            #expect(Self.html(browser).contains("There is no page at /sub/no/such/page."))
            #expect(Self.html(browser).contains(#"href="/sub/static-files/cairn.css?v="#))
            let api = try await client.execute(uri: "/sub/api/2.0/mlflow/nope", method: .get, headers: [.accept: "text/html"])
            try expectError(api, .endpointNotFound)
            try expectError(try await client.get("/sub/no/such/page"), .endpointNotFound)

            let session = try await BrowserSession.start(client, prefix: "/sub")
            let renamed = try await session.post(client, "/sub/experiments/\(id)/rename", [("new_name", "moved")])
            #expect(renamed.headers[.location] == "/sub/experiments?done=renamed")
            let error = try await client.get("/sub/experiments/404/delete")
            #expect(error.status == .notFound)
            #expect(Self.html(error).contains(#"href="/sub/static-files/cairn.css?v="#))
        }
    }
}
