import CairnCore
import CairnStore
import CairnUI
import Foundation
import Hummingbird

/// `/compare?runs=A,B,…&metric=&param=&diff=1`: runs of any experiments side by side. Every
/// run named must exist: an unknown one is a 404 page that names it, not a column left out.
struct ComparePagesController: Sendable {
    let ui: UIPages
    let store: any TrackingStore

    /// Most runs one page compares: past it the tables are wider than any screen, and the
    /// runs table's selection is the better tool.
    static let maximumRuns = 100

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("compare", use: page)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = PageForm.query(of: request)
        let ids = Self.runIDs(query.fields["runs"] ?? [])
        guard !ids.isEmpty else {
            throw CairnError.invalidParameter("Name the runs to compare: /compare?runs=RUN_ID,RUN_ID")
        }
        guard ids.count <= Self.maximumRuns else {
            throw CairnError.invalidParameter("At most \(Self.maximumRuns) runs can be compared at once; \(ids.count) were named.")
        }
        var runs: [Run] = []
        for id in ids {
            do {
                runs.append(try await store.getRun(id: id))
            } catch let error as CairnError where error.code == .resourceDoesNotExist {
                throw CairnError.notFound("No run '\(id)' to compare: it does not exist.")
            }
        }
        let view = ComparePageView(
            prefix: ui.staticPrefix, runs: runs, metric: query.string("metric"), param: query.string("param"),
            onlyDifferences: query.string("diff") == "1")
        let chrome = ui.chrome(
            for: request, section: .experiments, breadcrumbs: [.init("Experiments", path: "/experiments"), .init("Compare runs")])
        return try ui.page("compare", title: "Compare \(runs.count) runs", content: view, chrome: chrome, request: request)
    }

    /// The ids of every `runs` value, each value comma-separated (`runs=A,B`, or `runs=A&runs=B`
    /// as the runs table's checkboxes send them), trimmed, without blanks or repeats, in the order given.
    static func runIDs(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        var ids: [String] = []
        for part in values.flatMap({ $0.split(separator: ",") }) {
            let id = part.trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, seen.insert(id).inserted else { continue }
            ids.append(id)
        }
        return ids
    }
}
