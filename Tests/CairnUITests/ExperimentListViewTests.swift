import CairnCore
import Testing

@testable import CairnUI

@Suite struct ExperimentListViewTests {
    typealias State = ExperimentListView.State

    static func state(_ fields: [String: String]) throws -> State {
        try State(query: { fields[$0] })
    }

    @Test func theStateRoundTripsThroughTheURL() throws {
        #expect(try Self.state([:]).path == "/experiments")
        let state = try Self.state(["q": "a b&c", "view": "deleted", "order": "-name", "size": "50", "page": "3"])
        #expect(state.view == .deleted && state.sort == .name && state.descending && state.pageSize == 50 && state.page == 3)
        #expect(state.path == "/experiments?q=a%20b%26c&view=deleted&order=-name&size=50&page=3")
        #expect(try Self.state(["order": "updated"]).path == "/experiments?order=updated")
    }

    @Test(arguments: [["view": "x"], ["order": "-"], ["order": "id"], ["page": "0"], ["page": "x"], ["page": "99999999"], ["size": "11"]])
    func aStateOutOfItsSetIsRefused(fields: [String: String]) {
        #expect(throws: CairnError.self) { try Self.state(fields) }
    }

    @Test func headersTabsRowsAndPages() throws {
        let state = try Self.state(["order": "name", "q": "x"])
        let experiments = [
            Experiment(
                experimentID: "0", name: "Default", artifactLocation: "", lifecycleStage: .active, creationTime: 0, lastUpdateTime: 0,
                tags: []),
            Experiment(
                experimentID: "7", name: "<b>x</b>", artifactLocation: "", lifecycleStage: .deleted, creationTime: 0,
                lastUpdateTime: 60_000,
                tags: []),
        ]
        let view = ExperimentListView(state: state, experiments: experiments, total: 60, now: 120_000, url: { "/sub" + $0 })
        #expect(
            view.headers.map(\.href) == ["/sub/experiments?q=x&order=-name", "/sub/experiments?q=x&order=-created", "/sub/experiments?q=x"])
        #expect(view.headers.map(\.sort) == ["ascending", nil, nil])
        #expect(
            view.tabs.map(\.href) == [
                "/sub/experiments?q=x&order=name", "/sub/experiments?q=x&view=deleted&order=name",
                "/sub/experiments?q=x&view=all&order=name",
            ])
        #expect(!view.rows[0].deletable && view.rows[1].deletable)
        #expect(view.rows[1].deleted && view.rows[1].updatedAgo == "1 minute ago")
        #expect(view.rows[1].purgeHref == "/sub/experiments/7/purge?back=%2Fexperiments%3Fq%3Dx%26order%3Dname")
        #expect(view.pager.pageCount == 3 && view.pager.nextHref == "/sub/experiments?q=x&order=name&page=2")
        #expect(view.emptyMessage == "No experiment's name contains “x”.")
    }

    @Test func theListPageEscapesNames() throws {
        let experiments = [
            Experiment(
                experimentID: "1", name: "<script>alert(1)</script>", artifactLocation: "", lifecycleStage: .active, creationTime: 0,
                lastUpdateTime: 0, tags: [])
        ]
        let view = ExperimentListView(
            state: State(), experiments: experiments, total: 1, now: 0, url: { $0 }, createName: "\"><i>", error: "<u>bad</u>")
        let html = try UIRenderer.standard.render(
            page: "experiments", title: "Experiments", content: view, chrome: PageChrome(csrfToken: "tok"))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<i>") && !html.contains("<u>"))
        #expect(html.contains(#"<a href="/experiments/1">&lt;script&gt;alert(1)&lt;/script&gt;</a>"#))
        #expect(html.contains(#"<div class="notice error" role="alert">&lt;u&gt;bad&lt;/u&gt;</div>"#))
        #expect(html.contains(#"name="csrf_token" value="tok""#))
    }
}
