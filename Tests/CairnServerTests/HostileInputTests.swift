import CairnArtifacts
import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CairnServer

/// An outside review's hostile inputs (issue 14's leftovers), through the API and the pages.
@Suite struct HostileInputTests {
    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func errorCode(_ response: TestResponse) throws -> String? {
        guard case .string(let code)? = try json(response)["error_code"] else { return nil }
        return code
    }

    @Test func nulInNamesIsRefusedThroughTheAPIAndNothingIsStored() async throws {
        try await UIFixture.withApp { client, _ in
            let experiment = try await client.post("/api/2.0/mlflow/experiments/create", #"{"name": "evil\u0000tail"}"#)
            #expect(experiment.status == .badRequest)
            #expect(try Self.errorCode(experiment) == "INVALID_PARAMETER_VALUE")
            #expect(String(buffer: experiment.body).contains("NUL"))
            // Neither the whole name nor the part before the NUL was stored.
            for name in ["evil", "evil%00tail"] {
                let lookup = try await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(name)")
                #expect(lookup.status == .notFound, "\(name)")
            }

            let id = try await ExperimentPagesTests.createExperiment(client, "fine")
            let named = try await client.post(
                "/api/2.0/mlflow/runs/create", #"{"experiment_id": "\#(id)", "run_name": "r\u0000x", "start_time": 1}"#)
            #expect(named.status == .badRequest)
            #expect(try Self.errorCode(named) == "INVALID_PARAMETER_VALUE")
            let search = try await client.post("/api/2.0/mlflow/runs/search", #"{"experiment_ids": ["\#(id)"]}"#)
            #expect(!String(buffer: search.body).contains("\"runs\""))

            let created = try await client.post("/api/2.0/mlflow/runs/create", #"{"experiment_id": "\#(id)", "start_time": 1}"#)
            guard case .object(let run)? = try json(created)["run"], case .object(let info)? = run["info"],
                case .string(let runID)? = info["run_id"]
            else { throw CairnError.invalidParameter("no run") }
            for (path, body) in [
                ("runs/set-tag", #"{"run_id": "\#(runID)", "key": "k", "value": "a\u0000b"}"#),
                ("runs/set-tag", #"{"run_id": "\#(runID)", "key": "k\u0000", "value": "v"}"#),
                ("runs/set-tag", #"{"run_id": "\#(runID)", "key": "mlflow.runName", "value": "n\u0000"}"#),
                ("runs/log-parameter", #"{"run_id": "\#(runID)", "key": "p", "value": "a\u0000b"}"#),
                ("runs/update", #"{"run_id": "\#(runID)", "run_name": "x\u0000y"}"#),
                ("experiments/set-experiment-tag", #"{"experiment_id": "\#(id)", "key": "k", "value": "a\u0000b"}"#),
                ("experiments/update", #"{"experiment_id": "\#(id)", "new_name": "b\u0000c"}"#),
                ("registered-models/create", #"{"name": "m\u0000odel"}"#),
            ] {
                let response = try await client.post("/api/2.0/mlflow/" + path, body)
                #expect(response.status == .badRequest, "\(path) \(body)")
                #expect(try Self.errorCode(response) == "INVALID_PARAMETER_VALUE", "\(path) \(body)")
            }
            let stored = String(buffer: try await client.get("/api/2.0/mlflow/runs/get?run_id=\(runID)").body)
            #expect(!stored.contains(#""key":"k""#) && !stored.contains(#""key":"p""#))
            #expect(!stored.contains("\\u0000"))
            let models = String(buffer: try await client.get("/api/2.0/mlflow/registered-models/search").body)
            #expect(!models.contains("\"m"))
            let experimentNow = String(buffer: try await client.get("/api/2.0/mlflow/experiments/get?experiment_id=\(id)").body)
            #expect(experimentNow.contains(#""name":"fine""#))
        }
    }

    @Test func nulInAFormIsAClearPageAndNothingIsStored() async throws {
        try await UIFixture.withApp { client, _ in
            let session = try await BrowserSession.start(client)
            let created = try await session.post(client, "/experiments", [("name", "evil\u{0}tail")])
            #expect(created.status == .badRequest)
            #expect(created.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Self.html(created).contains("NUL characters are not allowed"))
            let lookup = try await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=evil")
            #expect(lookup.status == .notFound)

            let id = try await ExperimentPagesTests.createExperiment(client, "fine")
            let renamed = try await session.post(client, "/experiments/\(id)/rename", [("new_name", "x\u{0}y")])
            #expect(renamed.status == .badRequest)
            #expect(Self.html(renamed).contains("NUL characters are not allowed"))
            #expect(Self.html(try await client.get("/experiments")).contains(">fine<"))
        }
    }

    @Test func runsTableRefusesOutOfRangeStateAndSaysWhenAPageIsPastTheEnd() async throws {
        try await UIFixture.withApp { client, _ in
            let id = try await ExperimentPagesTests.createExperiment(client, "paged")
            for index in 0..<3 {
                let response = try await client.post(
                    "/api/2.0/mlflow/runs/create", #"{"experiment_id": "\#(id)", "run_name": "r\#(index)", "start_time": \#(index)}"#)
                #expect(response.status == .ok)
            }
            for (query, text) in [
                ("page=abc", "Invalid page &#39;abc&#39;"), ("page=-1", "Invalid page"), ("size=7", "Invalid page size &#39;7&#39;"),
                ("size=1000", "Invalid page size"), ("view=gone", "Unknown view &#39;gone&#39;"),
                ("agg=median", "Unknown agg &#39;median&#39;"),
            ] {
                for path in ["/experiments/\(id)?\(query)", "/runs?experiments=\(id)&\(query)", "/experiments/\(id)/runs.csv?\(query)"] {
                    let response = try await client.get(path)
                    #expect(response.status == .badRequest, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                    #expect(Self.html(response).contains(text), "\(path)")
                }
            }
            // Blank fields (a submitted form) are the defaults.
            #expect(try await client.get("/experiments/\(id)?page=&size=&agg=&view=").status == .ok)

            let past = try await client.get("/experiments/\(id)?size=25&page=2")
            #expect(past.status == .notFound)
            let page = Self.html(past)
            #expect(page.contains("There is no page 2 of this view: it has 1 page of up to 25 (3 top-level runs)."))
            #expect(page.contains(#"<a href="/experiments/\#(id)?size=25">Go to the first page</a>"#))
            #expect(page.contains("No page 2: 1 page, 3 in all"))
            #expect(!page.contains("Page 2 of 1"))
            let last = try await client.get("/experiments/\(id)?size=25")
            #expect(last.status == .ok)
            #expect(Self.html(last).contains("1–3 of 3"))
        }
    }

    @Test func aPageAskedWithTheWrongMethodIsA405PageWithAllow() async throws {
        try await UIFixture.withApp { client, _ in
            let id = try await ExperimentPagesTests.createExperiment(client, "methods")
            for (path, method, allow) in [
                ("/experiments/\(id)", HTTPRequest.Method.post, "GET, HEAD"), ("/", .put, "GET, HEAD"),
                ("/experiments/\(id)/rename", .get, "POST"), ("/experiments", .delete, "GET, HEAD, POST"),
                ("/experiments/\(id)/delete", .put, "GET, HEAD, POST"), ("/compare", .post, "GET, HEAD"),
            ] {
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(method) \(path)")
                #expect(Self.html(response).contains("405 Method Not Allowed"), "\(method) \(path)")
                #expect(Self.html(response).contains("does not take \(method.rawValue) requests"), "\(method) \(path)")
            }
            // The APIs keep MLflow's answer, which the client's fallbacks read.
            let api = try await client.execute(uri: "/api/2.0/mlflow/experiments/create", method: .get)
            #expect(api.status == .notFound)
            #expect(try Self.errorCode(api) == "ENDPOINT_NOT_FOUND")
            // A path no page has is still a 404.
            let unknown = try await client.execute(uri: "/no-such-page", method: .post)
            #expect(unknown.status == .notFound)
        }
    }

    @Test func theWrongMethodUnderAStaticPrefix() async throws {
        try await UIFixture.withApp(staticPrefix: "/sub") { client, _ in
            let response = try await client.execute(uri: "/sub/experiments/0/rename", method: .get)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "POST")
            #expect(Self.html(response).contains("/sub/static-files/cairn.css"))
            #expect(try await client.execute(uri: "/experiments/0/rename", method: .get).status == .notFound)
        }
    }

    @Test func theHeadPeekTellsALongRequestLineFromLongHeaders() {
        let peek = RequestHeadPeek()
        peek.observe(ByteBuffer(string: "\r\nGET /experiments/1?filter=" + String(repeating: "a", count: 5000)))
        peek.observe(ByteBuffer(string: String(repeating: "b", count: 5000)))
        #expect(peek.requestLineTooLong)
        #expect(peek.targetPath == "/experiments/1")
        peek.reset()
        peek.observe(ByteBuffer(string: "GET /health HTTP/1.1\r\nX-Request-ID: " + String(repeating: "a", count: 20_000)))
        #expect(!peek.requestLineTooLong)
        #expect(peek.targetPath == "/health")
        peek.reset()
        peek.observe(ByteBuffer(string: "GET /" + String(repeating: "p", count: 9000)))
        #expect(peek.requestLineTooLong)
        #expect(peek.targetPath == nil)
        peek.reset()
        peek.observe(ByteBuffer(string: "\u{1}\u{2} junk"))
        #expect(peek.targetPath == nil)
    }

    static func runWithArtifact(_ client: some TestClientProtocol, experiment: String) async throws -> String {
        let run = try json(try await client.post("/api/2.0/mlflow/runs/create", #"{"experiment_id": "\#(experiment)"}"#))
        guard case .object(let body) = run, case .object(let runObject)? = body["run"], case .object(let info)? = runObject["info"],
            case .string(let runID)? = info["run_id"], case .string(let uri)? = info["artifact_uri"]
        else { throw CairnError.invalidParameter("no run") }
        let path = String(uri.dropFirst("mlflow-artifacts:/".count))
        let put = try await client.execute(
            uri: "/api/2.0/mlflow-artifacts/artifacts/\(path)/sub/model.txt", method: .put, body: ByteBuffer(string: "weights"))
        #expect(put.status == .ok)
        return runID
    }

    @Test func purgeLeavesNoEmptyFoldersAndKeepsWhatOthersStore() async throws {
        try await UIFixture.withApp { client, root in
            let session = try await BrowserSession.start(client)
            let files = FileManager.default
            let purged = try await ExperimentPagesTests.createExperiment(client, "purged")
            let kept = try await ExperimentPagesTests.createExperiment(client, "kept")
            let purgedRun = try await Self.runWithArtifact(client, experiment: purged)
            let keptRun = try await Self.runWithArtifact(client, experiment: kept)
            // Two experiments sharing one location: purging one leaves the other's files and folder.
            var shared: [String] = []
            for name in ["shared-a", "shared-b"] {
                let created = try await client.post(
                    "/api/2.0/mlflow/experiments/create", #"{"name": "\#(name)", "artifact_location": "mlflow-artifacts:/shared"}"#)
                guard case .string(let id)? = try json(created)["experiment_id"] else { throw CairnError.invalidParameter("no id") }
                shared.append(id)
            }
            let sharedRuns = [
                try await Self.runWithArtifact(client, experiment: shared[0]),
                try await Self.runWithArtifact(client, experiment: shared[1]),
            ]
            #expect(files.fileExists(atPath: "\(root)/\(purged)/\(purgedRun)/artifacts/sub/model.txt"))
            #expect(files.fileExists(atPath: "\(root)/shared/\(sharedRuns[0])/artifacts/sub/model.txt"))

            for id in [purged, shared[0]] {
                #expect(try await session.post(client, "/experiments/\(id)/delete", []).status == .seeOther)
                let answer = try await session.post(client, "/experiments/\(id)/purge", [])
                #expect(answer.status == .seeOther)
                #expect(answer.headers[.location]?.contains("kept=") == false)
            }
            // Nothing of the purged experiment is left, not even empty folders.
            #expect(!files.fileExists(atPath: "\(root)/\(purged)"))
            #expect(!files.fileExists(atPath: "\(root)/shared/\(sharedRuns[0])"))
            // What other experiments store stays.
            #expect(files.fileExists(atPath: "\(root)/\(kept)/\(keptRun)/artifacts/sub/model.txt"))
            #expect(files.fileExists(atPath: "\(root)/shared/\(sharedRuns[1])/artifacts/sub/model.txt"))
        }
    }

    @Test func foldersLeftByAPurgeAreClimbedOnlyInsideTheExperiment() throws {
        typealias C = ExperimentPagesController<AppRequestContext>
        let run = try ArtifactPath("7/abc/artifacts")
        let model = try ArtifactPath("7/models/m-1/artifacts")
        let elsewhere = try ArtifactPath("team/proj/def/artifacts")
        let folders = C.foldersLeft(by: [run, model, elsewhere], experimentRoot: try ArtifactPath("7"))
        #expect(folders.map(\.description) == ["team/proj/def", "7/models/m-1", "7/models", "7/abc", "7"])
        #expect(C.foldersLeft(by: [run], experimentRoot: nil).map(\.description) == ["7/abc"])
        #expect(C.storedPath("s3://bucket/x") == nil)
        #expect(C.storedPath("mlflow-artifacts:/7/abc/artifacts")?.description == "7/abc/artifacts")
    }

    @Test func compareNamesAnUnknownMetricOrParamAndAsksForTwoRuns() async throws {
        try await UIFixture.withApp { client, _ in
            let batch = { (lr: String, acc: Double) in
                #""params":[{"key":"epochs","value":"10"},{"key":"lr","value":"\#(lr)"}],"metrics":[{"key":"acc","value":\#(acc),"timestamp":1,"step":0}]"#
            }
            let (_, first) = try await RunPagesTests.makeRun(client, name: "first", batch: batch("0.1", 0.8))
            let (_, second) = try await RunPagesTests.makeRun(client, name: "second", batch: batch("0.2", 0.9))

            for (query, text) in [
                ("metric=nope", "No metric &#39;nope&#39; in the compared runs. They logged: acc."),
                ("param=nope", "No param &#39;nope&#39; in the compared runs. They logged: epochs, lr."),
                ("metric=acc&param=%3Cb%3E", "No param &#39;&lt;b&gt;&#39;"),
            ] {
                let response = try await client.get("/compare?runs=\(first),\(second)&\(query)")
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(Self.html(response).contains(text), "\(query): \(Self.html(response))")
            }
            #expect(try await client.get("/compare?runs=\(first),\(second)&metric=&param=").status == .ok)

            // The scatter's default param is the first that differs (lr), not the first (epochs).
            let page = Self.html(try await client.get("/compare?runs=\(first),\(second)"))
            #expect(page.contains(#"aria-current="true">lr</a>"#))
            #expect(!page.contains(#"aria-current="true">epochs</a>"#))
            #expect(page.contains("lr against acc"))
            #expect(page.contains(#"aria-current="true">acc</a>"#))

            let empty = try await client.execute(
                uri: "/compare", method: .get, headers: [.referer: "http://127.0.0.1:5000/experiments/1?filter=a&view=all"])
            #expect(empty.status == .badRequest)
            #expect(Self.html(empty).contains("Select at least two runs to compare"))
            #expect(Self.html(empty).contains(#"<a class="button" href="/experiments/1?filter=a&amp;view=all">Back to the runs</a>"#))
            let one = Self.html(try await client.get("/compare?runs=\(first)"))
            #expect(one.contains("only one was selected"))
            #expect(one.contains(#"href="/experiments">Back to the runs</a>"#))
            for referer in ["javascript:alert(1)", "http://x//evil.example/", "http://x/compare?runs=a"] {
                let answer = try await client.execute(uri: "/compare", method: .get, headers: [.referer: referer])
                #expect(Self.html(answer).contains(#"href="/experiments">Back to the runs</a>"#), "\(referer)")
            }
        }
    }

    @Test func deletingAnAliasThatIsNotThereSaysSo() async throws {
        try await UIFixture.withApp { client, _ in
            let session = try await BrowserSession.start(client)
            #expect(try await client.post("/api/2.0/mlflow/registered-models/create", #"{"name": "churn"}"#).status == .ok)
            let created = try await client.post(
                "/api/2.0/mlflow/model-versions/create", #"{"name": "churn", "source": "s3://b/m"}"#)
            #expect(created.status == .ok)
            #expect(
                try await client.post("/api/2.0/mlflow/registered-models/alias", #"{"name": "churn", "alias": "champion", "version": "1"}"#)
                    .status == .ok)
            for path in ["/models/churn/alias/delete", "/models/churn/versions/1/alias/delete"] {
                let ghost = try await session.post(client, path, [("alias", "ghost")])
                #expect(ghost.status == .notFound, "\(path)")
                #expect(ghost.headers[.contentType] == "text/html; charset=utf-8")
                #expect(Self.html(ghost).contains("Model &#39;churn&#39; has no alias &#39;@ghost&#39;: nothing was deleted."), "\(path)")
            }
            // The alias that is there is deleted, as before.
            let deleted = try await session.post(client, "/models/churn/alias/delete", [("alias", "champion")])
            #expect(deleted.status == .seeOther)
            let model = String(buffer: try await client.get("/api/2.0/mlflow/registered-models/get?name=churn").body)
            #expect(!model.contains("champion"))
        }
    }
}
