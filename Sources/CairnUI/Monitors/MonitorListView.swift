/// `/monitors`: every monitor with what it watches and its state.
public struct MonitorListView: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var href: String
        public var model: LinkItem
        public var alias: String?
        public var checks: String
        public var lastRun: String
        public var lastRunTitle: String
        public var openAlerts: Int
        public var firing: Bool

        public init(
            name: String, href: String, model: LinkItem, alias: String?, checks: String, lastRun: String, lastRunTitle: String,
            openAlerts: Int
        ) {
            self.name = name
            self.href = href
            self.model = model
            self.alias = alias
            self.checks = checks
            self.lastRun = lastRun
            self.lastRunTitle = lastRunTitle
            self.openAlerts = openAlerts
            self.firing = openAlerts > 0
        }
    }

    public var rows: [Row]
    public var empty: Bool

    public init(rows: [Row]) {
        self.rows = rows
        self.empty = rows.isEmpty
    }
}
