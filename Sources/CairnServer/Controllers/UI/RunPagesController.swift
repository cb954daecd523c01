import CairnArtifacts
import CairnClient
import CairnCore
import CairnStore
import CairnUI
import Foundation
import HTTPTypes
import Hummingbird

/// The run page (`/experiments/{id}/runs/{run_id}`, tabs by `?tab=`), its artifact downloads
/// and its forms (set and delete a tag, edit the description). A run asked for under another
/// experiment than its own is redirected to its own (302): the run exists, and a link made
/// with the wrong experiment, or before a move, still lands on it.
struct RunPagesController: Sendable {
    let ui: UIPages
    let store: any TrackingStore
    let registry: (any RegistryStore)?
    let loggedModels: (any LoggedModelStore)?
    let artifacts: (any ArtifactRepository)?
    let now: @Sendable () -> Int64

    /// Children listed on the overview; past it the page links the filtered runs table.
    static let childLimit = 50

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("experiments/:experiment_id/runs/:run_id", use: page)
        group.get("experiments/:experiment_id/runs/:run_id/artifacts/download", use: download)
        group.post("experiments/:experiment_id/runs/:run_id/tags/set", use: setTag)
        group.post("experiments/:experiment_id/runs/:run_id/tags/delete", use: deleteTag)
        group.post("experiments/:experiment_id/runs/:run_id/description", use: setDescription)
    }

    // MARK: - Page

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (experimentID, runID) = try ids(context)
        let run = try await store.getRun(id: runID)
        if let redirect = redirectIfElsewhere(run, experimentID: experimentID, request: request) { return redirect }
        return try await render(run, request: request, formError: nil)
    }

    func render(_ run: Run, request: Request, formError: CairnError?) async throws -> Response {
        let query = PageForm.query(of: request)
        let tabName = query.string("tab") ?? "overview"
        guard let tab = RunPageView.Tab(rawValue: tabName) else {
            throw CairnError.invalidParameter("Unknown tab '\(tabName)': use overview, metrics or artifacts.")
        }
        let info = run.info
        let experiment = try await store.getExperiment(id: info.experimentID)
        let chrome = ui.chrome(
            for: request, section: .experiments,
            breadcrumbs: [
                .init("Experiments", path: "/experiments"),
                .init(experiment.name, path: "/experiments/\(UIFormat.pathSegment(experiment.experimentID))"),
                .init(info.runName.isEmpty ? info.runID : info.runName),
            ])
        let models = try await loggedModelsOf(run)
        var artifactsView: ArtifactBrowser? = nil
        if tab == .artifacts {
            artifactsView = try await browser(run: run, models: models, modelID: query.string("model"), path: query.string("path") ?? "")
        }
        let view: RunPageView
        if tab == .overview {
            // What only the overview shows is read only for it.
            async let summaries = store.metricSummaries(runIDs: [info.runID])
            async let family = relatives(of: run)
            async let versions = modelVersions(of: info.runID)
            let (parent, children, more) = try await family
            view = RunPageView(
                .init(
                    prefix: ui.staticPrefix, run: run, experiment: experiment, summaries: try await summaries, parent: parent,
                    children: children, moreChildren: more, modelVersions: try await versions, loggedModels: models, tab: tab,
                    artifacts: nil, formError: formError?.message, now: now()))
        } else {
            let summaries = tab == .metrics ? try await store.metricSummaries(runIDs: [info.runID]) : []
            view = RunPageView(
                .init(
                    prefix: ui.staticPrefix, run: run, experiment: experiment, summaries: summaries, parent: nil, children: [],
                    moreChildren: false, modelVersions: [], loggedModels: models, tab: tab, artifacts: artifactsView,
                    formError: formError?.message, now: now()))
        }
        let status = formError.map { ErrorRendering.status(code: $0.code.httpStatus) } ?? .ok
        return try ui.page("run", title: view.runName, content: view, chrome: chrome, request: request, status: status)
    }

    /// The parent (from `mlflow.parentRunId`) and the first children of `run`.
    func relatives(of run: Run) async throws -> (RunInfo?, [RunInfo], Bool) {
        var parent: RunInfo? = nil
        if let parentID = run.data.tags.first(where: { $0.key == "mlflow.parentRunId" })?.value, !parentID.isEmpty {
            // A parent deleted for good leaves the tag behind; the page still renders.
            parent = try? await store.getRun(id: parentID).info
        }
        let filter = try SearchRequest.filter("tags.`mlflow.parentRunId` = '\(run.info.runID)'", kind: .runs)
        let page = try await store.searchRuns(
            RunSearch(
                experimentIDs: [run.info.experimentID], filter: filter, orderBy: [], viewType: .activeOnly,
                maxResults: Self.childLimit, pageToken: nil))
        return (parent, page.items.map(\.info), page.nextPageToken != nil)
    }

    /// Registered versions made from the run (`model-versions/search` by `run_id`).
    func modelVersions(of runID: String) async throws -> [ModelVersion] {
        guard let registry else { return [] }
        let filter = try SearchRequest.filter("run_id = '\(runID)'", kind: .modelVersions)
        return try await registry.searchModelVersions(ModelVersionSearch(filter: filter, maxResults: 100)).items
    }

    /// MLflow 3 logged models whose source is the run.
    func loggedModelsOf(_ run: Run) async throws -> [LoggedModelInfo] {
        guard let loggedModels else { return [] }
        let filter = try SearchRequest.filter("source_run_id = '\(run.info.runID)'", kind: .loggedModels)
        let page = try await loggedModels.searchLoggedModels(
            LoggedModelSearch(experimentIDs: [run.info.experimentID], filter: filter, maxResults: 100))
        return page.items.map(\.info)
    }

    // MARK: - Artifacts

    /// The artifacts tab for `path` (a directory to list or a file to preview) below the run's
    /// root, or below one of its logged models' roots.
    func browser(run: Run, models: [LoggedModelInfo], modelID: String?, path: String) async throws -> ArtifactBrowser {
        let pageURL = RunPageView.runPath(prefix: ui.staticPrefix, experimentID: run.info.experimentID, runID: run.info.runID)
        let relative = try ArtifactPath(path)
        let location = try root(of: run, models: models, modelID: modelID)
        let modelIDs = models.map(\.modelID)
        guard let artifacts, let root = location else {
            return ArtifactBrowser(pageURL: pageURL, modelID: modelID, models: modelIDs, directory: [], entries: [], file: nil)
        }
        let full = try root.appending(relative)
        let status = try await artifacts.status(of: full)
        var directory = relative
        var file: (path: [String], size: Int64, preview: ArtifactPreview)? = nil
        switch status {
        case .missing:
            guard relative.isRoot else { throw CairnError.notFound("No artifact '\(relative)' in run \(run.info.runID)") }
        case .directory:
            break
        case .file(let size):
            directory = relative.parent ?? .root
            let preview = try await ArtifactPreviewReader(repository: artifacts).preview(of: full, size: size)
            file = (relative.segments, size, preview)
        }
        let entries = try await artifacts.list(try root.appending(directory)).map {
            ArtifactEntryInfo(name: $0.name, isDirectory: $0.isDirectory, size: $0.size)
        }
        return ArtifactBrowser(
            pageURL: pageURL, modelID: modelID, models: modelIDs, directory: directory.segments, entries: entries, file: file)
    }

    /// Where the run's artifacts (or those of its logged model `modelID`) are in this server's
    /// repository; nil when they are stored elsewhere (an experiment with its own
    /// `artifact_location`), which this server does not read.
    func root(of run: Run, models: [LoggedModelInfo], modelID: String?) throws -> ArtifactPath? {
        let uri: String
        if let modelID {
            guard let model = models.first(where: { $0.modelID == modelID }) else {
                throw CairnError.notFound("Run \(run.info.runID) has no logged model '\(modelID)'")
            }
            uri = model.artifactUri
        } else {
            uri = run.info.artifactUri
        }
        guard uri.hasPrefix("mlflow-artifacts:"), let directory = try? CairnClient.artifactsPath(uri) else { return nil }
        return try ArtifactPath(directory)
    }

    /// The file's bytes, streamed from the repository as an attachment.
    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (experimentID, runID) = try ids(context)
        let run = try await store.getRun(id: runID)
        if let redirect = redirectIfElsewhere(run, experimentID: experimentID, request: request) { return redirect }
        let query = PageForm.query(of: request)
        let relative = try ArtifactPath(query.string("path") ?? "")
        guard !relative.isRoot else { throw CairnError.invalidParameter("Name a file to download with ?path=") }
        let models = query.string("model") == nil ? [] : try await loggedModelsOf(run)
        guard let artifacts, let root = try root(of: run, models: models, modelID: query.string("model")) else {
            throw CairnError.notFound("The artifacts of run \(runID) are not stored on this server")
        }
        return try await ArtifactsController<AppRequestContext>.attachment(repository: artifacts, path: try root.appending(relative))
    }

    // MARK: - Forms

    /// `POST …/tags/set`: the same store call and validation as `runs/set-tag`.
    @Sendable func setTag(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await action(request, context) { run, form in
            let tag = KeyValue(key: try form.required("key", label: "The tag's key"), value: form.string("value") ?? "")
            try await store.logBatch(runID: run.info.runID, metrics: [], params: [], tags: [tag])
        }
    }

    /// `POST …/tags/delete`: as `runs/delete-tag`.
    @Sendable func deleteTag(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await action(request, context) { run, form in
            try await store.deleteTag(runID: run.info.runID, key: try form.required("key", label: "The tag's key"))
        }
    }

    /// `POST …/description`: sets `mlflow.note.content` as MLflow's UI does; an empty text
    /// deletes it. Stored with LF line endings, as MLflow's UI (which reads the textarea's
    /// value, not the CRLF a form submission sends) stores it.
    @Sendable func setDescription(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await action(request, context) { run, form in
            let text = MarkdownHTML.normalizingLineEndings(form.string("value") ?? "")
            if text.allSatisfy(\.isWhitespace) {
                if run.data.tags.contains(where: { $0.key == RunPageView.descriptionTag }) {
                    try await store.deleteTag(runID: run.info.runID, key: RunPageView.descriptionTag)
                }
            } else {
                try await store.logBatch(
                    runID: run.info.runID, metrics: [], params: [], tags: [KeyValue(key: RunPageView.descriptionTag, value: text)])
            }
        }
    }

    /// Reads the form (CSRF-checked), runs `change`, and answers 303 back to the page; a
    /// change the store refuses shows the page again with its message and status.
    func action(
        _ request: Request, _ context: AppRequestContext, _ change: (Run, PageForm) async throws -> Void
    ) async throws -> Response {
        let (experimentID, runID) = try ids(context)
        let run = try await store.getRun(id: runID)
        guard run.info.experimentID == experimentID else {
            throw CairnError.notFound("Run \(runID) is not in experiment \(experimentID)")
        }
        let form = try await PageForm.read(request)
        do {
            try await change(run, form)
        } catch let error as CairnError {
            return try await render(try await store.getRun(id: runID), request: request, formError: error)
        }
        return ui.redirect(to: "/experiments/\(UIFormat.pathSegment(experimentID))/runs/\(UIFormat.pathSegment(runID))")
    }

    // MARK: - Helpers

    func ids(_ context: AppRequestContext) throws -> (String, String) {
        let experimentID = try context.parameters.require("experiment_id")
        let runID = try context.parameters.require("run_id")
        try TrackingValidation.validateExperimentID(experimentID)
        try TrackingValidation.validateRunID(runID)
        return (experimentID, runID)
    }

    /// 302 to the same page under the run's own experiment, query kept.
    func redirectIfElsewhere(_ run: Run, experimentID: String, request: Request) -> Response? {
        guard run.info.experimentID != experimentID else { return nil }
        let prefix = "/experiments/\(UIFormat.pathSegment(experimentID))/runs/\(UIFormat.pathSegment(run.info.runID))"
        let own = "/experiments/\(UIFormat.pathSegment(run.info.experimentID))/runs/\(UIFormat.pathSegment(run.info.runID))"
        let path = request.uri.path
        var rest = ""
        if let range = path.range(of: prefix) { rest = String(path[range.upperBound...]) }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        return Response(status: .found, headers: [.location: ui.url(own + rest + query)])
    }
}
