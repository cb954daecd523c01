/// What the layout around every page needs: where the UI is mounted, the CSRF token its forms
/// carry, which section of the header is active and the breadcrumbs. Built by the server per
/// request; page templates see its fields (`{{prefix}}`, `{{csrfToken}}`) as well as their own.
public struct PageChrome: Sendable {
    /// The header's sections, in the order they are shown.
    public enum Section: String, Sendable, CaseIterable {
        case experiments
        case models
        case monitors
        case pipelines

        public var title: String {
            switch self {
            case .experiments: "Experiments"
            case .models: "Models"
            case .monitors: "Monitors"
            case .pipelines: "Pipelines"
            }
        }
    }

    /// One step of the trail above a page's title; the last one is the page itself and has no link.
    public struct Breadcrumb: Sendable, Equatable {
        public var title: String
        /// A path under the static prefix (`/experiments/3`), or nil for the current page.
        public var path: String?

        public init(_ title: String, path: String? = nil) {
            self.title = title
            self.path = path
        }
    }

    /// `""` or a path such as `/sub` (no trailing slash), prepended to every link and asset.
    public var staticPrefix: String
    public var csrfToken: String
    public var section: Section?
    public var breadcrumbs: [Breadcrumb]
    /// Reload the page every so many seconds while it is visible (live views); nil for never.
    public var refreshSeconds: Int?

    public init(
        staticPrefix: String = "", csrfToken: String = "", section: Section? = nil, breadcrumbs: [Breadcrumb] = [],
        refreshSeconds: Int? = nil
    ) {
        self.staticPrefix = staticPrefix
        self.csrfToken = csrfToken
        self.section = section
        self.breadcrumbs = breadcrumbs
        self.refreshSeconds = refreshSeconds
    }

    /// The URL of a path of the UI (`/experiments?q=a`) under the static prefix.
    public func url(_ path: String) -> String {
        staticPrefix + (path.hasPrefix("/") ? path : "/" + path)
    }
}
