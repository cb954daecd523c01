import CairnCore
import CairnStore
import CairnUI
import HTTPTypes
import Hummingbird
import NIOCore

/// The runs table: `/experiments/{id}` (also `/experiments/{id}/runs`), several experiments
/// at `/runs?experiments=1,2`, and the CSV of the same view at `…/runs.csv`.
///
/// A filter that does not parse still gets the page (status 400) with the form holding the
/// filter and the error drawn under it, so it can be fixed in place. Every response carries
/// `Server-Timing` (store and render time), which bench/ui/runs-table reads.
struct RunsTablePagesController<Context: CairnRequestContext>: Sendable {
    let store: any TrackingStore
    let ui: UIPages
    let now: WallClock

    /// Experiments one `/runs` page may show at once.
    static var maxExperiments: Int { 100 }
    /// Top-level runs per statement while streaming a CSV.
    static var csvChunk: Int { 2_000 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("experiments/:experiment_id", use: experimentPage)
        group.get("experiments/:experiment_id/runs", use: experimentPage)
        group.get("experiments/:experiment_id/runs.csv", use: experimentCSV)
        group.get("runs", use: severalPage)
        group.get("runs.csv", use: severalCSV)
    }

    @Sendable func experimentPage(_ request: Request, context: Context) async throws -> Response {
        try await page(request, experimentIDs: [try context.parameters.require("experiment_id")], single: true)
    }

    @Sendable func severalPage(_ request: Request, context: Context) async throws -> Response {
        try await page(request, experimentIDs: try Self.experimentList(request), single: false)
    }

    @Sendable func experimentCSV(_ request: Request, context: Context) async throws -> Response {
        try await csv(request, experimentIDs: [try context.parameters.require("experiment_id")])
    }

    @Sendable func severalCSV(_ request: Request, context: Context) async throws -> Response {
        try await csv(request, experimentIDs: try Self.experimentList(request))
    }

    /// The state of the URL, the experiments it names (each must exist) and the parsed order.
    struct Resolved {
        var state: RunsTableState
        var experiments: [Experiment]
        var filter: Result<SearchFilter, SearchGrammarError>
        var order: OrderByClause?
        var orderError: String?

        func query(limit: Int, offset: Int, nested: Bool, columns: [RunColumn]?, counts: Bool = true) -> RunTableQuery? {
            guard case .success(let filter) = filter else { return nil }
            return RunTableQuery(
                experimentIDs: experiments.map(\.experimentID), filter: filter, order: order, viewType: state.view, columns: columns,
                aggregate: state.aggregate, offset: offset, limit: limit, nested: nested, counts: counts)
        }
    }

    func resolve(_ request: Request, experimentIDs: [String]) async throws -> Resolved {
        let fields = PageForm.query(of: request).fields
        let state = try RunsTableState(experimentIDs: experimentIDs) { fields[$0] ?? [] }
        var experiments: [Experiment] = []
        for id in experimentIDs { experiments.append(try await store.getExperiment(id: id)) }
        let filter: Result<SearchFilter, SearchGrammarError>
        do {
            filter = .success(try SearchFilter.parse(state.filter, for: .runs))
        } catch {
            filter = .failure(error)
        }
        var order: OrderByClause?
        var orderError: String?
        if !state.order.isEmpty {
            do throws(SearchGrammarError) {
                let clause = try OrderByClause.parse(state.order, for: .runs)
                if clause.entity == .dataset { throw SearchGrammarError(.invalidEntity, "Runs cannot be ordered by a dataset field.") }
                order = clause
            } catch {
                orderError = "Invalid order '\(state.order)': \(error.message)"
            }
        }
        return Resolved(state: state, experiments: experiments, filter: filter, order: order, orderError: orderError)
    }

    func page(_ request: Request, experimentIDs: [String], single: Bool) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        let resolved = try await resolve(request, experimentIDs: experimentIDs)
        let state = resolved.state
        var filterError: SearchGrammarError?
        if case .failure(let error) = resolved.filter { filterError = error }
        var table: RunTablePage?
        if let query = resolved.query(
            limit: state.pageSize, offset: (state.page - 1) * state.pageSize, nested: state.nested, columns: state.columns)
        {
            do {
                table = try await store.runTable(query)
            } catch let error as CairnError where error.code == .invalidParameterValue {
                // What the grammar accepts but the store refuses (a string for a numeric
                // attribute): reported like a parse error, without a position.
                filterError = SearchGrammarError(.invalidValue, error.message)
            }
        }
        let keys =
            state.picker
            ? try await store.runColumnKeys(experimentIDs: experimentIDs, viewType: state.view, limit: 2_000) : nil
        let queried = clock.now
        let view = RunsTableView.make(
            state: state, order: resolved.order, page: table,
            experiments: resolved.experiments.map { (id: $0.experimentID, name: $0.name) }, keys: keys, filterError: filterError,
            orderError: resolved.orderError, paths: RunsTablePaths(prefix: ui.staticPrefix, single: single), now: now())
        let chrome = ui.chrome(for: request, section: .experiments, breadcrumbs: breadcrumbs(resolved, single: single))
        var response = try ui.page(
            "runs-table", title: view.title, content: view, chrome: chrome, request: request,
            status: filterError != nil ? .badRequest : view.pageError != nil ? .notFound : .ok)
        response.headers[HTTPField.Name("Server-Timing")!] =
            "db;dur=\(Self.milliseconds(queried - started)), render;dur=\(Self.milliseconds(clock.now - queried))"
        return response
    }

    func breadcrumbs(_ resolved: Resolved, single: Bool) -> [PageChrome.Breadcrumb] {
        guard single, let experiment = resolved.experiments.first else {
            return [PageChrome.Breadcrumb("Experiments", path: "/experiments"), PageChrome.Breadcrumb("Runs")]
        }
        return [PageChrome.Breadcrumb("Experiments", path: "/experiments"), PageChrome.Breadcrumb(experiment.name)]
    }

    /// Every run of the view, flat in its order with each run's parent, in chunks: the first
    /// chunk is read before the response starts, so a bad filter or experiment is still a 4xx.
    func csv(_ request: Request, experimentIDs: [String]) async throws -> Response {
        let resolved = try await resolve(request, experimentIDs: experimentIDs)
        if case .failure(let error) = resolved.filter { throw error.cairnError }
        if let orderError = resolved.orderError { throw CairnError.invalidParameter(orderError) }
        let state = resolved.state
        guard let firstQuery = resolved.query(limit: Self.csvChunk, offset: 0, nested: false, columns: state.columns, counts: false) else {
            throw CairnError.invalidParameter("Invalid filter")
        }
        let first = try await store.runTable(firstQuery)
        // Without chosen columns the first chunk's defaults hold for the whole file.
        let columns = first.columns
        let store = self.store
        let body = ResponseBody { writer in
            var chunk = first
            var offset = 0
            var text = RunsTableCSV.header(columns, aggregate: state.aggregate)
            while true {
                for row in chunk.rows { text += RunsTableCSV.row(row, columns: columns) }
                try await writer.write(ByteBuffer(string: text))
                text = ""
                guard chunk.rows.count == Self.csvChunk else { break }
                offset += Self.csvChunk
                guard let next = resolved.query(limit: Self.csvChunk, offset: offset, nested: false, columns: columns, counts: false) else {
                    break
                }
                chunk = try await store.runTable(next)
            }
            try await writer.finish(nil)
        }
        let name = experimentIDs.count == 1 ? "runs-experiment-\(experimentIDs[0]).csv" : "runs.csv"
        var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `experiments=1,2` (or repeated); at least one, at most `maxExperiments`.
    static func experimentList(_ request: Request) throws -> [String] {
        var ids: [String] = []
        for value in PageForm.query(of: request).fields["experiments"] ?? [] {
            ids += value.split(separator: ",").map { String($0).trimmingSpaces }
        }
        ids = ids.filter { !$0.isEmpty }
        guard !ids.isEmpty else {
            throw CairnError.invalidParameter("Name the experiments to show: /runs?experiments=1,2")
        }
        guard ids.count <= maxExperiments else {
            throw CairnError.invalidParameter("At most \(maxExperiments) experiments can be shown at once, got \(ids.count).")
        }
        var seen: Set<String> = []
        return ids.filter { seen.insert($0).inserted }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String(Double(Int(value * 10)) / 10)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
