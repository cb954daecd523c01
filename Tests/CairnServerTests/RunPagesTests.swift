import CairnArtifacts
import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CairnServer

/// The run page, its artifacts tab, downloads and forms, and the compare page, through the
/// router as the server mounts them, against SQLite and a local artifact repository.
@Suite final class RunPagesTests: Sendable {
    let base: String

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-run-pages-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/artifacts", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let repository = try LocalArtifactRepository(rootDirectory: base + "/artifacts", configuration: .init(durableWrites: false))
        try await APIFixture.withApp(artifacts: repository, body)
    }

    static let api = "/api/2.0/mlflow"
    static let token = "0123456789abcdef0123456789abcdef"

    /// A run in a new experiment, with what `log` adds; returns (experiment id, run id).
    static func makeRun(
        _ client: any TestClientProtocol, experiment: String = "exp", name: String = "run-a", batch: String? = nil
    ) async throws -> (String, String) {
        var experimentID = ""
        let created = try json(try await client.post("\(Self.api)/experiments/create", #"{"name":"\#(experiment)"}"#))
        if case .string(let id)? = created["experiment_id"] {
            experimentID = id
        } else {
            let found = try json(try await client.get("\(Self.api)/experiments/get-by-name?experiment_name=\(experiment)"))
            guard case .string(let id)? = found["experiment"]?["experiment_id"] else { throw CairnError.notFound(experiment) }
            experimentID = id
        }
        let run = try json(
            try await client.post(
                "\(Self.api)/runs/create", #"{"experiment_id":"\#(experimentID)","run_name":"\#(name)","start_time":1700000000000}"#))
        guard case .string(let runID)? = run["run"]?["info"]?["run_id"] else { throw CairnError.notFound("run") }
        if let batch {
            let logged = try await client.post("\(Self.api)/runs/log-batch", #"{"run_id":"\#(runID)",\#(batch)}"#)
            #expect(logged.status == .ok)
        }
        return (experimentID, runID)
    }

    static func upload(_ client: any TestClientProtocol, _ experimentID: String, _ runID: String, _ path: String, _ bytes: [UInt8])
        async throws
    {
        let put = try await client.execute(
            uri: "/api/2.0/mlflow-artifacts/artifacts/\(experimentID)/\(runID)/artifacts/\(path)", method: .put,
            body: ByteBuffer(bytes: bytes))
        #expect(put.status == .ok)
    }

    static func form(_ client: any TestClientProtocol, _ path: String, _ fields: String, token: String? = RunPagesTests.token) async throws
        -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "cairn_csrf=\(Self.token)"]
        if token == nil { headers[.cookie] = nil }
        let body = token.map { "csrf_token=\($0)&" + fields } ?? fields
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    // MARK: - Run page

    @Test func overviewShowsWhatTheRunLogged() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(
                client,
                batch: #"""
                    "params":[{"key":"alpha","value":"0.5"}],
                    "metrics":[{"key":"loss","value":3,"timestamp":1,"step":0},{"key":"loss","value":1,"timestamp":2,"step":1},{"key":"loss","value":2,"timestamp":3,"step":2}],
                    "tags":[{"key":"team","value":"vision"},{"key":"mlflow.source.git.commit","value":"abc123"},{"key":"mlflow.user","value":"ada"},{"key":"mlflow.note.content","value":"A **good** run"}]
                    """#)
            let child = try await Self.makeRun(
                client, name: "child-run", batch: #""tags":[{"key":"mlflow.parentRunId","value":"\#(runID)"}]"#
            ).1
            let response = try await client.get("/experiments/\(experimentID)/runs/\(runID)")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let page = Self.html(response)
            #expect(page.contains("run-a"))
            #expect(page.contains("alpha") && page.contains("0.5"))
            #expect(page.contains("abc123"))
            #expect(page.contains("ada"))
            #expect(page.contains("vision"))
            #expect(page.contains("A <strong>good</strong> run"))
            // loss: last 2, min 1, max 3, three points, and its chart from the chart route.
            #expect(
                page.contains(
                    #"<td class="num" title="2.0">2</td><td class="num">2</td><td class="num">1</td><td class="num">3</td><td class="num">3</td>"#
                ))
            #expect(page.contains("/charts/metric.svg?runs=\(runID)&amp;key=loss&amp;width=300&amp;height=120"))
            // The chart the page embeds is one the chart route draws.
            let chart = try await client.get("/charts/metric.svg?runs=\(runID)&key=loss&width=300&height=120")
            #expect(chart.status == .ok)
            #expect(chart.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
            #expect(page.contains("/experiments/\(experimentID)/runs/\(child)\">child-run</a>"))
            let childPage = Self.html(try await client.get("/experiments/\(experimentID)/runs/\(child)"))
            #expect(childPage.contains("/experiments/\(experimentID)/runs/\(runID)\">run-a</a>"))
        }
    }

    @Test func unknownRunsAndTabsAreClearErrorPages() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let missing = try await client.get("/experiments/\(experimentID)/runs/0123456789abcdef0123456789abcdef")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Self.html(missing).contains("0123456789abcdef0123456789abcdef"))
            let badID = try await client.get("/experiments/\(experimentID)/runs/%3Cscript%3E")
            #expect(badID.status == .badRequest)
            #expect(!Self.html(badID).contains("<script>"))
            #expect(try await client.get("/experiments/\(experimentID)/runs/\(runID)?tab=nope").status == .badRequest)
        }
    }

    @Test func aRunUnderAnotherExperimentRedirectsToItsOwn() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let other = try await Self.makeRun(client, experiment: "other").0
            let response = try await client.get("/experiments/\(other)/runs/\(runID)?tab=artifacts&path=a")
            #expect(response.status == .found)
            #expect(response.headers[.location] == "/experiments/\(experimentID)/runs/\(runID)?tab=artifacts&path=a")
        }
    }

    @Test func userTextIsInert() async throws {
        try await withApp { client in
            let script = #"<script>alert(1)</script>"#
            let escaped = #"\u003cscript\u003ealert(1)\u003c/script\u003e"#
            let (experimentID, runID) = try await Self.makeRun(
                client, name: "x\(escaped)",
                batch: #"""
                    "params":[{"key":"p","value":"v\#(escaped)"}],
                    "tags":[{"key":"t","value":"\"><img src=x onerror=alert(2)>"},{"key":"mlflow.note.content","value":"\#(escaped) <img src=x onerror=alert(3)> [x](javascript:alert(4))"}]
                    """#)
            let page = Self.html(try await client.get("/experiments/\(experimentID)/runs/\(runID)"))
            #expect(!page.contains(script))
            #expect(!page.contains("<img src=x"))
            #expect(!page.contains("href=\"javascript"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        }
    }

    // MARK: - Forms

    @Test func headForAPageAnswersAsItsGetWithoutABody() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            for path in ["/", "/experiments/\(experimentID)", "/experiments/\(experimentID)/runs/\(runID)"] {
                let get = try await client.execute(uri: path, method: .get)
                let head = try await client.execute(uri: path, method: .head)
                #expect(get.status == .ok, "\(path)")
                #expect(head.status == .ok, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType])
                #expect(head.body.readableBytes == 0)
            }
            let missing = try await client.execute(uri: "/experiments/999999", method: .head)
            #expect(missing.status == .notFound)
            #expect(missing.body.readableBytes == 0)
            // An API GET route too, as MLflow's Flask routes answer HEAD.
            let api = try await client.execute(uri: "\(Self.api)/experiments/get?experiment_id=\(experimentID)", method: .head)
            #expect(api.status == .ok)
            #expect(api.body.readableBytes == 0)
        }
    }

    @Test func descriptionFromTheFormIsStoredWithLFLineEndings() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let page = "/experiments/\(experimentID)/runs/\(runID)"
            // What a browser submits for a textarea: CRLF line endings.
            let described = try await Self.form(client, "\(page)/description", "value=%23+Notes%0D%0A%60%60%60%0D%0Ax%0D%0A%60%60%60")
            #expect(described.status == .seeOther)
            let run = try json(try await client.get("\(Self.api)/runs/get?run_id=\(runID)"))
            guard case .array(let tags)? = run["run"]?["data"]?["tags"] else {
                Issue.record("the run has no tags")
                return
            }
            let note = tags.first { $0["key"] == .string("mlflow.note.content") }?["value"]
            #expect(note == .string("# Notes\n```\nx\n```"))
        }
    }

    @Test func tagsAndDescriptionAreEditedThroughCSRFCheckedForms() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let page = "/experiments/\(experimentID)/runs/\(runID)"
            let set = try await Self.form(client, "\(page)/tags/set", "key=stage&value=gold+%26+co")
            #expect(set.status == .seeOther)
            #expect(set.headers[.location] == page)
            #expect(Self.html(try await client.get(page)).contains("gold &amp; co"))

            let described = try await Self.form(client, "\(page)/description", "value=%23+Notes%0A%0Aall+*fine*")
            #expect(described.status == .seeOther)
            #expect(Self.html(try await client.get(page)).contains("<em>fine</em>"))

            #expect(try await Self.form(client, "\(page)/tags/delete", "key=stage").status == .seeOther)
            let run = try json(try await client.get("\(Self.api)/runs/get?run_id=\(runID)"))
            let tags = run["run"]?["data"]?["tags"]
            #expect(tags.map { "\($0)" }?.contains("stage") == false)

            // No token, or the wrong one: refused, nothing changed.
            #expect(try await Self.form(client, "\(page)/tags/set", "key=a&value=b", token: nil).status == .forbidden)
            #expect(
                try await Self.form(client, "\(page)/tags/set", "key=a&value=b", token: "ffffffffffffffffffffffffffffffff").status
                    == .forbidden)
            // The store's validation, as the API's: the page again with the message and a 400.
            let tooLong = try await Self.form(client, "\(page)/tags/set", "key=\(String(repeating: "k", count: 300))&value=b")
            #expect(tooLong.status == .badRequest)
            #expect(Self.html(tooLong).contains("role=\"alert\""))
            let unchanged = try json(try await client.get("\(Self.api)/runs/get?run_id=\(runID)"))
            #expect(unchanged["run"]?["data"]?["tags"].map { "\($0)" }?.contains("\"a\"") == false)
        }
    }

    // MARK: - Artifacts

    @Test func artifactsTreeAndPreviews() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            try await Self.upload(client, experimentID, runID, "notes.txt", Array("hello <b>world</b>".utf8))
            try await Self.upload(client, experimentID, runID, "data/table.csv", Array("a,b\n1,<i>x</i>\n2,y\n".utf8))
            try await Self.upload(client, experimentID, runID, "data/config.json", Array(#"{"lr":0.1,"layers":[1,2]}"#.utf8))
            try await Self.upload(client, experimentID, runID, "blob.bin", [0x00, 0x01, 0x02, 0xFF, 0x41])
            try await Self.upload(client, experimentID, runID, "plot.png", [0x89, 0x50, 0x4E, 0x47])
            let page = "/experiments/\(experimentID)/runs/\(runID)"

            let root = Self.html(try await client.get("\(page)?tab=artifacts"))
            #expect(root.contains("?tab=artifacts&amp;path=data\">data/</a>"))
            #expect(root.contains("notes.txt"))

            let text = Self.html(try await client.get("\(page)?tab=artifacts&path=notes.txt"))
            #expect(text.contains("hello &lt;b&gt;world&lt;/b&gt;"))
            #expect(text.contains("\(page)/artifacts/download?path=notes.txt"))

            let csv = Self.html(try await client.get("\(page)?tab=artifacts&path=data/table.csv"))
            let header = "<th scope=\"col\" class=\"verbatim\">"
            #expect(csv.contains("\(header)a</th>\(header)b</th>"))
            #expect(csv.contains("<td>&lt;i&gt;x&lt;/i&gt;</td>"))

            let config = Self.html(try await client.get("\(page)?tab=artifacts&path=data%2Fconfig.json"))
            #expect(config.contains("&quot;layers&quot;: [\n    1,\n    2\n  ]"))

            let binary = try await client.get("\(page)?tab=artifacts&path=blob.bin")
            #expect(binary.status == .ok)
            #expect(Self.html(binary).contains("Binary file"))
            #expect(!Self.html(binary).contains("artifact-text"))

            let image = Self.html(try await client.get("\(page)?tab=artifacts&path=plot.png"))
            #expect(image.contains("<img class=\"fit\" src=\"\(page)/artifacts/download?path=plot.png\""))

            #expect(try await client.get("\(page)?tab=artifacts&path=missing.txt").status == .notFound)
        }
    }

    @Test func aHugeArtifactIsNotPreviewedButDownloadsWhole() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let bytes = (0..<(Int(1 << 20) + 4096)).map { UInt8(ascii: "a") &+ UInt8($0 % 26) }
            try await Self.upload(client, experimentID, runID, "big.log", bytes)
            let page = "/experiments/\(experimentID)/runs/\(runID)"
            let preview = Self.html(try await client.get("\(page)?tab=artifacts&path=big.log"))
            #expect(preview.contains("too large to preview"))
            #expect(!preview.contains("abcdefghijklmnopqrstuvwxyzabcdefghij"))
            let download = try await client.get("\(page)/artifacts/download?path=big.log")
            #expect(download.status == .ok)
            #expect(Array(download.body.readableBytesView) == bytes)
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"big.log\"")
            #expect(download.headers[.contentType] == "text/plain")
            #expect(download.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test func pathsOutsideTheRunAreRefused() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(client)
            let (_, otherRun) = try await Self.makeRun(client, name: "other")
            try await Self.upload(client, experimentID, otherRun, "secret.txt", Array("secret".utf8))
            let page = "/experiments/\(experimentID)/runs/\(runID)"
            for path in ["..", "../\(otherRun)/artifacts/secret.txt", "a/../../x", "%2e%2e/x", "/etc/passwd", "..%2F..%2Fx"] {
                let tab = try await client.get("\(page)?tab=artifacts&path=\(path)")
                #expect(tab.status == .badRequest, "\(path)")
                #expect(tab.headers[.contentType] == "text/html; charset=utf-8")
                let download = try await client.get("\(page)/artifacts/download?path=\(path)")
                #expect(download.status == .badRequest, "\(path)")
                #expect(!String(buffer: download.body).contains("secret"))
            }
        }
    }

    // MARK: - Compare

    @Test func compareShowsDifferencesAndNamesUnknownRuns() async throws {
        try await withApp { client in
            let (_, first) = try await Self.makeRun(
                client, name: "first",
                batch:
                    #""params":[{"key":"lr","value":"0.1"},{"key":"depth","value":"3"}],"metrics":[{"key":"acc","value":0.8,"timestamp":1,"step":0}]"#
            )
            let (_, second) = try await Self.makeRun(
                client, experiment: "other", name: "second",
                batch:
                    #""params":[{"key":"lr","value":"0.2"},{"key":"depth","value":"3"}],"metrics":[{"key":"acc","value":0.9,"timestamp":1,"step":0}]"#
            )
            let response = try await client.get("/compare?runs=\(first),\(second)&param=lr&metric=acc")
            #expect(response.status == .ok)
            let page = Self.html(response)
            #expect(page.contains("first") && page.contains("second"))
            #expect(
                page.contains(
                    "<tr class=\"differs\"><td class=\"mono\"><a href=\"/compare?runs=\(first),\(second)&amp;metric=acc&amp;param=lr\" aria-current=\"true\">lr</a>"
                ))
            #expect(
                page.contains(
                    "<tr><td class=\"mono\"><a href=\"/compare?runs=\(first),\(second)&amp;metric=acc&amp;param=depth\">depth</a>"))
            #expect(page.contains("/charts/metric.svg?runs=\(first),\(second)&amp;key=acc"))
            #expect(page.contains("<td>0.2</td><td class=\"num\">0.9</td>"))

            // Both plots are drawn, inline SVG.
            #expect(page.components(separatedBy: "<svg").count == 3)

            let only = Self.html(try await client.get("/compare?runs=\(first),\(second)&diff=1"))
            #expect(!only.contains(">depth</a>"))

            // Names and values the runs were logged with stay text in the tables and the plots.
            let (_, hostile) = try await Self.makeRun(
                client, name: "x\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
                batch:
                    #""params":[{"key":"lr","value":"\u003cscript\u003ealert(2)\u003c/script\u003e"}],"metrics":[{"key":"acc","value":0.5,"timestamp":1,"step":0}]"#
            )
            let inert = Self.html(try await client.get("/compare?runs=\(first),\(hostile)&param=lr&metric=acc"))
            #expect(inert.contains("<svg"))
            #expect(!inert.contains("<script>"))
            #expect(inert.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))

            let unknown = try await client.get("/compare?runs=\(first),fedcba9876543210fedcba9876543210")
            #expect(unknown.status == .notFound)
            #expect(Self.html(unknown).contains("fedcba9876543210fedcba9876543210"))
            #expect(try await client.get("/compare").status == .badRequest)
        }
    }

    /// The runs table's compare form sends one `runs` per checked box; a shared link names them
    /// comma-separated. Both, and a mix, name the same runs once each in the order given.
    @Test func compareTakesRepeatedAndCommaSeparatedRuns() async throws {
        try await withApp { client in
            let (_, first) = try await Self.makeRun(client, name: "first", batch: #""params":[{"key":"lr","value":"0.1"}]"#)
            let (_, second) = try await Self.makeRun(client, name: "second", batch: #""params":[{"key":"lr","value":"0.2"}]"#)
            let (_, third) = try await Self.makeRun(client, name: "third", batch: #""params":[{"key":"lr","value":"0.3"}]"#)
            for query in ["runs=\(first)&runs=\(second)&runs=\(third)", "runs=\(first),\(second)&runs=\(third)&runs=\(first)"] {
                let response = try await client.get("/compare?\(query)")
                #expect(response.status == .ok)
                let page = Self.html(response)
                #expect(page.contains("Compare 3 runs"))
                #expect(page.contains("/compare?runs=\(first),\(second),\(third)&amp;"))
            }
        }
    }

    /// The parallel-coordinates plot is of the params that tell the runs apart: one equal in
    /// every run is an axis that says nothing.
    @Test func parallelCoordinatesLeaveOutParamsEqualInEveryRun() async throws {
        try await withApp { client in
            let batch = { (lr: String) in
                #""params":[{"key":"lr","value":"\#(lr)"},{"key":"epochs","value":"10"}],"metrics":[{"key":"acc","value":0.8,"timestamp":1,"step":0}]"#
            }
            let (_, first) = try await Self.makeRun(client, name: "first", batch: batch("0.1"))
            let (_, second) = try await Self.makeRun(client, name: "second", batch: batch("0.2"))
            let page = Self.html(try await client.get("/compare?runs=\(first),\(second)&metric=acc"))
            let parallel = try #require(
                page.components(separatedBy: "<svg").dropFirst().first { $0.contains("parallel") }?.components(separatedBy: "</svg>").first)
            #expect(parallel.contains(">lr<"))
            #expect(!parallel.contains("epochs"))
        }
    }

    /// Each metric's small chart on the run page is a link to the large chart, where it zooms.
    @Test func aMetricsSmallChartLinksToTheZoomableChart() async throws {
        try await withApp { client in
            let (experimentID, runID) = try await Self.makeRun(
                client,
                batch: #""metrics":[{"key":"loss","value":0.5,"timestamp":1,"step":0},{"key":"loss","value":0.4,"timestamp":2,"step":1}]"#)
            let page = Self.html(try await client.get("/experiments/\(experimentID)/runs/\(runID)"))
            #expect(
                page.contains(
                    "<a href=\"/charts/metric.svg?runs=\(runID)&amp;key=loss&amp;width=640&amp;height=240\" title=\"Open the chart to zoom\"><img src=\"/charts/metric.svg?runs=\(runID)&amp;key=loss&amp;width=300&amp;height=120\""
                ))
        }
    }
}
