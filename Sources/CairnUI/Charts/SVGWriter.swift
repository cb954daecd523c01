import CairnCore

/// Builds an SVG document as text. Every piece of text and every attribute value that is not
/// a number Cairn computed goes through `HTMLText.escape`, so run names, metric keys and
/// parameter values (which clients choose) can never become markup.
struct SVGWriter {
    private(set) var text = ""

    init() { text.reserveCapacity(16_384) }

    /// Coordinates to a tenth of a pixel: finer is invisible and only makes the document larger.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded(), abs(rounded) < 1e9 { return String(Int(rounded)) }
        return String(rounded)
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    mutating func raw(_ markup: String) { text += markup }

    /// `<name attributes…>`; values are escaped here.
    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], selfClosing: Bool = false) {
        text += "<" + name
        for (key, value) in attributes {
            text += " " + key + "=\"" + Self.escape(value) + "\""
        }
        text += selfClosing ? "/>" : ">"
    }

    mutating func close(_ name: String) { text += "</" + name + ">" }

    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], text content: String) {
        open(name, attributes)
        text += Self.escape(content)
        close(name)
    }

    mutating func empty(_ name: String, _ attributes: KeyValuePairs<String, String>) {
        open(name, attributes, selfClosing: true)
    }

    /// The root element with the accessible name and description every chart carries. A chart
    /// `embedded` in a page gets its rules from the page's stylesheet (the page's CSP allows no
    /// inline `<style>`); one served as its own document carries them.
    mutating func begin(width: Int, height: Int, className: String, title: String, description: String, embedded: Bool = false) {
        text += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\""
        text += " role=\"img\" class=\"cairn-chart " + Self.escape(className) + "\" font-family=\"system-ui, sans-serif\" font-size=\"11\">"
        element("title", text: title)
        element("desc", text: description)
        if !embedded { raw("<style>" + ChartStyle.rules + "</style>") }
    }

    mutating func end() { text += "</svg>\n" }
}

/// The charts' colours and strokes, light and dark following the OS, scoped to `.cairn-chart`
/// so an inline chart does not restyle the page around it. A chart opened on its own is the
/// document's root (`:root`) and paints its own background: the browser's default canvas is
/// white, which would leave dark mode's light text unreadable; inline it stays transparent.
enum ChartStyle {
    static let rules = """
        .cairn-chart{color:#1f2328;--grid:#d0d7de;--frame:#8c959f;--bg:transparent;--muted:#57606a}
        .cairn-chart:root{background:#ffffff;--bg:#ffffff}
        @media (prefers-color-scheme: dark){.cairn-chart{color:#e6edf3;--grid:#30363d;--frame:#6e7681;--muted:#8d96a0}
        .cairn-chart:root{background:#0f1419;--bg:#0f1419}}
        .cairn-chart text{fill:currentColor}
        .cairn-chart .muted{fill:var(--muted)}
        .cairn-chart .grid{stroke:var(--grid);stroke-width:1}
        .cairn-chart .frame{stroke:var(--frame);fill:none}
        .cairn-chart .band{stroke-linejoin:round;pointer-events:none}
        .cairn-chart .marker{pointer-events:none}
        .cairn-chart .line{fill:none;stroke-width:1.5;stroke-linejoin:round;pointer-events:none}
        .cairn-chart .raw{fill:none;stroke-width:1;opacity:.35;pointer-events:none}
        .cairn-chart .zoom{fill:transparent;cursor:zoom-in}
        .cairn-chart .zoom:hover{fill:var(--grid);fill-opacity:.35}
        .cairn-chart a text{fill:#0969da;text-decoration:underline}
        .cairn-chart .mark-nan{fill:#cf222e}
        .cairn-chart .mark-inf{fill:#9a6700}
        .cairn-chart .point{stroke:var(--bg);stroke-width:.5}
        .cairn-chart .pc-line{fill:none;stroke-width:1.2;opacity:.75}
        .cairn-chart .pc-line:hover{stroke-width:3;opacity:1}
        """

    /// Ten distinct hues (Tableau 10); past ten, runs also differ by dash pattern so colour is
    /// never the only cue.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static let dashes = ["", "6 3", "2 2", "8 3 2 3", "1 3"]

    static func color(_ index: Int) -> String { palette[index % palette.count] }
    static func dash(_ index: Int) -> String { dashes[(index / palette.count) % dashes.count] }
}
