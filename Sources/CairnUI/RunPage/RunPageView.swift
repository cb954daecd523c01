import CairnCore

/// Everything the run page shows, as plain values the `run` template renders: built from the
/// store's domain types by `init`, so the controller only gathers them.
public struct RunPageView: Sendable {
    public enum Tab: String, Sendable, CaseIterable {
        case overview, metrics, artifacts
    }

    /// What a run page reads before it is built.
    public struct Input: Sendable {
        public var prefix: String
        public var run: Run
        public var experiment: Experiment
        public var summaries: [MetricSummary]
        public var parent: RunInfo?
        public var children: [RunInfo]
        public var moreChildren: Bool
        public var modelVersions: [ModelVersion]
        public var loggedModels: [LoggedModelInfo]
        public var tab: Tab
        public var artifacts: ArtifactBrowser?
        public var formError: String?

        /// `now` gives the relative ages in titles.
        public var now: Int64

        public init(
            prefix: String, run: Run, experiment: Experiment, summaries: [MetricSummary], parent: RunInfo?, children: [RunInfo],
            moreChildren: Bool, modelVersions: [ModelVersion], loggedModels: [LoggedModelInfo], tab: Tab,
            artifacts: ArtifactBrowser?, formError: String?, now: Int64
        ) {
            self.prefix = prefix
            self.run = run
            self.experiment = experiment
            self.summaries = summaries
            self.parent = parent
            self.children = children
            self.moreChildren = moreChildren
            self.modelVersions = modelVersions
            self.loggedModels = loggedModels
            self.tab = tab
            self.artifacts = artifacts
            self.formError = formError
            self.now = now
        }
    }

    public var runID: String
    public var runName: String
    public var experimentID: String
    public var experimentName: String
    public var experimentURL: String
    public var runURL: String
    public var tabs: [TabLink]
    public var isOverview: Bool
    public var isMetrics: Bool
    public var isArtifacts: Bool
    public var lifecycleDeleted: Bool

    public var status: String
    public var statusClass: String
    public var started: String
    public var startedAge: String
    public var ended: String?
    public var endedAge: String?
    public var duration: String?
    public var user: String?
    public var source: String?
    public var sourceType: String?
    public var gitCommit: String?
    public var entryPoint: String?
    public var parent: RunLink?
    public var children: [RunLink]
    public var hasChildren: Bool
    public var moreChildren: Bool
    public var childrenURL: String
    public var modelVersions: [VersionLink]
    public var hasModelVersions: Bool
    public var loggedModels: [LoggedModelLink]
    public var hasLoggedModels: Bool
    public var datasets: [DatasetRow]
    public var hasDatasets: Bool

    public var params: [ValueRow]
    public var hasParams: Bool
    public var metrics: [MetricRow]
    public var hasMetrics: Bool
    public var tags: [TagRow]
    public var hasTags: Bool
    public var systemTags: [ValueRow]
    public var hasSystemTags: Bool

    /// Cairn-made HTML (`MarkdownHTML`) for `{{{descriptionHTML}}}`; empty when none.
    public var descriptionHTML: String
    public var hasDescription: Bool
    public var descriptionSource: String

    public var setTagAction: String
    public var deleteTagAction: String
    public var descriptionAction: String
    /// Why the last form was refused (`{{> error_notice}}`).
    public var error: String?

    public var artifacts: ArtifactBrowser?

    public static let descriptionTag = "mlflow.note.content"

    public init(_ input: Input) {
        let run = input.run
        let info = run.info
        let prefix = input.prefix
        let base = Self.runPath(prefix: prefix, experimentID: info.experimentID, runID: info.runID)
        runID = info.runID
        runName = info.runName.isEmpty ? info.runID : info.runName
        experimentID = info.experimentID
        experimentName = input.experiment.name
        experimentURL = "\(prefix)/experiments/\(UIFormat.pathSegment(info.experimentID))"
        runURL = base
        tabs = Tab.allCases.map { tab in
            TabLink(
                label: tab.rawValue.prefix(1).uppercased() + tab.rawValue.dropFirst(),
                url: tab == .overview ? base : "\(base)?tab=\(tab.rawValue)", isActive: tab == input.tab)
        }
        isOverview = input.tab == .overview
        isMetrics = input.tab == .metrics
        isArtifacts = input.tab == .artifacts
        lifecycleDeleted = info.lifecycleStage == .deleted

        status = info.status.rawValue
        statusClass = info.status.rawValue.lowercased()
        started = UIFormat.time(milliseconds: info.startTime)
        startedAge = UIFormat.relative(milliseconds: info.startTime, now: input.now)
        ended = info.endTime.map { UIFormat.time(milliseconds: $0) }
        endedAge = info.endTime.map { UIFormat.relative(milliseconds: $0, now: input.now) }
        duration = info.endTime.map { UIFormat.duration(milliseconds: $0 - info.startTime) }

        let tagValues = Dictionary(run.data.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        user = (tagValues["mlflow.user"] ?? info.userID).nonEmpty
        source = tagValues["mlflow.source.name"]?.nonEmpty
        sourceType = tagValues["mlflow.source.type"]?.nonEmpty
        gitCommit = tagValues["mlflow.source.git.commit"]?.nonEmpty
        entryPoint = tagValues["mlflow.project.entryPoint"]?.nonEmpty
        parent = input.parent.map { RunLink(prefix: prefix, info: $0) }
        children = input.children.map { RunLink(prefix: prefix, info: $0) }
        hasChildren = !children.isEmpty
        moreChildren = input.moreChildren
        let childFilter = "tags.`mlflow.parentRunId` = '\(info.runID)'"
        childrenURL = "\(experimentURL)?filter=\(UIFormat.queryValue(childFilter))"
        modelVersions = input.modelVersions.map { version in
            VersionLink(
                name: version.name, version: version.version, stage: version.currentStage.rawValue,
                aliases: version.aliases.isEmpty ? nil : version.aliases.joined(separator: ", @"),
                url: "\(prefix)/models/\(UIFormat.pathSegment(version.name))/versions/\(UIFormat.pathSegment(version.version))")
        }
        hasModelVersions = !modelVersions.isEmpty
        loggedModels = input.loggedModels.map { model in
            LoggedModelLink(
                id: model.modelID, name: model.name,
                status: String(model.status.rawValue.dropFirst(model.status.rawValue.hasPrefix("LOGGED_MODEL_") ? 13 : 0)),
                url: "\(base)?tab=artifacts&model=\(UIFormat.queryValue(model.modelID))")
        }
        hasLoggedModels = !loggedModels.isEmpty
        datasets = run.inputs.datasetInputs.map { input in
            DatasetRow(
                name: input.dataset.name, digest: input.dataset.digest, sourceType: input.dataset.sourceType,
                source: input.dataset.source,
                context: input.tags.first { $0.key == "mlflow.data.context" }?.value ?? "")
        }
        hasDatasets = !datasets.isEmpty

        params = run.data.params.sorted { $0.key < $1.key }.map { ValueRow(key: $0.key, value: $0.value) }
        hasParams = !params.isEmpty
        let summaries = Dictionary(input.summaries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        metrics = run.data.metrics.sorted { $0.key < $1.key }.map { metric in
            MetricRow(prefix: prefix, runID: info.runID, metric: metric, summary: summaries[metric.key])
        }
        hasMetrics = !metrics.isEmpty
        let userTags = run.data.tags.filter { !$0.key.hasPrefix("mlflow.") }.sorted { $0.key < $1.key }
        tags = userTags.map { TagRow(key: $0.key, value: $0.value) }
        hasTags = !tags.isEmpty
        systemTags = run.data.tags.filter { $0.key.hasPrefix("mlflow.") && $0.key != Self.descriptionTag }
            .sorted { $0.key < $1.key }.map { ValueRow(key: $0.key, value: $0.value) }
        hasSystemTags = !systemTags.isEmpty

        descriptionSource = tagValues[Self.descriptionTag] ?? ""
        hasDescription = !descriptionSource.trimmingSpaces.isEmpty
        descriptionHTML = hasDescription ? MarkdownHTML.render(descriptionSource) : ""

        setTagAction = "\(base)/tags/set"
        deleteTagAction = "\(base)/tags/delete"
        descriptionAction = "\(base)/description"
        error = input.formError
        artifacts = input.artifacts
    }

    public static func runPath(prefix: String, experimentID: String, runID: String) -> String {
        "\(prefix)/experiments/\(UIFormat.pathSegment(experimentID))/runs/\(UIFormat.pathSegment(runID))"
    }
}

public struct TabLink: Sendable {
    public var label: String
    public var url: String
    public var isActive: Bool
}

public struct RunLink: Sendable {
    public var name: String
    public var runID: String
    public var status: String
    public var statusClass: String
    public var url: String

    public init(prefix: String, info: RunInfo) {
        name = info.runName.isEmpty ? info.runID : info.runName
        runID = info.runID
        status = info.status.rawValue
        statusClass = info.status.rawValue.lowercased()
        url = RunPageView.runPath(prefix: prefix, experimentID: info.experimentID, runID: info.runID)
    }
}

public struct VersionLink: Sendable {
    public var name: String
    public var version: String
    public var stage: String
    /// `champion, @staging`, for a template that writes the first `@`; nil when none.
    public var aliases: String?
    public var url: String
}

public struct LoggedModelLink: Sendable {
    public var id: String
    public var name: String
    public var status: String
    public var url: String
}

public struct DatasetRow: Sendable {
    public var name: String
    public var digest: String
    public var sourceType: String
    public var source: String
    public var context: String
}

public struct ValueRow: Sendable {
    public var key: String
    public var value: String
}

public struct TagRow: Sendable {
    public var key: String
    public var value: String
}

public struct MetricRow: Sendable {
    public var key: String
    public var last: String
    public var lastExact: String
    public var step: String
    public var minimum: String
    public var maximum: String
    public var points: String
    /// The chart route's URL for this metric of this run (`/charts/metric.svg`).
    public var chartURL: String
    public var largeChartURL: String

    public init(prefix: String, runID: String, metric: Metric, summary: MetricSummary?) {
        key = metric.key
        last = UIFormat.metric(metric.value)
        lastExact = metric.value.isNaN ? "NaN" : "\(metric.value)"
        step = String(metric.step)
        minimum = summary?.minimum.map(UIFormat.metric) ?? (summary.map { $0.count > 0 ? "NaN" : "—" } ?? "—")
        maximum = summary?.maximum.map(UIFormat.metric) ?? (summary.map { $0.count > 0 ? "NaN" : "—" } ?? "—")
        points = summary.map { String($0.count) } ?? "—"
        let query = "runs=\(UIFormat.queryValue(runID))&key=\(UIFormat.queryValue(metric.key))"
        chartURL = "\(prefix)/charts/metric.svg?\(query)&width=240&height=72"
        largeChartURL = "\(prefix)/charts/metric.svg?\(query)&width=640&height=240"
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
    fileprivate var trimmingSpaces: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return Substring(scalars[first...last])
    }
}
