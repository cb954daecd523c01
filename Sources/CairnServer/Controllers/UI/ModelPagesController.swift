import CairnCore
import CairnServing
import CairnStore
import CairnUI
import Foundation
import HTTPTypes
import Hummingbird

/// The model registry's pages: `/models?q=&page=`, `/models/{name}` (versions with their
/// aliases, tags, stage, run, datasets and pipeline run) and `/models/{name}/versions/{v}`
/// (signature, input example, `MLmodel`, promotion log, monitors), and the alias forms, which
/// call the registry store the MLflow API's set-alias and delete-alias call, so they validate
/// and announce (webhooks, pipeline triggers) the same way.
struct ModelPagesController: Sendable {
    let registry: any RegistryStore
    let tracking: any TrackingStore
    let signatures: RegisteredSignatures
    let promotions: (any PromotionLogStore)?
    let monitors: (any MonitorStore)?
    /// Names the pipeline of a promotion's run, for its link.
    let pipelines: (any PipelineStore)?
    let ui: UIPages
    let now: WallClock

    static var modelsPerPage: Int { 50 }
    static var versionsPerPage: Int { 50 }
    static var promotionsShown: Int { 50 }
    /// An input example is shown whole up to this size (they are a few rows).
    static var maximumInputExampleBytes: Int64 { 64 << 10 }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("models", use: list)
        group.get("models/{name}", use: model)
        group.post("models/{name}/alias", use: setAliasFromModel)
        group.post("models/{name}/alias/delete", use: deleteAliasFromModel)
        group.get("models/{name}/versions/{version}", use: version)
        group.post("models/{name}/versions/{version}/alias", use: setAliasFromVersion)
        group.post("models/{name}/versions/{version}/alias/delete", use: deleteAliasFromVersion)
    }

    // MARK: - List

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = try RequestParameters(query: request.uri.query)
        let text = try query.string("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        try TrackingValidation.validateText(text, name: "q")
        let page = try Self.pageNumber(query)
        var filter = SearchFilter()
        if !text.isEmpty {
            // As written: `%` and `_` are characters of the name, not wildcards.
            filter.clauses.append(FilterClause(entity: .attribute, key: "name", comparator: .containsText, value: .string(text)))
        }
        let found = try await registry.searchRegisteredModels(
            RegisteredModelSearch(
                filter: filter, orderBy: [OrderByClause(entity: .attribute, key: "name")], maxResults: Self.modelsPerPage,
                pageToken: page > 1 ? PageToken.encode(offset: (page - 1) * Self.modelsPerPage) : nil))
        let chrome = ui.chrome(for: request, section: .models, breadcrumbs: [.init("Models")])
        let now = self.now()
        let rows = found.items.map { model in
            ModelListView.Row(
                name: model.name, href: chrome.url("/models/" + UIFormat.pathSegment(model.name)),
                latestVersion: model.latestVersions.compactMap { Int64($0.version) }.max().map(String.init),
                aliases: model.aliases.map { "@\($0.alias) → \($0.version)" }.joined(separator: ", "),
                description: model.description ?? "", updated: UIFormat.time(milliseconds: model.lastUpdatedTimestamp),
                updatedTitle: UIFormat.relative(milliseconds: model.lastUpdatedTimestamp, now: now))
        }
        func href(_ number: Int) -> String {
            chrome.url("/models" + UIFormat.query([("q", text), ("page", number > 1 ? String(number) : nil)]))
        }
        let view = ModelListView(
            query: text, action: chrome.url("/models"), rows: rows, previousHref: page > 1 ? href(page - 1) : nil,
            nextHref: found.nextPageToken != nil ? href(page + 1) : nil, pageNumber: page)
        return try ui.page("models", title: "Models", content: view, chrome: chrome, request: request)
    }

    /// `page=` (from 1); a page past the end is an empty page with a link back.
    static func pageNumber(_ query: RequestParameters) throws(CairnError) -> Int {
        let page = try query.int("page") ?? 1
        guard page >= 1, page <= 1_000_000 else { throw CairnError.invalidParameter("'page' must be between 1 and 1000000.") }
        return page
    }

    // MARK: - Model

    @Sendable func model(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await modelPage(request, context: context, form: nil, status: .ok)
    }

    func modelPage(_ request: Request, context: AppRequestContext, form: AliasFormView?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let name = try PathParameters(context).required("name")
        let model = try await registry.getRegisteredModel(name: name)
        let page = try Self.pageNumber(try RequestParameters(query: request.uri.query))
        let found = try await registry.searchModelVersions(
            ModelVersionSearch(
                filter: SearchFilter(clauses: [
                    FilterClause(entity: .attribute, key: "name", comparator: .equal, value: .string(model.name))
                ]),
                orderBy: [OrderByClause(entity: .attribute, key: "version_number", ascending: false)], maxResults: Self.versionsPerPage,
                pageToken: page > 1 ? PageToken.encode(offset: (page - 1) * Self.versionsPerPage) : nil))
        let chrome = ui.chrome(
            for: request, section: .models, breadcrumbs: [.init("Models", path: "/models"), .init(model.name)])
        let now = self.now()
        let modelPath = "/models/" + UIFormat.pathSegment(model.name)
        var versions: [ModelView.Version] = []
        for version in found.items {
            let lineage = try await lineage(of: version, chrome: chrome)
            versions.append(
                ModelView.Version(
                    version: version.version, href: chrome.url(modelPath + "/versions/" + UIFormat.pathSegment(version.version)),
                    stage: version.currentStage.rawValue, status: version.status.rawValue, aliases: version.aliases,
                    tags: version.tags.map { TagItem(key: $0.key, value: $0.value) },
                    created: UIFormat.time(milliseconds: version.creationTimestamp),
                    createdTitle: UIFormat.relative(milliseconds: version.creationTimestamp, now: now), run: lineage.run,
                    runID: lineage.run == nil ? version.runID : nil, datasets: lineage.datasets, pipelineRun: lineage.pipelineRun))
        }
        func href(_ number: Int) -> String { chrome.url(modelPath + UIFormat.query([("page", number > 1 ? String(number) : nil)])) }
        let view = ModelView(
            name: model.name, description: model.description, tags: model.tags.map { TagItem(key: $0.key, value: $0.value) },
            aliases: model.aliases.map {
                ModelView.Alias(
                    alias: $0.alias, version: $0.version,
                    versionHref: chrome.url(modelPath + "/versions/" + UIFormat.pathSegment($0.version)))
            },
            versions: versions,
            aliasForm: form ?? aliasForm(chrome: chrome, path: modelPath, versions: found.items.map(\.version)),
            previousHref: page > 1 ? href(page - 1) : nil, nextHref: found.nextPageToken != nil ? href(page + 1) : nil)
        return try ui.page("model", title: "Model \(model.name)", content: view, chrome: chrome, request: request, status: status)
    }

    func aliasForm(chrome: PageChrome, path: String, versions: [String], alias: String = "", version: String = "", error: String? = nil)
        -> AliasFormView
    {
        AliasFormView(
            setAction: chrome.url(path + "/alias"), deleteAction: chrome.url(path + "/alias/delete"), csrfToken: chrome.csrfToken,
            alias: alias, version: version, error: error, versions: versions)
    }

    struct Lineage {
        var run: LinkItem?
        var datasets: [LinkItem] = []
        var pipelineRun: LinkItem?
    }

    /// The run that logged the version (when this server has it), that run's datasets, and the
    /// pipeline run that made it: the run's own `cairn.pipeline` tags (a pipeline or stage run,
    /// `RunRecorder`'s tags), or its parent's (a run a stage's script started nested in it).
    func lineage(of version: ModelVersion, chrome: PageChrome) async throws -> Lineage {
        guard let runID = version.runID, !runID.isEmpty, let run = try await optionalRun(runID) else { return Lineage() }
        let runPath = "/experiments/\(UIFormat.pathSegment(run.info.experimentID))/runs/\(UIFormat.pathSegment(run.info.runID))"
        var lineage = Lineage(run: LinkItem(text: run.info.runName.isEmpty ? run.info.runID : run.info.runName, href: chrome.url(runPath)))
        lineage.datasets = run.inputs.datasetInputs.map {
            LinkItem(text: $0.dataset.name, href: chrome.url(runPath), note: "digest \($0.dataset.digest)")
        }
        var tagged = run
        if Self.tag(run, "cairn.pipeline") == nil, let parentID = Self.tag(run, "mlflow.parentRunId"),
            let parent = try await optionalRun(parentID)
        {
            tagged = parent
        }
        if let pipeline = Self.tag(tagged, "cairn.pipeline") {
            let pipelineRunID =
                Self.tag(tagged, "cairn.stage") != nil ? Self.tag(tagged, "mlflow.parentRunId") ?? tagged.info.runID : tagged.info.runID
            let stage = Self.tag(tagged, "cairn.stage").map { " · stage \($0)" } ?? ""
            lineage.pipelineRun = LinkItem(
                text: "\(pipeline)\(stage)",
                href: chrome.url("/pipelines/\(UIFormat.pathSegment(pipeline))/runs/\(UIFormat.pathSegment(pipelineRunID))"))
        }
        return lineage
    }

    static func tag(_ run: Run, _ key: String) -> String? { run.data.tags.first { $0.key == key }?.value }

    func optionalRun(_ id: String) async throws -> Run? {
        do {
            return try await tracking.getRun(id: id)
        } catch let error as CairnError where error.code == .resourceDoesNotExist || error.code == .invalidParameterValue {
            return nil
        }
    }

    // MARK: - Version

    @Sendable func version(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await versionPage(request, context: context, form: nil, status: .ok)
    }

    func versionPage(_ request: Request, context: AppRequestContext, form: AliasFormView?, status: HTTPResponse.Status) async throws
        -> Response
    {
        let name = try PathParameters(context).required("name")
        let number = try PathParameters(context).required("version")
        let version = try await registry.getModelVersion(name: name, version: number)
        let chrome = ui.chrome(
            for: request, section: .models,
            breadcrumbs: [
                .init("Models", path: "/models"), .init(version.name, path: "/models/" + UIFormat.pathSegment(version.name)),
                .init("Version \(version.version)"),
            ])
        let now = self.now()
        let modelPath = "/models/" + UIFormat.pathSegment(version.name)
        let versionPath = modelPath + "/versions/" + UIFormat.pathSegment(version.version)
        let lineage = try await lineage(of: version, chrome: chrome)

        let mlmodelText = try await signatures.mlmodelText(name: version.name, version: version.version)
        var inputs: ModelVersionView.Schema?
        var outputs: ModelVersionView.Schema?
        var note: String?
        var example: String?
        if let mlmodelText {
            var parsed: MLmodel?
            do {
                parsed = try MLmodel(yaml: mlmodelText)
            } catch {
                note = "The MLmodel file does not parse: \(error.message)"
            }
            if let parsed {
                inputs = parsed.signature.map(Self.schema)
                outputs = parsed.outputSignature.map(Self.schema)
                if inputs == nil, outputs == nil { note = "The model was logged without a signature." }
                if let path = parsed.inputExamplePath {
                    example = try await signatures.file(
                        path, name: version.name, version: version.version, maximumBytes: Self.maximumInputExampleBytes)
                    if example == nil {
                        note = (note.map { $0 + " " } ?? "") + "Its input example (\(path)) is larger than 64 KiB or unreadable."
                    }
                }
            }
        } else {
            note = "This server does not hold the version's files (source \(version.source)), so its MLmodel cannot be shown."
        }

        var promotionRows: [ModelVersionView.Promotion] = []
        if let promotions {
            let entries = try await promotions.listPromotions(modelName: version.name, maxResults: Self.promotionsShown, pageToken: nil)
            var pipelineOf: [String: String] = [:]
            for id in Set(entries.items.compactMap(\.pipelineRunID)) {
                if let run = try? await pipelines?.getRun(id: id) { pipelineOf[id] = run.pipeline }
            }
            promotionRows = entries.items.map {
                Self.promotion($0, version: version.version, pipelineOf: pipelineOf, chrome: chrome, now: now)
            }
        }
        var watching: [LinkItem] = []
        if let monitors {
            for monitor in try await monitors.listMonitors() where monitor.modelName == version.name {
                let href = chrome.url("/monitors/" + UIFormat.pathSegment(monitor.name))
                if let alias = monitor.alias {
                    if version.aliases.contains(alias) {
                        watching.append(LinkItem(text: monitor.name, href: href, note: "watches @\(alias)"))
                    }
                } else {
                    watching.append(LinkItem(text: monitor.name, href: href, note: "watches the newest version with traffic"))
                }
            }
        }
        let view = ModelVersionView(
            name: version.name, version: version.version, modelHref: chrome.url(modelPath), stage: version.currentStage.rawValue,
            status: version.status.rawValue, source: version.source, description: version.description, aliases: version.aliases,
            tags: version.tags.map { TagItem(key: $0.key, value: $0.value) }, run: lineage.run,
            runID: lineage.run == nil ? version.runID : nil, pipelineRun: lineage.pipelineRun, inputs: inputs, outputs: outputs,
            signatureNote: note, inputExample: example, mlmodel: mlmodelText, promotions: promotionRows, monitors: watching,
            aliasForm: form ?? aliasForm(chrome: chrome, path: versionPath, versions: [version.version], version: version.version))
        return try ui.page(
            "model-version", title: "\(version.name) version \(version.version)", content: view, chrome: chrome, request: request,
            status: status)
    }

    static func schema(_ signature: ModelSignature) -> ModelVersionView.Schema {
        switch signature.inputs {
        case .columns(let columns):
            return ModelVersionView.Schema(
                columns: columns.enumerated().map { index, column in
                    ModelVersionView.Column(name: column.name ?? "(column \(index))", type: column.type, required: column.required)
                })
        case .tensor(let dtype, let shape):
            return ModelVersionView.Schema(tensor: "Tensor of \(dtype), shape (\(shape.map(String.init).joined(separator: ", ")))")
        }
    }

    /// A promotion log entry as the version and pipeline run pages list it.
    static func promotion(_ record: PromotionRecord, version: String?, pipelineOf: [String: String], chrome: PageChrome, now: Int64)
        -> ModelVersionView.Promotion
    {
        func metrics(_ values: [String: Double]) -> String {
            values.sorted { $0.key < $1.key }.map { "\($0.key) \(UIFormat.metric($0.value))" }.joined(separator: ", ")
        }
        var judged = metrics(record.candidateMetrics)
        if !record.championMetrics.isEmpty { judged += " (champion: \(metrics(record.championMetrics)))" }
        let gateRun = record.pipelineRunID.flatMap { id in
            pipelineOf[id].map {
                LinkItem(text: id, href: chrome.url("/pipelines/\(UIFormat.pathSegment($0))/runs/\(UIFormat.pathSegment(id))"))
            }
        }
        return ModelVersionView.Promotion(
            time: UIFormat.time(milliseconds: record.time), timeTitle: UIFormat.relative(milliseconds: record.time, now: now),
            kind: record.kind.rawValue, outcome: record.outcome.rawValue, alias: record.alias, candidate: record.candidateVersion ?? "",
            champion: record.championVersion ?? "none",
            moves: record.moves.map { "@\($0.alias): \($0.fromVersion ?? "unset") → \($0.toVersion)" }.joined(separator: "; "),
            metrics: judged, failures: record.failures, gateRun: gateRun,
            concernsThisVersion: version != nil
                && (record.candidateVersion == version || record.moves.contains { $0.toVersion == version }))
    }

    // MARK: - Alias forms

    @Sendable func setAliasFromModel(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await aliasAction(request, context: context, delete: false, fromVersion: false)
    }

    @Sendable func deleteAliasFromModel(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await aliasAction(request, context: context, delete: true, fromVersion: false)
    }

    @Sendable func setAliasFromVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await aliasAction(request, context: context, delete: false, fromVersion: true)
    }

    @Sendable func deleteAliasFromVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await aliasAction(request, context: context, delete: true, fromVersion: true)
    }

    /// Checks the form's CSRF token, then moves (or deletes) the alias through the store the
    /// API uses and sends the browser back to the page; a refused change shows the page again
    /// with the store's message and its status.
    func aliasAction(_ request: Request, context: AppRequestContext, delete: Bool, fromVersion: Bool) async throws -> Response {
        let name = try PathParameters(context).required("name")
        let form = try await PageForm.read(request)
        let alias = form.string("alias")?.trimmingCharacters(in: .whitespaces) ?? ""
        let version = form.string("version")?.trimmingCharacters(in: .whitespaces) ?? ""
        var pagePath = "/models/\(UIFormat.pathSegment(name))"
        if fromVersion { pagePath += "/versions/" + UIFormat.pathSegment(try PathParameters(context).required("version")) }
        do {
            guard !alias.isEmpty else { throw CairnError.missingParameter("alias") }
            if delete {
                // The API deletes an absent alias silently, as MLflow's does; a person who
                // pressed Delete is told it was not there instead of shown a success.
                let model = try await registry.getRegisteredModel(name: name)
                guard model.aliases.contains(where: { $0.alias == alias }) else {
                    throw CairnError.notFound("Model '\(name)' has no alias '@\(alias)': nothing was deleted.")
                }
                try await registry.deleteRegisteredModelAlias(name: name, alias: alias)
            } else {
                guard !version.isEmpty else { throw CairnError.missingParameter("version") }
                try await registry.setRegisteredModelAlias(name: name, alias: alias, version: version)
            }
        } catch let error as CairnError {
            // An unknown model is the page's own 404; anything else is the form's error.
            _ = try await registry.getRegisteredModel(name: name)
            let chrome = ui.chrome(for: request, section: .models, breadcrumbs: [])
            let form = aliasForm(chrome: chrome, path: pagePath, versions: [], alias: alias, version: version, error: error.message)
            let status = ErrorRendering.status(code: error.code.httpStatus)
            return fromVersion
                ? try await versionPage(request, context: context, form: form, status: status)
                : try await modelPage(request, context: context, form: form, status: status)
        }
        return ui.redirect(to: pagePath)
    }
}
