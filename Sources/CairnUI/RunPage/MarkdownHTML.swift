import Ink

/// Markdown a user wrote (a run's description, the `mlflow.note.content` tag) as HTML that can
/// only ever be markup Cairn chose.
///
/// Ink passes raw HTML through, copies link targets and a code block's language into
/// attributes unescaped, and lets any `&…;` run through as an entity, so its output alone is
/// not safe. The source is escaped before Ink reads it instead: with every `<`, `&` and `"`
/// written as a character reference there is no tag, entity or attribute quote left for it to
/// pass through, and the only markup in the result is what Ink generates. Ink escapes `&` in
/// code once more, which the code modifiers undo one level so code reads as it was written.
/// Link and image targets keep only safe schemes: a `javascript:` (or any other) target
/// leaves its text without a link. A target's title (`[a](url "title")`, which Ink leaves in
/// the URL) becomes the `title` attribute. `<https://…>` autolinks, which Ink does not know,
/// become links. An image on another site is not loaded (the page's CSP would refuse it, and
/// loading it would tell that site who reads the run): it is shown as a link to it.
public enum MarkdownHTML {
    /// Longest source rendered; past it the text is shown as it is (escaped), which keeps a
    /// hostile tag value from costing more than a bounded parse.
    public static let maximumSourceLength = 64 * 1024

    public static func render(_ markdown: String) -> String {
        guard markdown.utf8.count <= maximumSourceLength else {
            return "<pre>" + escapeSource(markdown) + "</pre>"
        }
        let parser = MarkdownParser(modifiers: [
            Modifier(target: .codeBlocks) { input in codeBlock(input.html) },
            Modifier(target: .inlineCode) { input in unescapeOnce(input.html) },
            Modifier(target: .links) { input in link(input.html) },
            Modifier(target: .images) { input in image(input.html) },
        ])
        return autolinks(parser.html(from: escapeSource(markdown)))
    }

    /// The text with CRLF and lone CR as LF. A browser's textarea sends CRLF and Ink only
    /// knows LF: left as they are, a heading swallows the next lines and a code fence never
    /// closes.
    public static func normalizingLineEndings(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\r")) else { return text }
        var out = String.UnicodeScalarView()
        var afterCR = false
        for scalar in text.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            switch scalar {
            case "\r": out.append("\n")
            case "\n" where afterCR: continue
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// `<`, `&` and `"` as references; control characters other than line breaks and tabs
    /// (parse errors in HTML) as U+FFFD; line endings as LF.
    static func escapeSource(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in normalizingLineEndings(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case "\"": out += "&quot;"
            case _ where (scalar.value < 0x20 && !["\n", "\t"].contains(scalar)) || scalar.value == 0x7F: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Ink's code escaping applied to already-escaped source: `&amp;amp;` back to `&amp;`,
    /// `&amp;lt;` to `&lt;`, `&amp;quot;` to `&quot;`, in one left-to-right pass so a
    /// reference the user typed (`&lt;` in code) stays visible as typed.
    static func unescapeOnce(_ html: String) -> String {
        let doubled = ["&amp;amp;": "&amp;", "&amp;lt;": "&lt;", "&amp;quot;": "&quot;"]
        var out = ""
        var rest = Substring(html)
        while let ampersand = rest.firstIndex(of: "&") {
            out += rest[..<ampersand]
            rest = rest[ampersand...]
            if let match = doubled.first(where: { rest.hasPrefix($0.key) }) {
                out += match.value
                rest = rest.dropFirst(match.key.count)
            } else {
                out += "&"
                rest = rest.dropFirst()
            }
        }
        return out + rest
    }

    /// A code block without its language class (the only attribute Ink gives it, copied
    /// from the source); the code itself holds no raw `>`, so the last one before it ends the
    /// opening tag.
    static func codeBlock(_ html: String) -> String {
        let suffix = "</code></pre>"
        guard html.hasPrefix("<pre><code"), html.hasSuffix(suffix) else { return "<pre><code></code></pre>" }
        let head = html.dropLast(suffix.count)
        guard let end = head.lastIndex(of: ">") else { return "<pre><code></code></pre>" }
        return "<pre><code>" + unescapeOnce(String(head[head.index(after: end)...])) + suffix
    }

    /// `<a href="URL">TEXT</a>` from Ink, where URL holds no raw `"` (escaped in the source).
    static func link(_ html: String) -> String {
        let prefix = "<a href=\""
        guard html.hasPrefix(prefix), html.hasSuffix("</a>") else { return "" }
        let afterPrefix = html.dropFirst(prefix.count)
        guard let quote = afterPrefix.firstIndex(of: "\"") else { return "" }
        let (url, title) = target(afterPrefix[..<quote])
        var text = afterPrefix[afterPrefix.index(after: quote)...].dropLast("</a>".count)
        guard text.hasPrefix(">") else { return "" }
        text = text.dropFirst()
        guard isSafeURL(url) else { return String(text) }
        return "<a href=\"\(url)\"\(titleAttribute(title)) rel=\"nofollow noopener noreferrer\">\(text)</a>"
    }

    /// `<img src="URL" alt="TEXT"/>` from Ink; an unsafe target leaves the alt text, and one
    /// on another site becomes a link to it.
    static func image(_ html: String) -> String {
        let prefix = "<img src=\""
        guard html.hasPrefix(prefix) else { return "" }
        let afterPrefix = html.dropFirst(prefix.count)
        guard let quote = afterPrefix.firstIndex(of: "\"") else { return "" }
        let (url, title) = target(afterPrefix[..<quote])
        var alt = ""
        let rest = afterPrefix[afterPrefix.index(after: quote)...]
        if rest.hasPrefix(" alt=\""), let end = rest.dropFirst(6).firstIndex(of: "\"") {
            alt = String(rest.dropFirst(6)[..<end])
        }
        guard isSafeURL(url) else { return alt }
        if hasScheme(url) {
            let text = alt.isEmpty ? String(url) : alt
            return "<a href=\"\(url)\" title=\"External image, not loaded: \(url)\" rel=\"nofollow noopener noreferrer\">🖼 \(text)</a>"
        }
        return "<img src=\"\(url)\" alt=\"\(alt)\"\(titleAttribute(title)) loading=\"lazy\">"
    }

    /// A link's target as Ink leaves it, `URL` or `URL "title"` (`'title'`, `(title)`), split
    /// into the URL and the title (already escaped, as the whole source is).
    /// Anything else is all URL: browsers drop the tabs and line breaks inside one, so
    /// `java<TAB>script:` is read (and refused) whole.
    static func target(_ raw: Substring) -> (url: Substring, title: Substring?) {
        let trimmed = raw.drop { $0 == " " || $0 == "\n" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\n" }) else { return (trimmed, nil) }
        var rest = trimmed[space...].drop { $0 == " " || $0 == "\n" }
        while let last = rest.last, last == " " || last == "\n" { rest = rest.dropLast() }
        for (open, close) in [("&quot;", "&quot;"), ("'", "'"), ("(", ")")]
        where rest.count >= open.count + close.count && rest.hasPrefix(open) && rest.hasSuffix(close) {
            return (trimmed[..<space], rest.dropFirst(open.count).dropLast(close.count))
        }
        return (trimmed, nil)
    }

    static func titleAttribute(_ title: Substring?) -> String {
        guard let title, !title.isEmpty else { return "" }
        return " title=\"\(title)\""
    }

    /// An absolute URL (`https:`), as opposed to a path on this server.
    static func hasScheme(_ url: Substring) -> Bool {
        let compact = url.unicodeScalars.filter { $0.value > 0x20 }
        guard let colon = compact.firstIndex(of: ":") else { return url.hasPrefix("//") }
        return !compact[..<colon].contains { "/?#".unicodeScalars.contains($0) }
    }

    /// `&lt;https://…&gt;` (or `…>`) in the rendered text, outside code, links and tags, as a
    /// link: CommonMark's autolinks (an absolute URL, or an e-mail address), which Ink leaves as text.
    static func autolinks(_ html: String) -> String {
        guard html.contains("&lt;") else { return html }
        var out = ""
        out.reserveCapacity(html.utf8.count)
        let scalars = Array(html.unicodeScalars)
        var index = 0
        var verbatim = 0 // inside <code>, <pre> or <a>
        func starts(_ text: String, at position: Int) -> Bool {
            let pattern = Array(text.unicodeScalars)
            guard position + pattern.count <= scalars.count else { return false }
            return scalars[position..<position + pattern.count].elementsEqual(pattern)
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                // A tag Ink or a modifier wrote: copied whole; its attribute values hold no raw `"`.
                var end = index + 1
                var quoted = false
                while end < scalars.count, quoted || scalars[end] != ">" {
                    if scalars[end] == "\"" { quoted.toggle() }
                    end += 1
                }
                let tag = String(String.UnicodeScalarView(scalars[index..<min(end + 1, scalars.count)]))
                let name = tag.dropFirst().prefix { $0.isLetter || $0 == "/" }.lowercased()
                if ["code", "pre", "a"].contains(name) { verbatim += 1 }
                if ["/code", "/pre", "/a"].contains(name) { verbatim = max(0, verbatim - 1) }
                out += tag
                index = end + 1
                continue
            }
            if verbatim == 0, starts("&lt;", at: index) {
                var end = index + 4
                while end < scalars.count, !starts("&gt;", at: end), scalars[end] != ">", scalars[end] != "<",
                    !scalars[end].properties.isWhitespace, end - index < 2048
                {
                    end += 1
                }
                let candidate = String(String.UnicodeScalarView(scalars[(index + 4)..<end]))
                let closed = end < scalars.count && (scalars[end] == ">" || starts("&gt;", at: end))
                if closed, let href = autolinkTarget(candidate) {
                    out += "<a href=\"\(href)\" rel=\"nofollow noopener noreferrer\">\(candidate)</a>"
                    index = end + (scalars[end] == ">" ? 1 : 4)
                    continue
                }
            }
            out.unicodeScalars.append(scalar)
            index += 1
        }
        return out
    }

    /// The href of an autolink's text: an absolute URL with a safe scheme as it is, an e-mail
    /// address with `mailto:`; nil for anything else (`<b>`, `<x:y>` with another scheme).
    static func autolinkTarget(_ text: String) -> String? {
        if let colon = text.firstIndex(of: ":") {
            let scheme = text[..<colon]
            guard let first = scheme.first, first.isASCII, first.isLetter, (2...32).contains(scheme.count),
                scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }),
                text.index(after: colon) < text.endIndex, isSafeURL(Substring(text))
            else { return nil }
            return text
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".!#$%+-=?^_{|}~".contains($0)) }),
            parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-".contains($0)) })
        else { return nil }
        return "mailto:" + text
    }

    /// A relative reference, or an absolute one with http, https or mailto. Browsers drop
    /// tabs and line breaks inside a URL and ignore leading spaces, so the scheme is read with
    /// them removed; a character reference (`&#106;avascript:`) cannot appear, since every `&`
    /// in the source became `&amp;`.
    static func isSafeURL(_ url: Substring) -> Bool {
        let compact = String(url.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }).lowercased()
        guard let colon = compact.firstIndex(of: ":") else { return true }
        let beforeColon = compact[..<colon]
        // A ':' after a path, query or fragment start is not a scheme separator.
        if beforeColon.contains(where: { "/?#".contains($0) }) { return true }
        return ["http", "https", "mailto"].contains(String(beforeColon))
    }
}
