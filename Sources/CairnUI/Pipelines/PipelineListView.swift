/// `/pipelines`: registered pipelines with their last run.
public struct PipelineListView: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var href: String
        public var projectDirectory: String
        public var lastRun: LinkItem?
        public var state: String
        public var trigger: String
        public var started: String
        public var startedTitle: String

        public init(
            name: String, href: String, projectDirectory: String, lastRun: LinkItem?, state: String, trigger: String, started: String,
            startedTitle: String
        ) {
            self.name = name
            self.href = href
            self.projectDirectory = projectDirectory
            self.lastRun = lastRun
            self.state = state
            self.trigger = trigger
            self.started = started
            self.startedTitle = startedTitle
        }
    }

    public var rows: [Row]
    public var empty: Bool

    public init(rows: [Row]) {
        self.rows = rows
        self.empty = rows.isEmpty
    }
}
