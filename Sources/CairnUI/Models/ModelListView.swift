/// `/models?q=&page=`: registered models whose name contains `q`, a page at a time.
public struct ModelListView: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var href: String
        public var latestVersion: String?
        public var aliases: String
        public var description: String
        public var updated: String
        public var updatedTitle: String

        public init(
            name: String, href: String, latestVersion: String?, aliases: String, description: String, updated: String, updatedTitle: String
        ) {
            self.name = name
            self.href = href
            self.latestVersion = latestVersion
            self.aliases = aliases
            self.description = description
            self.updated = updated
            self.updatedTitle = updatedTitle
        }
    }

    /// Nil when there is no search.
    public var query: String?
    public var action: String
    public var rows: [Row]
    public var empty: Bool
    public var previousHref: String?
    public var nextHref: String?
    public var pageNumber: Int

    public init(query: String?, action: String, rows: [Row], previousHref: String?, nextHref: String?, pageNumber: Int) {
        self.query = query.flatMap { $0.isEmpty ? nil : $0 }
        self.action = action
        self.rows = rows
        self.empty = rows.isEmpty
        self.previousHref = previousHref
        self.nextHref = nextHref
        self.pageNumber = pageNumber
    }
}
