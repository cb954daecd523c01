import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CairnServer

/// The runs table pages over the router: statuses, the filter error at its position, HTML
/// escaping of every user value, the CSV and the static prefix.
@Suite struct RunsTablePagesTests {
    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// A run named `name` with one param, one tag and a metric, through MLflow's API.
    static func logRun(
        _ client: some TestClientProtocol, experiment: String, name: String, param: String, tag: String, metric: Double, start: Int,
        prefix: String = ""
    ) async throws -> String {
        func quoted(_ text: String) -> String {
            var writer = JSONWriter()
            writer.string(text)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        let created = try await client.post(
            prefix + "/api/2.0/mlflow/runs/create",
            #"{"experiment_id": "\#(experiment)", "run_name": \#(quoted(name)), "start_time": \#(start)}"#)
        guard case .object(let run)? = try json(created)["run"], case .object(let info)? = run["info"],
            case .string(let id)? = info["run_id"]
        else { throw CairnError.invalidParameter("no run id") }
        let batch = try await client.post(
            prefix + "/api/2.0/mlflow/runs/log-batch",
            #"{"run_id": "\#(id)", "params": [{"key": "p", "value": \#(quoted(param))}], "tags": [{"key": "t", "value": \#(quoted(tag))}], "metrics": [{"key": "m", "value": \#(metric), "timestamp": 1, "step": 0}]}"#
        )
        #expect(batch.status == .ok)
        return id
    }

    @Test func thePageListsTheRunsWithTheirColumns() async throws {
        try await UIFixture.withApp { client, _ in
            let experiment = try await ExperimentPagesTests.createExperiment(client, "table")
            _ = try await Self.logRun(client, experiment: experiment, name: "first", param: "0.1", tag: "a", metric: 0.5, start: 1)
            _ = try await Self.logRun(client, experiment: experiment, name: "second", param: "0.2", tag: "b", metric: 0.25, start: 2)
            let page = try await client.execute(uri: "/experiments/\(experiment)", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[HTTPField.Name("Server-Timing")!]?.hasPrefix("db;dur=") == true)
            let text = Self.html(page)
            #expect(text.contains(">second</a>") && text.contains(">first</a>"))
            // A long name is cut by the stylesheet and stays whole in the title; the sort links draw
            // their own arrow (the stylesheet's is for links without one).
            #expect(text.contains(#"<a class="run-name" href="/experiments/\#(experiment)/runs/"#))
            #expect(text.contains(#"" title="first">first</a>"#))
            #expect(text.contains(#"<a class="has-arrow" href="#))
            #expect(!text.contains(#"<th scope="col" class="attribute" aria-sort="descending"><a href="#))
            // Newest first, and the default columns are the metrics and params the runs logged.
            #expect(text.range(of: ">second</a>")!.lowerBound < text.range(of: ">first</a>")!.lowerBound)
            #expect(text.contains("<span class=\"muted small\">metric</span> m"))
            #expect(text.contains("<span class=\"muted small\">param</span> p"))
            #expect(text.contains(#"action="/compare""#))
            #expect(text.contains(#"href="/experiments/\#(experiment)/runs.csv""#))
            let runs = try await client.execute(uri: "/experiments/\(experiment)/runs?order=metrics.%60m%60+ASC", method: .get)
            #expect(runs.status == .ok)
            let sorted = Self.html(runs)
            #expect(sorted.range(of: ">second</a>")!.lowerBound < sorted.range(of: ">first</a>")!.lowerBound)
            #expect(sorted.contains(#"aria-sort="ascending""#))
        }
    }

    @Test func aBadFilterIsA400PageWithTheCaretAndTheFormKept() async throws {
        try await UIFixture.withApp { client, _ in
            let experiment = try await ExperimentPagesTests.createExperiment(client, "bad filter")
            let filter = "params.p = 'x' OR tags.t = 'y'"
            let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let page = try await client.execute(uri: "/experiments/\(experiment)?filter=\(encoded)", method: .get)
            #expect(page.status == .badRequest)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let text = Self.html(page)
            #expect(
                text.contains("Invalid clause(s) in filter string: &#39;OR&#39;")
                    || text.contains("Invalid clause(s) in filter string: 'OR'"))
            // The caret line: as many spaces as characters before OR.
            #expect(text.contains("\n" + String(repeating: " ", count: 15) + "^</code></pre>"))
            #expect(text.contains(#"name="filter""#))
            #expect(text.contains("aria-invalid=\"true\""))
            // A value the grammar accepts but the column refuses: 400 too, not a 500.
            let numeric = try await client.execute(
                uri: "/experiments/\(experiment)?filter=attributes.start_time+%3E+%27soon%27", method: .get)
            #expect(numeric.status == .badRequest)
            let csv = try await client.execute(uri: "/experiments/\(experiment)/runs.csv?filter=\(encoded)", method: .get)
            #expect(csv.status == .badRequest)
        }
    }

    @Test func unknownOrMalformedExperimentsAreHTMLErrors() async throws {
        try await UIFixture.withApp { client, _ in
            let missing = try await client.execute(uri: "/experiments/424242", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Self.html(missing).contains("No Experiment with id=424242 exists"))
            #expect(try await client.execute(uri: "/experiments/abc/runs", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/runs", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/runs?experiments=0,424242", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/experiments/424242/runs.csv", method: .get).status == .notFound)
            // Nonsense state is a 400 page naming it (HostileInputTests has each field); a bad
            // order alone is shown as a warning over the default order.
            #expect(
                try await client.execute(uri: "/experiments/0?page=-1&size=9&agg=x&view=y&order=nope+nope", method: .get).status
                    == .badRequest)
            #expect(try await client.execute(uri: "/experiments/0?order=nope+nope", method: .get).status == .ok)
        }
    }

    @Test func scriptInNamesParamsAndTagsComesBackInert() async throws {
        try await UIFixture.withApp { client, _ in
            let experiment = try await ExperimentPagesTests.createExperiment(client, "<script>alert('e')</script>")
            _ = try await Self.logRun(
                client, experiment: experiment, name: "<script>alert('n')</script>", param: "<script>alert('p')</script>",
                tag: "\"><img src=x onerror=alert('t')>", metric: 1, start: 1)
            let text = Self.html(try await client.execute(uri: "/experiments/\(experiment)?cols=params.p,tags.t", method: .get))
            #expect(!text.contains("<script>alert"))
            #expect(!text.contains("<img src=x"))
            #expect(text.contains("&lt;script&gt;alert"))
            let several = Self.html(try await client.execute(uri: "/runs?experiments=0,\(experiment)&picker=1", method: .get))
            #expect(!several.contains("<script>alert") && several.contains("&lt;script&gt;alert"))
        }
    }

    @Test func csvStreamsTheViewWithQuotedFields() async throws {
        try await UIFixture.withApp { client, _ in
            let experiment = try await ExperimentPagesTests.createExperiment(client, "csv")
            let id = try await Self.logRun(
                client, experiment: experiment, name: "a, \"b\"", param: "=1+2", tag: "x\ny", metric: 2, start: 1)
            let csv = try await client.execute(
                uri: "/experiments/\(experiment)/runs.csv?cols=params.p,tags.t,metrics.m&agg=max", method: .get)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition]?.contains("attachment") == true)
            let lines = String(buffer: csv.body).components(separatedBy: "\r\n")
            #expect(lines[0].hasSuffix("params.p,tags.t,metrics.m (max)"))
            #expect(lines[1].hasPrefix("\(id),\(experiment),\"a, \"\"b\"\"\","))
            #expect(lines[1].hasSuffix(",'=1+2,\"x\ny\",2.0"))
        }
    }

    @Test func linksStayUnderTheStaticPrefix() async throws {
        try await UIFixture.withApp(staticPrefix: "/sub") { client, _ in
            let experiment = try await ExperimentPagesTests.createExperiment(client, "prefixed", prefix: "/sub")
            let id = try await Self.logRun(
                client, experiment: experiment, name: "r", param: "1", tag: "t", metric: 1, start: 1, prefix: "/sub")
            let page = try await client.execute(uri: "/sub/experiments/\(experiment)", method: .get)
            #expect(page.status == .ok)
            let text = Self.html(page)
            #expect(text.contains(#"href="/sub/experiments/\#(experiment)/runs/\#(id)""#))
            #expect(text.contains(#"action="/sub/compare""#))
            #expect(text.contains(#"href="/sub/experiments/\#(experiment)/runs.csv""#))
            #expect(try await client.execute(uri: "/experiments/\(experiment)", method: .get).status == .notFound)
        }
    }
}
