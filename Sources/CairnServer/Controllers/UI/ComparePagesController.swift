import CairnCore
import CairnStore
import CairnUI
import Foundation
import HTTPTypes
import Hummingbird

/// `/compare?runs=A,B,…&metric=&param=&diff=1`: runs of any experiments side by side. Every
/// run named must exist: an unknown one is a 404 page that names it, not a column left out;
/// so must the metric and param asked for (400 naming them, with what the runs logged). Fewer
/// than two runs is a 400 page saying to select two, with a link back to where the user was.
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
        guard ids.count >= 2 else {
            let view = CompareSelectionView(
                selected: ids.count, backURL: ui.url(Self.backPath(request.headers[HTTPField.Name("Referer")!], prefix: ui.staticPrefix)))
            let chrome = ui.chrome(
                for: request, section: .experiments, breadcrumbs: [.init("Experiments", path: "/experiments"), .init("Compare runs")])
            return try ui.page(
                "compare_selection", title: "Select runs to compare", content: view, chrome: chrome, request: request, status: .badRequest)
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
        let metric = query.string("metric").flatMap { $0.isEmpty ? nil : $0 }
        let param = query.string("param").flatMap { $0.isEmpty ? nil : $0 }
        let keys = ComparePageView.keys(of: runs)
        if let metric, !keys.metrics.contains(metric) {
            throw CairnError.invalidParameter("No metric '\(metric)' in the compared runs. \(Self.logged("metrics", keys.metrics))")
        }
        if let param, !keys.params.contains(param) {
            throw CairnError.invalidParameter("No param '\(param)' in the compared runs. \(Self.logged("params", keys.params))")
        }
        let view = ComparePageView(
            prefix: ui.staticPrefix, runs: runs, metric: metric, param: param, onlyDifferences: query.string("diff") == "1")
        let chrome = ui.chrome(
            for: request, section: .experiments, breadcrumbs: [.init("Experiments", path: "/experiments"), .init("Compare runs")])
        return try ui.page("compare", title: "Compare \(runs.count) runs", content: view, chrome: chrome, request: request)
    }

    /// `They logged: a, b, c.` (the first 20), or that they logged none.
    static func logged(_ noun: String, _ keys: [String]) -> String {
        guard !keys.isEmpty else { return "They logged no \(noun)." }
        let shown = keys.prefix(20).joined(separator: ", ")
        return "They logged: \(shown)\(keys.count > 20 ? " and \(keys.count - 20) more" : "")."
    }

    /// Where "back" goes from an empty selection: the page the browser came from when it is one
    /// of this UI's (the runs table whose compare button was pressed), else the experiments.
    static func backPath(_ referer: String?, prefix: String) -> String {
        guard let referer, let url = URL(string: referer), url.scheme == "http" || url.scheme == "https" || url.scheme == nil else {
            return "/experiments"
        }
        let path = url.path
        guard prefix.isEmpty || path == prefix || path.hasPrefix(prefix + "/") else { return "/experiments" }
        let below = String(path.dropFirst(prefix.count))
        guard below.hasPrefix("/"), !below.hasPrefix("//"), !below.hasPrefix("/compare"), !below.contains(where: \.isNewline) else {
            return "/experiments"
        }
        return below + (url.query.map { "?" + $0 } ?? "")
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
