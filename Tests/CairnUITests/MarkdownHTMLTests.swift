import Foundation
import Testing

@testable import CairnUI

/// A run's description is markdown anyone who can log to the server wrote: it renders as
/// markup Cairn chose, never as the author's HTML or script.
@Suite struct MarkdownHTMLTests {
    @Test func rendersCommonMarkdown() {
        let html = MarkdownHTML.render("# Title\n\nSome **bold** and *italic* text with `code`.\n\n- one\n- two\n\n> quoted\n")
        #expect(html.contains("<h1>Title</h1>"))
        #expect(html.contains("<strong>bold</strong>"))
        #expect(html.contains("<em>italic</em>"))
        #expect(html.contains("<code>code</code>"))
        #expect(html.contains("<li>one</li>"))
        #expect(html.contains("<blockquote>"))
    }

    @Test func crlfAndCRLineEndingsRenderAsLF() {
        // A browser's textarea sends CRLF; an API client may too.
        for newline in ["\r\n", "\r"] {
            let source = ["# Title", "Body line", "", "```", "let x = 1", "```", "", "after"].joined(separator: newline)
            let html = MarkdownHTML.render(source)
            #expect(html == MarkdownHTML.render(source.replacingOccurrences(of: newline, with: "\n")))
            #expect(html.contains("<h1>Title</h1>"))
            #expect(html.contains("<pre><code>let x = 1\n</code></pre>"))
            #expect(html.contains("<p>after</p>"))
            #expect(!html.contains("\r"))
        }
    }

    @Test func htmlInMarkdownIsShownAsText() {
        let html = MarkdownHTML.render("Hi <script>alert(1)</script> and <img src=x onerror=alert(2)>\n\n<div onclick=\"x()\">block</div>")
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<div"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;div onclick=&quot;x()&quot;&gt;block&lt;/div&gt;"))
    }

    @Test func entityRunsCannotSmuggleMarkup() {
        // Ink passes any `&…;` run through verbatim; the source's `&` is escaped first.
        let html = MarkdownHTML.render("&<img/src=x/onerror=alert(1)>; &amp; &#60;b&#62;")
        #expect(!html.contains("<img"))
        #expect(!html.contains("&#60;b"))
        #expect(html.contains("&amp;amp;"))
    }

    @Test func unsafeLinkTargetsLoseTheirLink() {
        let html = MarkdownHTML.render(
            "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(2)) [c](java\tscript:alert(3)) [d](data:text/html,x) [e](vbscript:x)")
        #expect(!html.lowercased().contains("href=\"java"))
        #expect(!html.contains("href=\"data:"))
        #expect(!html.contains("href=\"vbscript:"))
        #expect(!html.contains("<a "))
        for text in ["a", "b", "c", "d", "e"] { #expect(html.contains(text)) }
    }

    @Test func safeLinksKeepTheirTargetAndCannotBreakTheAttribute() {
        let html = MarkdownHTML.render("[docs](https://example.com/a?b=1&c=2) [rel](runs/1) [q](x\" onmouseover=\"alert(1))")
        #expect(html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\">docs</a>"))
        #expect(html.contains("<a href=\"runs/1\""))
        #expect(!html.contains("\" onmouseover=\""))
        #expect(html.contains("&quot; onmouseover=&quot;"))
    }

    @Test func imagesWithUnsafeTargetsAreDropped() {
        let html = MarkdownHTML.render("![alt text](javascript:alert(1)) ![ok](plots/p.png)")
        #expect(!html.contains("javascript"))
        #expect(html.contains("alt text"))
        #expect(html.contains("<img src=\"plots/p.png\" alt=\"ok\" loading=\"lazy\">"))
    }

    @Test func imagesOnOtherSitesAreLinksNotLoads() {
        let html = MarkdownHTML.render("![tracker](https://evil.example/pixel.gif) ![](//cdn.example/x.png)")
        #expect(!html.contains("<img"))
        #expect(
            html.contains(
                "<a href=\"https://evil.example/pixel.gif\" title=\"External image, not loaded: https://evil.example/pixel.gif\" rel=\"nofollow noopener noreferrer\">🖼 tracker</a>"
            ))
        #expect(html.contains("<a href=\"//cdn.example/x.png\""))
    }

    @Test func aTargetsTitleIsATitleNotPartOfTheURL() {
        let html = MarkdownHTML.render(
            "![chart](plots/loss.png \"Loss curve\") [docs](https://example.com/d 'The docs') [x](a.html (paren title)) [y](b.html junk)")
        #expect(html.contains("<img src=\"plots/loss.png\" alt=\"chart\" title=\"Loss curve\" loading=\"lazy\">"), "\(html)")
        #expect(html.contains("<a href=\"https://example.com/d\" title=\"The docs\" rel=\"nofollow noopener noreferrer\">docs</a>"))
        #expect(html.contains("<a href=\"a.html\" title=\"paren title\""))
        #expect(html.contains("<a href=\"b.html junk\" rel="))
        #expect(!html.contains("%22") && !html.contains("src=\"plots/loss.png &quot;"))
        // A title cannot break out of its attribute.
        let hostile = MarkdownHTML.render("[t](u.html \"a\" onmouseover=\"x\")")
        #expect(!hostile.contains("\" onmouseover=\""))
    }

    @Test func autolinksBecomeLinks() {
        let html = MarkdownHTML.render(
            "See <https://example.com/a?b=1&c=2> or <mailto:me@example.com> or <me@example.com>, not <javascript:alert(1)> nor <b>.\n\n`<https://in.code>`"
        )
        #expect(
            html.contains(
                "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\">https://example.com/a?b=1&amp;c=2</a>"),
            "\(html)")
        #expect(html.contains("<a href=\"mailto:me@example.com\" rel=\"nofollow noopener noreferrer\">mailto:me@example.com</a>"))
        #expect(html.contains("<a href=\"mailto:me@example.com\" rel=\"nofollow noopener noreferrer\">me@example.com</a>"))
        #expect(!html.contains("href=\"javascript"))
        #expect(html.contains("&lt;b"))
        #expect(html.contains("<code>&lt;https://in.code"))
        #expect(!html.contains("href=\"https://in.code"))
    }

    @Test func codeShowsWhatWasWritten() {
        let html = MarkdownHTML.render("Inline `a < b && \"c\" &lt;`\n\n```python\" onclick=\"x\nif a < b and c & d: print(\"<b>\")\n```\n")
        #expect(html.contains("<code>a &lt; b &amp;&amp; &quot;c&quot; &amp;lt;</code>"))
        #expect(html.contains("<pre><code>if a &lt; b and c &amp; d: print(&quot;&lt;b&gt;&quot;)\n</code></pre>"))
        #expect(!html.contains("onclick"))
    }

    @Test func hugeSourceIsShownEscaped() {
        let text = String(repeating: "<b>x</b>", count: MarkdownHTML.maximumSourceLength / 4)
        let html = MarkdownHTML.render(text)
        #expect(html.hasPrefix("<pre>"))
        #expect(!html.contains("<b>"))
    }
}
