import CairnCore
import Foundation
import Testing

@testable import CairnUI

@Suite struct UIRendererTests {
    struct Greeting {
        var name: String
        var items: [String]
    }

    static func renderer() throws -> UIRenderer {
        try UIRenderer(
            templates: UITemplates.core + [
                (
                    "greeting",
                    "<p>Hello {{name}}</p><ul>{{#items}}<li>{{.}}</li>{{/items}}</ul><a href=\"{{prefix}}/x\">x</a>{{> csrf_field}}"
                )
            ])
    }

    @Test func everyRegisteredTemplateParsesAndNamesAreUnique() throws {
        let names = UITemplates.all.map(\.name)
        #expect(Set(names).count == names.count)
        _ = try UIRenderer(templates: UITemplates.all)
        #expect(UIRenderer.standard.names.contains("layout"))
    }

    @Test func aTemplateThatDoesNotParseIsNamed() {
        #expect(throws: UIRenderer.Failure.self) { try UIRenderer(templates: [("broken", "{{#open}}never closed")]) }
    }

    @Test func everyValueIsEscaped() throws {
        let hostile = "<script>alert('x')</script>&\""
        let html = try Self.renderer().render(
            page: "greeting", title: hostile, content: Greeting(name: hostile, items: [hostile]),
            chrome: PageChrome(
                staticPrefix: "/sub", csrfToken: "\"><b>", breadcrumbs: [.init(hostile, path: "/experiments"), .init(hostile)]))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("<p>Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</p>"))
        #expect(html.contains("<li>&lt;script&gt;"))
        #expect(html.contains("<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot; · Cairn</title>"))
        #expect(html.contains(#"name="csrf_token" value="&quot;&gt;&lt;b&gt;""#))
    }

    @Test func theLayoutCarriesTheChrome() throws {
        let html = try Self.renderer().render(
            page: "greeting", title: "Runs", content: Greeting(name: "a", items: []),
            chrome: PageChrome(
                staticPrefix: "/sub", csrfToken: "t", section: .models, breadcrumbs: [.init("Models", path: "/models"), .init("churn")],
                refreshSeconds: 30))
        // The page sees the chrome's fields beside its own.
        #expect(html.contains(#"<a href="/sub/x">x</a>"#))
        #expect(html.contains(#"<input type="hidden" name="csrf_token" value="t">"#))
        #expect(html.contains(#"<link rel="stylesheet" href="/sub/static-files/cairn.css?v=\#(UIAsset.stylesheet.version)">"#))
        #expect(html.contains(#"<script src="/sub/static-files/cairn.js?v=\#(UIAsset.script.version)" defer></script>"#))
        #expect(html.contains(#"<html lang="en" data-prefix="/sub">"#))
        for section in ["experiments", "monitors", "pipelines"] {
            #expect(html.contains(#"<a href="/sub/\#(section)">"#))
        }
        #expect(html.contains(#"<a href="/sub/models" aria-current="page">Models</a>"#))
        #expect(html.contains(#"<li><a href="/sub/models">Models</a></li><li><span aria-current="page">churn</span></li>"#))
        #expect(html.contains(#"<body data-refresh="30">"#))
        #expect(html.hasPrefix("<!doctype html>"))
        // An inline icon: no request for /favicon.ico, so no 404 in a browser's console.
        #expect(html.contains(#"<link rel="icon" href="data:image/svg+xml,"#))
    }

    @Test func anUnknownTemplateIsAnError() throws {
        #expect(throws: UIRenderer.Failure.self) {
            try Self.renderer().render(page: "nope", title: "", content: Greeting(name: "", items: []), chrome: PageChrome())
        }
    }

    /// Column headers are small grey capitals; row headers (run names, param and metric keys,
    /// model names) keep their case, and only links without their own arrow get the CSS one.
    @Test func headerStylesReachOnlyColumnHeaders() {
        let rules = UIAsset.stylesheet.body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.hasPrefix("/*")
        }
        let upperCased = rules.filter { $0.contains("text-transform: uppercase") }
        #expect(!upperCased.isEmpty)
        for rule in upperCased + rules.filter({ $0.contains("::after") && $0.contains("aria-sort") }) {
            let selectors = rule.prefix { $0 != "{" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(selectors.allSatisfy { $0.hasPrefix("thead th") || !$0.contains("th") }, "\(rule)")
        }
        #expect(rules.contains { $0.hasPrefix("thead th[aria-sort] a:not(.has-arrow)::after") })
        // User text in a column header keeps its case through one class, not inline styles.
        #expect(rules.contains { $0.hasPrefix("thead th.verbatim {") && $0.contains("text-transform: none") })
        #expect(UITemplates.all.allSatisfy { !$0.source.contains("text-transform") })
        #expect(rules.contains { $0.hasPrefix(".run-name {") && $0.contains("text-overflow: ellipsis") && $0.contains("max-width") })
    }

    @Test func assetsAreVersionedByContent() {
        #expect(UIAsset.stylesheet.version.count == 16)
        #expect(
            UIAsset(name: "a", contentType: "text/plain", body: "x").version
                != UIAsset(name: "a", contentType: "text/plain", body: "y").version)
        #expect(UIAsset.stylesheet.body.contains("prefers-color-scheme: dark"))
        #expect(UIAsset.script.body.contains("location.replace"))
    }
}

@Suite struct PagerTests {
    @Test func linksFirstLastAndTheNeighbourhood() {
        let pager = Pager(page: 7, pageSize: 10, total: 200) { "/p?page=\($0)" }
        #expect(pager.items.map(\.number) == [1, 5, 6, 7, 8, 9, 20])
        #expect(pager.items.map(\.gapBefore) == [false, true, false, false, false, false, true])
        #expect(pager.items.filter(\.current).map(\.number) == [7])
        #expect(pager.previousHref == "/p?page=6")
        #expect(pager.nextHref == "/p?page=8")
        #expect(pager.summary == "61–70 of 200")
        #expect(pager.pageCount == 20)
    }

    @Test func oneOrNoPage() {
        let empty = Pager(page: 1, pageSize: 25, total: 0) { "\($0)" }
        #expect(empty.summary == "No results")
        #expect(!empty.hasPages)
        #expect(empty.nextHref == nil && empty.previousHref == nil)
        let last = Pager(page: 3, pageSize: 25, total: 60) { "\($0)" }
        #expect(last.summary == "51–60 of 60")
        #expect(last.nextHref == nil)
        let beyond = Pager(page: 9, pageSize: 25, total: 60) { "\($0)" }
        #expect(beyond.summary == "No page 9: 3 pages, 60 in all")
        #expect(beyond.pastEnd && !last.pastEnd && !empty.pastEnd)
        #expect(beyond.previousHref == "3")
    }
}

@Suite struct UIFormatTests {
    @Test func metricsAsMLflowShowsThem() {
        #expect(UIFormat.metric(Double.greatestFiniteMagnitude) == "∞")
        #expect(UIFormat.metric(-Double.greatestFiniteMagnitude) == "-∞")
        #expect(UIFormat.metric(.infinity) == "∞")
        #expect(UIFormat.metric(.nan) == "NaN")
        #expect(UIFormat.metric(3) == "3")
        #expect(UIFormat.metric(0.123456789) == "0.123457")
        #expect(UIFormat.metric(1.5e-7) == "1.5000e-07")
    }

    @Test func timesInUTC() {
        #expect(UIFormat.time(milliseconds: 0) == "1970-01-01 00:00:00")
        #expect(UIFormat.time(milliseconds: 1_796_648_709_000) == "2026-12-07 13:05:09")
        #expect(UIFormat.time(milliseconds: -1000) == "1969-12-31 23:59:59")
        #expect(UIFormat.relative(milliseconds: 0, now: 10_000) == "just now")
        #expect(UIFormat.relative(milliseconds: 0, now: 3 * 60_000) == "3 minutes ago")
        #expect(UIFormat.relative(milliseconds: 2 * 86_400_000, now: 0) == "in 2 days")
        #expect(UIFormat.duration(milliseconds: 65_000) == "1m 05s")
    }

    @Test func queryValuesAreEncoded() {
        #expect(UIFormat.query([("q", "a b&c=d/é"), ("view", nil), ("page", "")]) == "?q=a%20b%26c%3Dd%2F%C3%A9")
        #expect(UIFormat.query([]) == "")
    }
}
