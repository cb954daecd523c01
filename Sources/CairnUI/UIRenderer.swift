import CairnCore
import Mustache

/// Renders pages: the library of every registered template (`UITemplates.all`), each page's
/// template rendered with its view model inside the layout. Values reach the HTML only through
/// Mustache's `{{name}}`, which escapes them; `{{{…}}}` is kept for HTML Cairn itself made
/// (the layout's content slot, charts).
public struct UIRenderer: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case unparsable(template: String, reason: String)
        case unknown(template: String)

        public var description: String {
            switch self {
            case .unparsable(let name, let reason): "UI template '\(name)' does not parse: \(reason)"
            case .unknown(let name): "No UI template named '\(name)'"
            }
        }
    }

    let library: MustacheLibrary
    let names: Set<String>

    /// The renderer of every template compiled into Cairn. Parsing cannot fail at run time for
    /// templates a test has parsed (`UIRendererTests.everyRegisteredTemplateParses`).
    public static let standard: UIRenderer = {
        do {
            return try UIRenderer(templates: UITemplates.all)
        } catch {
            fatalError("\(error)")
        }
    }()

    public init(templates: [(name: String, source: String)]) throws(Failure) {
        var library = MustacheLibrary()
        var names: Set<String> = []
        for (name, source) in templates {
            do {
                try library.register(source, named: name)
                // Page templates are rendered inside the chrome's context, so `{{prefix}}` and
                // `{{csrfToken}}` resolve in every page without each view model repeating them.
                try library.register("{{#chrome}}{{#page}}{{> \(name)}}{{/page}}{{/chrome}}", named: Self.scoped(name))
            } catch {
                throw .unparsable(template: name, reason: "\(error)")
            }
            names.insert(name)
        }
        self.library = library
        self.names = names
    }

    static func scoped(_ name: String) -> String { "cairn.page." + name }

    /// The whole document: `page`'s template rendered with `content` (a view model: a struct
    /// Mustache reads by reflection) inside the layout, titled `title`.
    public func render(page: String, title: String, content: Any, chrome: PageChrome) throws(Failure) -> String {
        let scope = ChromeView(chrome, title: title)
        let body = try fragment(Self.scoped(page), PageScope(chrome: scope, page: content), name: page)
        var layout = scope
        layout.content = body
        return try fragment("layout", layout, name: "layout")
    }

    /// One template rendered alone (an SVG, a table fragment), without the layout.
    public func render(fragment name: String, content: Any) throws(Failure) -> String {
        try fragment(name, content, name: name)
    }

    private func fragment(_ template: String, _ object: Any, name: String) throws(Failure) -> String {
        guard names.contains(name), let text = library.render(object, withTemplate: template) else { throw .unknown(template: name) }
        return text
    }
}

/// What the layout and every page template can read about the page around them.
struct ChromeView {
    struct Link {
        var title: String
        var href: String
        var active: Bool
    }

    struct Crumb {
        var title: String
        var href: String?
    }

    var prefix: String
    var csrfToken: String
    var title: String
    var nav: [Link]
    var breadcrumbs: [Crumb]
    var hasBreadcrumbs: Bool
    var stylesheetURL: String
    var scriptURL: String
    var version: String
    var homeURL: String
    var refreshSeconds: Int?
    /// The page's HTML, set once the page is rendered.
    var content = ""

    init(_ chrome: PageChrome, title: String) {
        prefix = chrome.staticPrefix
        csrfToken = chrome.csrfToken
        self.title = title
        nav = PageChrome.Section.allCases.map {
            Link(title: $0.title, href: chrome.url("/" + $0.rawValue), active: $0 == chrome.section)
        }
        breadcrumbs = chrome.breadcrumbs.map { Crumb(title: $0.title, href: $0.path.map(chrome.url)) }
        hasBreadcrumbs = !breadcrumbs.isEmpty
        stylesheetURL = chrome.url(UIAsset.stylesheet.path)
        scriptURL = chrome.url(UIAsset.script.path)
        version = CairnVersion.current
        homeURL = chrome.url("/")
        refreshSeconds = chrome.refreshSeconds
    }
}

/// The two contexts a page template is rendered in: the chrome below, its own view model on top.
struct PageScope {
    var chrome: ChromeView
    var page: Any
}
