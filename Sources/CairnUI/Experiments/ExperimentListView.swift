import CairnCore

/// The experiments list: search, view (active, deleted, all), sort, page, and the forms that
/// create, rename, delete, restore and purge. Every link keeps the rest of the state.
public struct ExperimentListView: Sendable {
    /// The list's state, all of it in the URL.
    public struct State: Sendable, Equatable {
        public enum View: String, Sendable, CaseIterable {
            case active, deleted, all

            public var title: String {
                switch self {
                case .active: "Active"
                case .deleted: "Deleted"
                case .all: "All"
                }
            }
        }

        /// A column the list sorts by; `descending` is written as a leading `-` in the URL.
        public enum SortKey: String, Sendable, CaseIterable {
            case name, created, updated

            /// MLflow's `order_by` attribute of the column.
            public var attribute: String {
                switch self {
                case .name: "name"
                case .created: "creation_time"
                case .updated: "last_update_time"
                }
            }
        }

        public static let pageSizes = [10, 25, 50, 100]

        public var query: String = ""
        public var view: View = .active
        public var sort: SortKey = .updated
        public var descending = true
        public var page = 1
        public var pageSize = 25

        public init() {}

        /// The state a query string asks for; a value out of its set is refused, naming it.
        public init(query: (String) -> String?) throws(CairnError) {
            self.query = query("q") ?? ""
            try TrackingValidation.validateText(self.query, name: "q")
            if let view = query("view"), !view.isEmpty {
                guard let value = View(rawValue: view) else {
                    throw .invalidParameter("Unknown view '\(view)': use active, deleted or all.")
                }
                self.view = value
            }
            if let order = query("order"), !order.isEmpty {
                let descending = order.hasPrefix("-")
                guard let key = SortKey(rawValue: String(order.dropFirst(descending ? 1 : 0))) else {
                    throw .invalidParameter("Unknown order '\(order)': use name, created or updated, with a leading '-' for descending.")
                }
                sort = key
                self.descending = descending
            }
            if let page = query("page"), !page.isEmpty {
                guard let number = Int(page), number >= 1, number <= 1_000_000 else {
                    throw .invalidParameter("Invalid page '\(page)': a page is a number from 1.")
                }
                self.page = number
            }
            if let size = query("size"), !size.isEmpty {
                guard let number = Int(size), Self.pageSizes.contains(number) else {
                    throw .invalidParameter("Invalid page size '\(size)': use 10, 25, 50 or 100.")
                }
                pageSize = number
            }
        }

        public var order: String { (descending ? "-" : "") + sort.rawValue }

        /// `/experiments?…` for this state, leaving out defaults.
        public var path: String {
            let defaults = State()
            return "/experiments"
                + UIFormat.query([
                    ("q", query),
                    ("view", view == defaults.view ? nil : view.rawValue),
                    ("order", order == defaults.order ? nil : order),
                    ("size", pageSize == defaults.pageSize ? nil : String(pageSize)),
                    ("page", page == 1 ? nil : String(page)),
                ])
        }

        public func with(_ change: (inout State) -> Void) -> State {
            var copy = self
            change(&copy)
            return copy
        }
    }

    public struct Row: Sendable {
        public var id: String
        public var name: String
        public var href: String
        public var created: String
        public var createdAgo: String
        public var updated: String
        public var updatedAgo: String
        public var deleted: Bool
        public var stage: String
        public var renameAction: String
        public var deleteHref: String
        public var restoreAction: String
        public var purgeHref: String
        /// The default experiment cannot be deleted.
        public var deletable: Bool
    }

    public struct Tab: Sendable {
        public var title: String
        public var href: String
        public var current: Bool
    }

    public struct Header: Sendable {
        public var title: String
        public var href: String
        /// `ascending`/`descending` on the column the list is sorted by (`aria-sort`).
        public var sort: String?
    }

    public struct Option: Sendable {
        public var value: String
        public var title: String
        public var selected: Bool
    }

    public var state: State
    public var query: String
    public var view: String
    public var order: String
    public var pageSize: String
    public var tabs: [Tab]
    public var headers: [Header]
    public var sizes: [Option]
    public var rows: [Row]
    public var hasRows: Bool
    public var emptyMessage: String
    public var pager: Pager
    public var listAction: String
    public var createAction: String
    public var returnPath: String
    public var createName: String
    public var error: String?
    public var notice: String?

    /// - Parameters:
    ///   - url: the URL of a UI path under the static prefix.
    public init(
        state: State, experiments: [Experiment], total: Int, now: Int64, url: (String) -> String, createName: String = "",
        error: String? = nil, notice: String? = nil
    ) {
        self.state = state
        query = state.query
        view = state.view.rawValue
        order = state.order
        pageSize = String(state.pageSize)
        tabs = State.View.allCases.map { view in
            Tab(
                title: view.title,
                href: url(
                    state.with {
                        $0.view = view
                        $0.page = 1
                    }.path), current: view == state.view)
        }
        headers = [(State.SortKey.name, "Name"), (.created, "Created"), (.updated, "Last modified")].map { key, title in
            // A click on the sorted column flips it; on another sorts names A→Z and times newest first.
            let descending = key == state.sort ? !state.descending : key != .name
            let target = state.with {
                $0.sort = key
                $0.descending = descending
                $0.page = 1
            }
            return Header(
                title: title, href: url(target.path), sort: key == state.sort ? (state.descending ? "descending" : "ascending") : nil)
        }
        sizes = State.pageSizes.map { Option(value: String($0), title: "\($0) per page", selected: $0 == state.pageSize) }
        let returnPath = state.path
        self.returnPath = returnPath
        rows = experiments.map { experiment in
            let base = "/experiments/\(UIFormat.pathSegment(experiment.experimentID))"
            let back = UIFormat.query([("back", returnPath)])
            return Row(
                id: experiment.experimentID, name: experiment.name, href: url(base),
                created: UIFormat.time(milliseconds: experiment.creationTime),
                createdAgo: UIFormat.relative(milliseconds: experiment.creationTime, now: now),
                updated: UIFormat.time(milliseconds: experiment.lastUpdateTime),
                updatedAgo: UIFormat.relative(milliseconds: experiment.lastUpdateTime, now: now),
                deleted: experiment.lifecycleStage == .deleted, stage: experiment.lifecycleStage.rawValue,
                renameAction: url(base + "/rename"), deleteHref: url(base + "/delete" + back), restoreAction: url(base + "/restore"),
                purgeHref: url(base + "/purge" + back), deletable: experiment.experimentID != "0")
        }
        hasRows = !rows.isEmpty
        emptyMessage =
            state.query.isEmpty
            ? (state.view == .deleted ? "No deleted experiments." : "No experiments yet.")
            : "No experiment's name contains “\(state.query)”."
        pager = Pager(page: state.page, pageSize: state.pageSize, total: total) { number in url(state.with { $0.page = number }.path) }
        listAction = url("/experiments")
        createAction = url("/experiments")
        self.createName = createName
        self.error = error
        self.notice = notice
    }
}

/// A page that asks before an action that cannot be taken back (delete, purge).
public struct ConfirmView: Sendable {
    public var heading: String
    public var message: String
    public var details: [String]
    public var action: String
    public var button: String
    public var cancelHref: String
    public var returnPath: String
    /// The button is styled as dangerous.
    public var danger: Bool
    public var error: String?

    public init(
        heading: String, message: String, details: [String] = [], action: String, button: String, cancelHref: String, returnPath: String,
        danger: Bool = true, error: String? = nil
    ) {
        self.heading = heading
        self.message = message
        self.details = details
        self.action = action
        self.button = button
        self.cancelHref = cancelHref
        self.returnPath = returnPath
        self.danger = danger
        self.error = error
    }
}
