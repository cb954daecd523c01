/// `/pipelines/{name}`: the DAG with the last run's states, and the runs with their triggers.
public struct PipelineView: Sendable {
    public struct Run: Sendable {
        public var id: String
        public var href: String
        public var status: String
        public var trigger: String
        public var triggerEvent: String
        public var started: String
        public var startedTitle: String
        public var duration: String
        public var reason: String

        public init(
            id: String, href: String, status: String, trigger: String, triggerEvent: String, started: String, startedTitle: String,
            duration: String, reason: String
        ) {
            self.id = id
            self.href = href
            self.status = status
            self.trigger = trigger
            self.triggerEvent = triggerEvent
            self.started = started
            self.startedTitle = startedTitle
            self.duration = duration
            self.reason = reason
        }
    }

    public var name: String
    public var projectDirectory: String
    public var specFile: String
    /// The drawn graph, SVG Cairn made from escaped names.
    public var dagSVG: String
    /// Why there is no graph (the spec no longer loads), when there is none.
    public var specError: String?
    public var stageCount: Int
    public var edgeCount: Int
    public var runs: [Run]
    public var hasRuns: Bool

    public init(
        name: String, projectDirectory: String, specFile: String, dagSVG: String, specError: String?, stageCount: Int, edgeCount: Int,
        runs: [Run]
    ) {
        self.name = name
        self.projectDirectory = projectDirectory
        self.specFile = specFile
        self.dagSVG = dagSVG
        self.specError = specError
        self.stageCount = stageCount
        self.edgeCount = edgeCount
        self.runs = runs
        hasRuns = !runs.isEmpty
    }
}
