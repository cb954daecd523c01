import CairnCore
import CairnUI
import HTTPTypes
import Hummingbird
import NIOCore

/// What every page controller shares: the renderer, where the UI is mounted, and how a page
/// becomes a response (the layout, the CSRF cookie its forms need, the security headers).
public struct UIPages: Sendable {
    public let renderer: UIRenderer
    /// `""` or `/sub`: the server's `--static-prefix`, at the front of every link.
    public let staticPrefix: String

    public init(renderer: UIRenderer = .standard, staticPrefix: String = "") {
        self.renderer = renderer
        self.staticPrefix = staticPrefix
    }

    /// The URL of a UI path under the prefix.
    public func url(_ path: String) -> String {
        PageChrome(staticPrefix: staticPrefix).url(path)
    }

    /// The chrome of a page answering `request`: its CSRF token is the one the browser already
    /// holds, or a new one that `page` sets as the cookie.
    public func chrome(
        for request: Request, section: PageChrome.Section?, breadcrumbs: [PageChrome.Breadcrumb] = [], refreshSeconds: Int? = nil
    ) -> PageChrome {
        PageChrome(
            staticPrefix: staticPrefix, csrfToken: PageForm.csrfCookie(of: request) ?? CairnID.make(), section: section,
            breadcrumbs: breadcrumbs, refreshSeconds: refreshSeconds)
    }

    /// `template` rendered with `content` inside the layout, as an HTML response.
    public func page(
        _ template: String, title: String, content: Any, chrome: PageChrome, request: Request, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        let html: String
        do {
            html = try renderer.render(page: template, title: title, content: content, chrome: chrome)
        } catch {
            throw CairnError(.internalError, "\(error)")
        }
        var response = Self.html(html, status: status)
        if PageForm.csrfCookie(of: request) != chrome.csrfToken {
            response.setCookie(PageForm.cookie(token: chrome.csrfToken, staticPrefix: staticPrefix))
        }
        return response
    }

    /// `303 See Other` to a UI path: where a form goes after its action succeeds.
    public func redirect(to path: String) -> Response {
        Response(status: .seeOther, headers: [.location: url(path)])
    }

    /// What a page may load: its own stylesheet, script, images and frames, and `data:` images
    /// (the layout's icon). No inline script or style runs (the pages have none: charts drawn
    /// inside a page take their rules from the stylesheet), an image a description points
    /// elsewhere is not fetched, and forms post only here.
    public static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'self'; form-action 'self'"

    /// A finished HTML document as a response: never sniffed, never framed by another site.
    static func html(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        addSecurityHeaders(&headers)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The headers every HTML page carries, whoever writes it.
    static func addSecurityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "SAMEORIGIN"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
    }
}
