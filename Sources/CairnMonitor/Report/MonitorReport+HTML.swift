import CairnCore
import CairnStatistics
import Foundation

extension MonitorReport {
    /// The report as one self-contained HTML page: inline style and SVG only, so it can be saved,
    /// mailed or opened offline. Every value that reaches the page goes through `HTML.escape`,
    /// because feature names, categories, model names and messages all come from users.
    public func html() -> String {
        let title = HTML.escape("\(monitorName) · Cairn monitor report")
        let sections = [headerSection(), summarySection(), featureSection(), predictionSection(), qualitySection(), notesSection()]
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>\(reportCSS)</style>
            </head>
            <body>
            <main>
            \(sections.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    private func headerSection() -> String {
        let e = HTML.escape
        let subtitle = [("model", model), ("alias", alias), ("version", version)]
            .compactMap { name, value in value.map { "\(name) <b>\(e($0))</b>" } }
            .joined(separator: " · ")
        let facts: [(String, String)] = [
            ("Generated", HTML.timestamp(generatedAt)),
            (
                "Window",
                window.startMs == nil && window.endMs == nil ? "—" : "\(HTML.timestamp(window.startMs)) – \(HTML.timestamp(window.endMs))"
            ),
            ("Requests", String(window.requests)),
            ("Rows", String(window.rows)),
            ("Labelled rows", String(window.labeledRows)),
            ("Reference rows", referenceRows.map(String.init) ?? "—"),
            ("Monitor", monitorID),
        ]
        let dl = facts.map { "<div><dt>\(e($0.0))</dt><dd>\(e($0.1))</dd></div>" }.joined()
        return "<header><h1>\(e(monitorName))</h1><p class=\"sub\">\(subtitle)</p><dl class=\"facts\">\(dl)</dl></header>"
    }

    private func summarySection() -> String {
        let e = HTML.escape
        var cards: [String] = []
        if let drift = dataDrift {
            cards.append(
                HTML.card(
                    "Dataset drift", badge: HTML.badge(drift.drifted, yes: "drifted", no: "no drift"),
                    lines: [
                        "<span class=\"big\">\(drift.driftedCount) of \(drift.features.count)</span> features drifted",
                        "share \(HTML.percent(drift.driftedShare)) vs threshold \(HTML.percent(drift.threshold))",
                    ]))
        } else {
            cards.append(
                HTML.card(
                    "Dataset drift", badge: HTML.muted("not computed"), lines: ["No reference profile or no logged rows in the window."]))
        }
        if let drift = predictionDrift {
            cards.append(
                HTML.card(
                    "Prediction drift", badge: HTML.badge(drift.drifted, yes: "drifted", no: "no drift"),
                    lines: [
                        "<span class=\"big\">\(HTML.compact(drift.score))</span> \(e(drift.method.displayName))",
                        "threshold \(HTML.compact(drift.threshold))",
                    ]))
        } else {
            cards.append(
                HTML.card("Prediction drift", badge: HTML.muted("not computed"), lines: ["No predictions to compare with a reference."]))
        }
        let latency = [service.latencyP50Ms, service.latencyP95Ms, service.latencyP99Ms].map(HTML.milliseconds).joined(separator: " / ")
        cards.append(
            HTML.card(
                "Service", badge: "",
                lines: [
                    "<span class=\"big\">\(service.requests)</span> requests",
                    "server errors (5xx) \(HTML.percent(service.errorRate)) · client errors (4xx) \(HTML.percent(service.clientErrorRate))",
                    "p50 / p95 / p99 \(latency)",
                ]))
        let checkRows = checks.map { check in
            let value = check.value.map(HTML.compact) ?? "—"
            return
                "<li>\(HTML.badge(check.firing, yes: "firing", no: "ok")) <b>\(e(check.check))</b> \(value) vs \(HTML.compact(check.threshold))<br><span class=\"msg\">\(e(check.message))</span></li>"
        }
        let checkList = checks.isEmpty ? "<p class=\"muted\">No checks configured.</p>" : "<ul class=\"checks\">\(checkRows.joined())</ul>"
        let firing = checks.filter(\.firing).count
        cards.append(
            "<div class=\"card wide\"><h3>Checks \(checks.isEmpty ? "" : HTML.badge(firing > 0, yes: "\(firing) firing", no: "all ok"))</h3>\(checkList)</div>"
        )
        return "<section><h2>Summary</h2><div class=\"cards\">\(cards.joined())</div></section>"
    }

    private func featureSection() -> String {
        let e = HTML.escape
        let drifts = dataDrift?.features ?? []
        // Histograms without a verdict (no drift run yet) still deserve a row: the chart is the point.
        let named = Set(drifts.map(\.feature))
        let extra = histograms.filter { $0.feature != "prediction" && !named.contains($0.feature) }
        var rows = drifts.map { drift -> String in
            let histogram = histograms.first { $0.feature == drift.feature }
            let note = drift.note.map { "<br><span class=\"muted\">\(e($0))</span>" } ?? ""
            return
                "<tr><td class=\"name\">\(e(drift.feature))</td><td>\(e(histogram?.kind.rawValue ?? "—"))</td><td>\(e(drift.method.displayName))\(note)</td><td class=\"num\">\(HTML.compact(drift.score))</td><td class=\"num\">\(HTML.compact(drift.threshold))</td><td>\(HTML.badge(drift.drifted, yes: "drifted", no: "ok"))</td><td class=\"num\">\(HTML.percent(drift.currentNullShare))</td><td>\(histogram.map(HTML.histogram) ?? "<span class=\"muted\">no histogram</span>")</td></tr>"
        }
        rows += extra.map { h in
            "<tr><td class=\"name\">\(e(h.feature))</td><td>\(e(h.kind.rawValue))</td><td>—</td><td class=\"num\">—</td><td class=\"num\">—</td><td>\(HTML.muted("no verdict"))</td><td class=\"num\">—</td><td>\(HTML.histogram(h))</td></tr>"
        }
        guard !rows.isEmpty else {
            return
                "<section><h2>Features</h2><p class=\"muted\">No feature drift computed: the version has no reference profile or the window has no logged rows.</p></section>"
        }
        let head = ["Feature", "Kind", "Method", "Score", "Threshold", "Drift", "Null share (current)", "Reference vs current"]
            .map { "<th>\($0)</th>" }.joined()
        return "<section><h2>Features</h2><table><thead><tr>\(head)</tr></thead><tbody>\(rows.joined())</tbody></table></section>"
    }

    private func predictionSection() -> String {
        let e = HTML.escape
        var body = ""
        if let drift = predictionDrift {
            body +=
                "<p>\(HTML.badge(drift.drifted, yes: "drifted", no: "no drift")) \(e(drift.method.displayName)) <b>\(HTML.compact(drift.score))</b> vs threshold \(HTML.compact(drift.threshold)); \(drift.currentCount) current vs \(drift.referenceCount) reference values, \(HTML.percent(drift.currentNullShare)) null.</p>"
        } else {
            body += "<p class=\"muted\">No prediction drift computed: no reference predictions or none logged in the window.</p>"
        }
        if let histogram = histograms.first(where: { $0.feature == "prediction" }) {
            if histogram.kind == .categorical {
                body += "<p class=\"muted\">Share of predictions in each class, reference beside current.</p>"
            }
            body += HTML.histogram(histogram)
        }
        return "<section><h2>Prediction drift</h2>\(body)</section>"
    }

    private func qualitySection() -> String {
        guard let quality else {
            return
                "<section><h2>Quality</h2><p class=\"muted\">No ground truth yet: quality needs predictions joined with feedback labels.</p></section>"
        }
        let metrics: [(String, Double?)] = [
            ("Accuracy", quality.accuracy), ("Precision", quality.precision), ("Recall", quality.recall),
            ("F1", quality.f1), ("ROC AUC", quality.rocAUC), ("MAE", quality.mae), ("RMSE", quality.rmse),
        ]
        let rows =
            [("Task", quality.task.rawValue), ("Labelled rows", String(quality.rows))]
            + metrics.compactMap { name, value in value.map { (name, HTML.fixed($0, digits: 4)) } }
        let body = rows.map { "<tr><th>\(HTML.escape($0.0))</th><td class=\"num\">\(HTML.escape($0.1))</td></tr>" }.joined()
        return "<section><h2>Quality</h2><table class=\"kv\"><tbody>\(body)</tbody></table></section>"
    }

    private func notesSection() -> String {
        guard !notes.isEmpty else { return "" }
        let items = notes.map { "<li>\(HTML.escape($0))</li>" }.joined()
        return "<section><h2>Notes</h2><ul class=\"notes\">\(items)</ul></section>"
    }
}

/// Escaping, locale-free number formatting and the histogram chart. Formatting goes through
/// `String(format:)` without a locale so the page is byte-for-byte the same on every host.
private enum HTML {
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    /// NaN and infinities render as a dash, never as text a reader (or an SVG parser) trips on.
    static func fixed(_ x: Double, digits: Int) -> String {
        guard x.isFinite else { return "—" }
        let text = String(format: "%.\(digits)f", x)
        return text.allSatisfy({ "-0.".contains($0) }) ? String(format: "%.\(digits)f", 0.0) : text
    }

    /// Three significant digits, with k/M/G rather than exponents where that reads better.
    static func compact(_ x: Double) -> String {
        guard x.isFinite else { return "—" }
        let a = abs(x)
        if a == 0 { return "0" }
        if a >= 1e15 || a < 1e-3 { return String(format: "%.2e", x) }
        for (scale, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where a >= scale * 0.9995 {
            return String(format: "%.3g", x / scale) + suffix
        }
        return String(format: "%.3g", x)
    }

    static func percent(_ x: Double) -> String { x.isFinite ? fixed(x * 100, digits: 1) + "%" : "—" }
    static func milliseconds(_ x: Double?) -> String { x.map { $0.isFinite ? fixed($0, digits: 1) + " ms" : "—" } ?? "—" }

    /// SVG coordinates; callers only pass finite values, the guard keeps a bug from emitting NaN.
    static func coord(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x) : "0" }

    static func timestamp(_ ms: Int64?) -> String {
        guard let ms else { return "—" }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func badge(_ bad: Bool, yes: String, no: String) -> String {
        bad ? "<span class=\"badge bad\">\(escape(yes))</span>" : "<span class=\"badge ok\">\(escape(no))</span>"
    }

    static func muted(_ text: String) -> String { "<span class=\"badge muted\">\(escape(text))</span>" }

    /// `lines` are already-escaped HTML fragments.
    static func card(_ title: String, badge: String, lines: [String]) -> String {
        "<div class=\"card\"><h3>\(escape(title)) \(badge)</h3>\(lines.map { "<p>\($0)</p>" }.joined())</div>"
    }

    static func truncated(_ label: String, to limit: Int = 12) -> String {
        label.count > limit ? String(label.prefix(limit - 1)) + "…" : label
    }

    /// Grouped bars of reference vs current share per bin. Heights are scaled to the larger
    /// share, so a chart of two near-uniform distributions still shows where they differ.
    static func histogram(_ h: FeatureHistogram) -> String {
        let n = max(h.reference.count, h.current.count)
        let edges = h.kind == .numeric ? h.edges.flatMap { $0.count == n + 1 ? $0 : nil } : nil
        // A classifier's few classes get upright labels and each bar its share written on
        // it, so the prediction chart reads as class shares at a glance.
        let classes = edges == nil && h.feature == MonitorReference.predictionName && n <= 8
        let rotated = edges == nil && !classes
        let (width, left, right, top, plotH) = (450.0, 54.0, 22.0, 24.0, 110.0)
        let bottom = rotated ? 62.0 : 24.0
        let (plotW, height) = (width - left - right, top + plotH + bottom)
        func share(_ xs: [Double], _ i: Int) -> Double { i < xs.count && xs[i].isFinite && xs[i] > 0 ? xs[i] : 0 }
        let ref = (0..<n).map { share(h.reference, $0) }
        let cur = (0..<n).map { share(h.current, $0) }
        let maxShare = max(ref.max() ?? 0, cur.max() ?? 0)
        let baseline = top + plotH
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"hist\" viewBox=\"0 0 \(coord(width)) \(coord(height))\" width=\"\(coord(width))\" height=\"\(coord(height))\" role=\"img\" aria-label=\"\(escape("\(h.feature): reference vs current"))\">"
        s +=
            "<rect class=\"ref\" x=\"\(coord(left))\" y=\"6\" width=\"10\" height=\"10\"/><text x=\"\(coord(left + 14))\" y=\"15\">reference</text>"
        s +=
            "<rect class=\"cur\" x=\"\(coord(left + 84))\" y=\"6\" width=\"10\" height=\"10\"/><text x=\"\(coord(left + 98))\" y=\"15\">current</text>"
        s += "<line class=\"axis\" x1=\"\(coord(left))\" y1=\"\(coord(top))\" x2=\"\(coord(left))\" y2=\"\(coord(baseline))\"/>"
        s +=
            "<line class=\"axis\" x1=\"\(coord(left))\" y1=\"\(coord(baseline))\" x2=\"\(coord(left + plotW))\" y2=\"\(coord(baseline))\"/>"
        s += "<text class=\"y\" x=\"\(coord(left - 4))\" y=\"\(coord(baseline))\">0%</text>"
        guard n > 0, maxShare > 0 else {
            let why = n == 0 ? "no bins" : "all shares are zero"
            return s + "<text class=\"empty\" x=\"\(coord(left + plotW / 2))\" y=\"\(coord(top + plotH / 2))\">\(why)</text></svg>"
        }
        s += "<line class=\"grid\" x1=\"\(coord(left))\" y1=\"\(coord(top))\" x2=\"\(coord(left + plotW))\" y2=\"\(coord(top))\"/>"
        s += "<text class=\"y\" x=\"\(coord(left - 4))\" y=\"\(coord(top + 4))\">\(percent(maxShare))</text>"
        let group = plotW / Double(n)
        let pad = group * 0.12
        let bar = (group - 2 * pad) / 2
        func label(_ i: Int) -> String { i < h.labels.count ? h.labels[i] : "bin \(i + 1)" }
        for i in 0..<n {
            let x = left + Double(i) * group + pad
            let tip = escape(
                "\(label(i)): reference \(percent(i < h.reference.count ? h.reference[i] : .nan)), current \(percent(i < h.current.count ? h.current[i] : .nan))"
            )
            for (cls, value, offset) in [("ref", ref[i], 0.0), ("cur", cur[i], bar)] where value > 0 {
                let barH = value / maxShare * plotH
                s +=
                    "<rect class=\"\(cls)\" x=\"\(coord(x + offset))\" y=\"\(coord(baseline - barH))\" width=\"\(coord(bar))\" height=\"\(coord(barH))\"><title>\(tip)</title></rect>"
                if classes {
                    s +=
                        "<text class=\"v\" x=\"\(coord(x + offset + bar / 2))\" y=\"\(coord(baseline - barH - 3))\">\(percent(value))</text>"
                }
            }
        }
        // Cap label density: a label needs ~46px flat (edge values) or ~24px rotated (categories).
        if let edges {
            let step = Int((Double(n + 1) / max(1, (plotW / 46).rounded(.down))).rounded(.up))
            for i in stride(from: 0, through: n, by: max(1, step)) {
                s +=
                    "<text class=\"x\" x=\"\(coord(left + Double(i) * group))\" y=\"\(coord(baseline + 14))\">\(escape(compact(edges[i])))</text>"
            }
        } else if classes {
            for i in 0..<n {
                s +=
                    "<text class=\"x\" x=\"\(coord(left + (Double(i) + 0.5) * group))\" y=\"\(coord(baseline + 14))\">\(escape(truncated(label(i))))<title>\(escape(label(i)))</title></text>"
            }
        } else {
            let step = Int((Double(n) / max(1, (plotW / 24).rounded(.down))).rounded(.up))
            for i in stride(from: 0, to: n, by: max(1, step)) {
                let (x, y) = (coord(left + (Double(i) + 0.5) * group), coord(baseline + 10))
                s +=
                    "<text class=\"x rot\" x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-35 \(x) \(y))\">\(escape(truncated(label(i))))<title>\(escape(label(i)))</title></text>"
            }
        }
        return s + "</svg>"
    }
}

private let reportCSS = """
    :root{--ref:#9aa5b8;--cur:#2f6fe4;--bad:#c62f3b;--ok:#1c8a4a;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec;--bg:#f6f7f9}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
    main{max-width:1180px;margin:0 auto;padding:24px}
    header h1{margin:0 0 2px;font-size:24px}
    .sub{margin:0 0 12px;color:var(--mute)}
    .facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0;padding:12px 16px;background:#fff;border:1px solid var(--line);border-radius:8px}
    .facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute)}
    .facts dd{margin:0;font-variant-numeric:tabular-nums}
    section{margin-top:24px}
    h2{font-size:17px;margin:0 0 10px}
    h3{font-size:13px;margin:0 0 8px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em;display:flex;gap:8px;align-items:center}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
    .card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px}
    .card p{margin:2px 0}
    .card.wide{grid-column:1/-1}
    .big{font-size:22px;font-weight:600}
    .badge{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;font-size:11px;font-weight:600;text-transform:none;letter-spacing:0}
    .badge.bad{background:#fde8ea;color:var(--bad)}
    .badge.ok{background:#e3f5ea;color:var(--ok)}
    .badge.muted{background:#eceef2;color:var(--mute)}
    .checks{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:8px 20px}
    .msg,.muted{color:var(--mute)}
    table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:8px}
    th,td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
    thead th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute)}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    td.name{font-weight:600;min-width:7em;overflow-wrap:anywhere}
    table.kv{width:auto;min-width:320px}
    .notes{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 10px 10px 30px;margin:0}
    svg.hist{display:block;font-size:10px;fill:var(--ink)}
    svg.hist .ref{fill:var(--ref)}
    svg.hist .cur{fill:var(--cur)}
    svg.hist .axis{stroke:#b8bec9}
    svg.hist .grid{stroke:var(--line);stroke-dasharray:3 3}
    svg.hist .y{text-anchor:end}
    svg.hist .x{text-anchor:middle;fill:var(--mute)}
    svg.hist .x.rot{text-anchor:end}
    svg.hist .v{text-anchor:middle;font-size:9px}
    svg.hist .empty{text-anchor:middle;fill:var(--mute)}
    """
