extension UITemplates {
    /// The layout and the pieces every area uses: `{{> csrf_field}}` inside each form that
    /// changes something, `{{> error_notice}}` for a view model's optional `error` message,
    /// `{{> pager}}` for page links.
    static let core: [(name: String, source: String)] = [
        ("layout", LayoutTemplate.source),
        ("csrf_field", #"<input type="hidden" name="csrf_token" value="{{csrfToken}}">"#),
        ("error_notice", #"{{#error}}<div class="notice error" role="alert">{{error}}</div>{{/error}}"#),
        // `{{#pager}}{{> pager}}{{/pager}}` under a list, for a `Pager`.
        (
            "pager",
            #"""
            <nav class="pager" aria-label="Pages"><span class="summary">{{summary}}</span>{{#hasPages}}{{#previousHref}}<a href="{{previousHref}}" rel="prev">‹ Previous</a>{{/previousHref}}{{#items}}{{#gapBefore}}<span class="gap">…</span>{{/gapBefore}}{{#current}}<span aria-current="page">{{number}}</span>{{/current}}{{^current}}<a href="{{href}}">{{number}}</a>{{/current}}{{/items}}{{#nextHref}}<a href="{{nextHref}}" rel="next">Next ›</a>{{/nextHref}}{{/hasPages}}</nav>
            """#
        ),
        (
            "error_page",
            #"""
            <div class="page-head"><div><h1>{{heading}}</h1></div></div>
            <div class="card">
            <p>{{message}}</p>
            <p class="muted small">Error code <code>{{code}}</code></p>
            <p><a href="{{homeURL}}">Back to the experiments</a></p>
            </div>
            """#
        ),
    ]
}

/// The view model of the error page every group of pages renders (`ErrorRendering.htmlPage`).
public struct ErrorPageView: Sendable {
    public var heading: String
    public var message: String
    public var code: String

    public init(heading: String, message: String, code: String) {
        self.heading = heading
        self.message = message
        self.code = code
    }
}
