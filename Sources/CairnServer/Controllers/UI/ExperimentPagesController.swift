import CairnArtifacts
import CairnClient
import CairnCore
import CairnStore
import CairnUI
import HTTPTypes
import Hummingbird
import Logging

/// The experiments list (also `/`) and its forms: create, rename, delete, restore and purge.
/// Each form calls the store method the MLflow API handler calls, so it is validated and
/// refused the same way; a refused action shows the list again with the message.
struct ExperimentPagesController<Context: CairnRequestContext>: Sendable {
    typealias State = ExperimentListView.State

    let store: any TrackingStore
    /// Where purged runs' files are deleted; nil when the server proxies no artifacts.
    let artifacts: (any ArtifactRepository)?
    let ui: UIPages
    let now: WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("", use: list)
        group.get("experiments", use: list)
        group.post("experiments", use: create)
        group.post("experiments/:experiment_id/rename", use: rename)
        group.get("experiments/:experiment_id/delete", use: confirmDelete)
        group.post("experiments/:experiment_id/delete", use: delete)
        group.post("experiments/:experiment_id/restore", use: restore)
        group.get("experiments/:experiment_id/purge", use: confirmPurge)
        group.post("experiments/:experiment_id/purge", use: purge)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = PageForm.query(of: request)
        let state = try State(query: query.string)
        return try await listPage(request, state: state, notice: Self.notice(query))
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        let name = form.string("name") ?? ""
        do {
            // What experiments/create does: the same validation, then the store; the server
            // chooses where artifacts go.
            let id = try await store.createExperiment(
                name: try TrackingValidation.validateExperimentName(name), artifactLocation: nil, tags: [])
            return ui.redirect(to: "/experiments/\(UIFormat.pathSegment(id))")
        } catch let error as CairnError {
            return try await listPage(request, state: Self.state(back: form), createName: name, error: error)
        }
    }

    @Sendable func rename(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        let id = try context.parameters.require("experiment_id")
        do {
            try await store.renameExperiment(id: id, newName: form.string("new_name") ?? "")
            return ui.redirect(to: Self.back(form, done: "renamed"))
        } catch let error as CairnError {
            return try await listPage(request, state: Self.state(back: form), error: error)
        }
    }

    @Sendable func confirmDelete(_ request: Request, context: Context) async throws -> Response {
        let experiment = try await store.getExperiment(id: try context.parameters.require("experiment_id"))
        let back = Self.backPath(PageForm.query(of: request).string("back"))
        let confirm = ConfirmView(
            heading: "Delete experiment",
            message: "Delete the experiment “\(experiment.name)” (ID \(experiment.experimentID)) and its runs?",
            details: ["It moves to the Deleted view, where it can be restored, or purged for good."],
            action: ui.url("/experiments/\(UIFormat.pathSegment(experiment.experimentID))/delete"), button: "Delete experiment",
            cancelHref: ui.url(back), returnPath: back,
            error: experiment.lifecycleStage == .deleted ? "This experiment is already deleted." : nil)
        return try confirmPage(request, confirm, title: "Delete \(experiment.name)", experiment: experiment)
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        do {
            try await store.deleteExperiment(id: try context.parameters.require("experiment_id"))
            return ui.redirect(to: Self.back(form, done: "deleted"))
        } catch let error as CairnError {
            return try await listPage(request, state: Self.state(back: form), error: error)
        }
    }

    @Sendable func restore(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        do {
            try await store.restoreExperiment(id: try context.parameters.require("experiment_id"))
            return ui.redirect(to: Self.back(form, done: "restored"))
        } catch let error as CairnError {
            return try await listPage(request, state: Self.state(back: form), error: error)
        }
    }

    @Sendable func confirmPurge(_ request: Request, context: Context) async throws -> Response {
        let experiment = try await store.getExperiment(id: try context.parameters.require("experiment_id"))
        let back = Self.backPath(PageForm.query(of: request).string("back") ?? "/experiments?view=deleted")
        let confirm = ConfirmView(
            heading: "Purge experiment",
            message: "Permanently remove the experiment “\(experiment.name)” (ID \(experiment.experimentID))?",
            details: [
                "Its runs go with it: their params, metrics, tags, dataset inputs, logged models and artifacts, as `mlflow gc` removes them.",
                "This cannot be undone.",
            ],
            action: ui.url("/experiments/\(UIFormat.pathSegment(experiment.experimentID))/purge"), button: "Purge for good",
            cancelHref: ui.url(back), returnPath: back,
            error: experiment.lifecycleStage == .deleted ? nil : "Only a deleted experiment can be purged; delete it first.")
        return try confirmPage(request, confirm, title: "Purge \(experiment.name)", experiment: experiment)
    }

    @Sendable func purge(_ request: Request, context: Context) async throws -> Response {
        let form = try await PageForm.read(request)
        let id = try context.parameters.require("experiment_id")
        // Read before the rows go: where the experiment's own folder is, to remove it once empty.
        let experimentRoot = (try? await store.getExperiment(id: id)).flatMap { Self.storedPath($0.artifactLocation) }
        let purged: ExperimentPurge
        do {
            purged = try await store.purgeExperiment(id: id)
        } catch let error as CairnError {
            return try await listPage(request, state: Self.state(back: form), error: error)
        }
        // The rows are gone (committed); the files follow. A file that cannot be removed is
        // logged and left, as `mlflow gc` leaves what it cannot resolve.
        var kept = 0
        if let artifacts {
            var removed: [ArtifactPath] = []
            for location in purged.artifactLocations {
                // Only what this server stores is deleted: a location a client chose is not Cairn's to remove.
                guard let path = Self.storedPath(location) else { continue }
                do {
                    _ = try await artifacts.delete(path)
                    removed.append(path)
                } catch {
                    kept += 1
                    context.logger.warning(
                        "Purged experiment's artifacts not removed", metadata: ["location": "\(location)", "error": "\(error)"])
                }
            }
            await Self.removeEmptyFolders(
                Self.foldersLeft(by: removed, experimentRoot: experimentRoot), in: artifacts, logger: context.logger)
        }
        let target = Self.back(form, done: "purged") + "&runs=\(purged.runCount)" + (kept > 0 ? "&kept=\(kept)" : "")
        return ui.redirect(to: target)
    }

    /// The path in the artifact store of a location this server stores (`mlflow-artifacts:/…`);
    /// nil for one a client chose elsewhere, or the store's root.
    static func storedPath(_ location: String) -> ArtifactPath? {
        guard location.hasPrefix("mlflow-artifacts:"), let directory = try? CairnClient.artifactsPath(location), !directory.isEmpty,
            let path = try? ArtifactPath(directory)
        else { return nil }
        return path
    }

    /// The folders a purge leaves behind, deepest first: each removed run's or model's own
    /// folder (`<exp>/<run>` above `<exp>/<run>/artifacts`) and, up to it, the folders inside
    /// the experiment's, then the experiment's folder itself. Only folders inside the
    /// experiment's are climbed: a run stored elsewhere loses its own folder, nothing above it.
    static func foldersLeft(by removed: [ArtifactPath], experimentRoot: ArtifactPath?) -> [ArtifactPath] {
        var folders: Set<ArtifactPath> = []
        for path in removed {
            guard var folder = path.parent, !folder.isRoot else { continue }
            if let experimentRoot, folder.hasPrefix(experimentRoot) {
                while folder.hasPrefix(experimentRoot), !folder.isRoot {
                    folders.insert(folder)
                    guard let parent = folder.parent else { break }
                    folder = parent
                }
            } else if experimentRoot.map({ !$0.hasPrefix(folder) }) ?? true {
                folders.insert(folder)
            }
        }
        if let experimentRoot, !experimentRoot.isRoot { folders.insert(experimentRoot) }
        return folders.sorted { ($0.segments.count, $0.description) > ($1.segments.count, $1.description) }
    }

    /// Removes each of `folders` (deepest first) that is an empty folder: what holds anything
    /// (another run's files under a shared location) stays.
    static func removeEmptyFolders(_ folders: [ArtifactPath], in artifacts: any ArtifactRepository, logger: Logger) async {
        for folder in folders {
            do {
                guard try await artifacts.status(of: folder) == .directory, try await artifacts.list(folder).isEmpty else { continue }
                _ = try await artifacts.delete(folder)
            } catch {
                logger.warning("Purged experiment's empty folder not removed", metadata: ["folder": "\(folder)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Pages

    private func listPage(
        _ request: Request, state: State, createName: String = "", error: CairnError? = nil, notice: String? = nil
    ) async throws -> Response {
        let order = try SearchRequest.orderBy(["\(state.sort.attribute) \(state.descending ? "DESC" : "ASC")"], kind: .experiments)
        let offset = (state.page - 1) * state.pageSize
        let viewType: ViewType =
            switch state.view {
            case .active: .activeOnly
            case .deleted: .deletedOnly
            case .all: .all
            }
        let search = ExperimentSearch(
            filter: Self.nameContains(state.query), orderBy: order, viewType: viewType, maxResults: state.pageSize,
            pageToken: offset > 0 ? PageToken.encode(offset: offset) : nil)
        let total = try await store.countExperiments(search)
        let experiments = try await store.searchExperiments(search).items
        let chrome = ui.chrome(for: request, section: .experiments)
        let view = ExperimentListView(
            state: state, experiments: experiments, total: total, now: now(), url: ui.url, createName: createName,
            error: error?.message, notice: notice)
        let status = error.map { ErrorRendering.status(code: $0.code.httpStatus) } ?? .ok
        return try ui.page("experiments", title: "Experiments", content: view, chrome: chrome, request: request, status: status)
    }

    private func confirmPage(_ request: Request, _ confirm: ConfirmView, title: String, experiment: Experiment) throws -> Response {
        let chrome = ui.chrome(
            for: request, section: .experiments,
            breadcrumbs: [.init("Experiments", path: confirm.returnPath), .init(experiment.name)])
        return try ui.page(
            "confirm", title: title, content: confirm, chrome: chrome, request: request, status: confirm.error == nil ? .ok : .badRequest)
    }

    /// The names holding the text, in any case: the box promises a search by name, so the
    /// text is matched as written (`%` and `_` are not wildcards, as they would be in MLflow's
    /// `name ILIKE '%text%'`).
    static func nameContains(_ text: String) -> SearchFilter {
        guard !text.isEmpty else { return SearchFilter() }
        return SearchFilter(clauses: [FilterClause(entity: .attribute, key: "name", comparator: .containsText, value: .string(text))])
    }

    /// The list a form came from: its `back` field when it is a path of the list, else the list.
    static func backPath(_ back: String?) -> String {
        guard let back, back == "/experiments" || back.hasPrefix("/experiments?"), !back.contains(where: \.isNewline) else {
            return "/experiments"
        }
        return back
    }

    static func back(_ form: PageForm, done: String) -> String {
        let back = backPath(form.string("back"))
        return back + (back.contains("?") ? "&" : "?") + "done=" + done
    }

    /// The list state of a form's `back` path, to show the list again as it was.
    static func state(back form: PageForm) -> State {
        let path = backPath(form.string("back"))
        guard let mark = path.firstIndex(of: "?") else { return State() }
        var fields: [String: String] = [:]
        for pair in path[path.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[PercentDecoding.decodeLeniently(parts[0], mode: .form)] =
                parts.count > 1 ? PercentDecoding.decodeLeniently(parts[1], mode: .form) : ""
        }
        return (try? State(query: { fields[$0] })) ?? State()
    }

    /// The message of a finished action, from the fixed set (never text from the URL).
    static func notice(_ query: PageForm) -> String? {
        switch query.string("done") {
        case "renamed": return "Experiment renamed."
        case "deleted": return "Experiment deleted. It is listed under Deleted, where it can be restored or purged."
        case "restored": return "Experiment restored."
        case "purged":
            let runs = query.string("runs").flatMap { Int($0) } ?? 0
            let kept = query.string("kept").flatMap { Int($0) } ?? 0
            let removed = "Experiment purged with its \(runs) run\(runs == 1 ? "" : "s") and their data."
            return kept > 0
                ? removed + " \(kept) artifact folder\(kept == 1 ? "" : "s") could not be removed (see the server log)." : removed
        default: return nil
        }
    }
}
