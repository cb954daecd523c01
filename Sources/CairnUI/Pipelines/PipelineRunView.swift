/// `/pipelines/{name}/runs/{id}`: the run, its trigger, each stage with its logs, and the
/// promotion log entries its gate wrote.
public struct PipelineRunView: Sendable {
    public struct Stage: Sendable {
        public var name: String
        public var anchor: String
        public var status: String
        public var cacheHit: Bool
        public var attempts: Int
        public var started: String
        public var duration: String
        /// Why it failed or was skipped (named apart from the run's `reason`, which Mustache
        /// would show in its place when this is nil).
        public var stageReason: String?
        /// The stage's MLflow run (named apart from the pipeline run's `mlflowRun`: Mustache
        /// looks a missing value up in the enclosing context).
        public var stageRun: LinkItem?
        public var sourceRun: String?
        public var stdout: String
        public var stderr: String
        public var logsTruncated: Bool
        public var hasLogs: Bool
        public var hasStdout: Bool
        public var hasStderr: Bool

        public init(
            name: String, anchor: String, status: String, cacheHit: Bool, attempts: Int, started: String, duration: String,
            stageReason: String?,
            stageRun: LinkItem?, sourceRun: String?, stdout: String, stderr: String, logsTruncated: Bool
        ) {
            self.name = name
            self.anchor = anchor
            self.status = status
            self.cacheHit = cacheHit
            self.attempts = attempts
            self.started = started
            self.duration = duration
            self.stageReason = stageReason
            self.stageRun = stageRun
            self.sourceRun = sourceRun
            self.stdout = stdout
            self.stderr = stderr
            self.logsTruncated = logsTruncated
            self.hasLogs = !stdout.isEmpty || !stderr.isEmpty
            self.hasStdout = !stdout.isEmpty
            self.hasStderr = !stderr.isEmpty
        }
    }

    public var pipeline: String
    public var pipelineHref: String
    public var id: String
    public var status: String
    public var trigger: String
    public var triggerEvent: String
    public var started: String
    public var startedTitle: String
    public var duration: String
    public var reason: String?
    public var mlflowRun: LinkItem?
    public var resumedFrom: LinkItem?
    public var dagSVG: String
    public var stages: [Stage]
    public var promotions: [ModelVersionView.Promotion]
    public var hasTriggerEvent: Bool
    public var hasPromotions: Bool

    public init(
        pipeline: String, pipelineHref: String, id: String, status: String, trigger: String, triggerEvent: String, started: String,
        startedTitle: String, duration: String, reason: String?, mlflowRun: LinkItem?, resumedFrom: LinkItem?, dagSVG: String,
        stages: [Stage], promotions: [ModelVersionView.Promotion]
    ) {
        self.pipeline = pipeline
        self.pipelineHref = pipelineHref
        self.id = id
        self.status = status
        self.trigger = trigger
        self.triggerEvent = triggerEvent
        self.started = started
        self.startedTitle = startedTitle
        self.duration = duration
        self.reason = reason
        self.mlflowRun = mlflowRun
        self.resumedFrom = resumedFrom
        self.dagSVG = dagSVG
        self.stages = stages
        self.promotions = promotions
        hasTriggerEvent = !triggerEvent.isEmpty
        hasPromotions = !promotions.isEmpty
    }
}
