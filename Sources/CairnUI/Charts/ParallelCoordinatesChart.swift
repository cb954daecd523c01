import Foundation

/// One value of a run on a chart axis: params are strings in MLflow, so an axis is numeric when
/// every value on it parses as a finite number and categorical otherwise.
public enum ChartValue: Sendable, Equatable {
    case number(Double)
    case category(String)

    /// A param's text as a chart value.
    public init(param text: String) {
        if let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite {
            self = .number(number)
        } else {
            self = .category(text)
        }
    }

    /// The value as a label shows it.
    public var text: String {
        switch self {
        case .number(let number): ChartFormat.number(number)
        case .category(let text): text
        }
    }
}

/// Where the values of one axis go: numbers on a linear scale, or categories evenly spaced in
/// first-seen order sorted by text.
struct ChartAxisLayout {
    let scale: ChartScale?
    let categories: [String]

    init(values: [ChartValue?], range: (Double, Double)) {
        let present = values.compactMap { $0 }
        let numbers = present.compactMap { value -> Double? in
            if case .number(let number) = value { return number }
            return nil
        }
        if !present.isEmpty, numbers.count == present.count {
            scale = ChartScale(domain: (numbers.min()!, numbers.max()!), range: range).niced(count: 4)
            categories = []
        } else {
            scale = nil
            categories = Array(Set(present.map(\.text))).sorted()
        }
        self.range = range
    }

    let range: (Double, Double)

    func position(of value: ChartValue?) -> Double? {
        guard let value else { return nil }
        if let scale {
            guard case .number(let number) = value else { return nil }
            return scale.position(of: number)
        }
        guard let index = categories.firstIndex(of: value.text) else { return nil }
        if categories.count == 1 { return (range.0 + range.1) / 2 }
        return range.0 + Double(index) / Double(categories.count - 1) * (range.1 - range.0)
    }

    /// (position, label) pairs along the axis.
    var ticks: [(Double, String)] {
        if let scale {
            return scale.ticks(count: 4).compactMap { tick in scale.position(of: tick).map { ($0, ChartFormat.number(tick)) } }
        }
        // Too many categories to label: every n-th.
        let every = max(1, categories.count / 12)
        return categories.enumerated().compactMap { index, category in
            guard index % every == 0, let position = position(of: .category(category)) else { return nil }
            return (position, category)
        }
    }
}

/// Params against a metric for many runs: one vertical axis per param plus the metric's on
/// the right, each run a polyline coloured by its metric value. A run without a value on an
/// axis breaks its line there.
public struct ParallelCoordinatesChart: Sendable {
    public struct Row: Sendable {
        public var id: String
        public var name: String
        /// One value per axis in `axes` order (params then the metric last).
        public var values: [ChartValue?]

        public init(id: String, name: String, values: [ChartValue?]) {
            self.id = id
            self.name = name
            self.values = values
        }
    }

    /// Axis titles; the last is the metric the lines are coloured by.
    public var axes: [String]
    public var rows: [Row]
    public var width: Int
    public var height: Int

    public init(axes: [String], rows: [Row], width: Int = 800, height: Int = 360) {
        self.axes = axes
        self.rows = rows
        self.width = width
        self.height = height
    }

    /// `embedded`: drawn inside a page, whose stylesheet holds the chart rules.
    public func svg(embedded: Bool = false) -> String {
        let top = 40.0
        let bottom = Double(height - 24)
        let left = 60.0
        let right = Double(width - 60)
        var svg = SVGWriter()
        let metric = axes.last ?? ""
        svg.begin(
            width: width, height: height, className: "parallel-chart",
            title: "Parallel coordinates of \(axes.dropLast().joined(separator: ", ")) against \(metric)",
            description: "\(rows.count) runs, \(axes.count) axes; each run is a line across the axes, coloured by \(metric)",
            embedded: embedded)
        guard !axes.isEmpty else {
            svg.end()
            return svg.text
        }
        let layouts = axes.indices.map { axis in
            ChartAxisLayout(values: rows.map { axis < $0.values.count ? $0.values[axis] : nil }, range: (bottom, top))
        }
        let xs = axes.indices.map { axes.count == 1 ? (left + right) / 2 : left + Double($0) / Double(axes.count - 1) * (right - left) }

        // Colour by the metric: low blue to high orange.
        let metricValues = rows.compactMap { row -> Double? in
            if case .number(let value)? = row.values.last ?? nil { return value }
            return nil
        }
        let (low, high) = (metricValues.min() ?? 0, metricValues.max() ?? 1)
        func color(_ row: Row) -> String {
            guard case .number(let value)? = row.values.last ?? nil else { return "#8c959f" }
            let t = high > low ? (value - low) / (high - low) : 0.5
            let (r, g, b) = (Int(78 + t * (242 - 78)), Int(121 + t * (142 - 121)), Int(167 + t * (43 - 167)))
            return "rgb(\(r),\(g),\(b))"
        }

        for row in rows {
            var path = ""
            var move = true
            for axis in axes.indices {
                guard let y = layouts[axis].position(of: axis < row.values.count ? row.values[axis] : nil) else {
                    move = true
                    continue
                }
                path += (move ? "M" : "L") + SVGWriter.number(xs[axis]) + " " + SVGWriter.number(y)
                move = false
            }
            guard !path.isEmpty else { continue }
            svg.open("path", ["class": "pc-line", "stroke": color(row), "d": path, "data-run": row.id])
            let described = zip(axes, row.values).map { name, value -> String in
                switch value {
                case .number(let number)?: "\(name)=\(UIFormat.metric(number))"
                case .category(let text)?: "\(name)=\(text)"
                case nil: "\(name)=—"
                }
            }
            svg.element("title", text: "\(row.name): " + described.joined(separator: ", "))
            svg.close("path")
        }
        for (axis, name) in axes.enumerated() {
            let x = SVGWriter.number(xs[axis])
            svg.empty("line", ["class": "frame", "x1": x, "x2": x, "y1": SVGWriter.number(top), "y2": SVGWriter.number(bottom)])
            let shown = name.count > 22 ? String(name.prefix(21)) + "…" : name
            svg.open(
                "text",
                ["x": x, "y": SVGWriter.number(top - 14), "text-anchor": "middle", "font-weight": axis == axes.count - 1 ? "600" : "400"])
            svg.element("title", text: name)
            svg.raw(SVGWriter.escape(shown))
            svg.close("text")
            for (y, label) in layouts[axis].ticks {
                let shownLabel = label.count > 14 ? String(label.prefix(13)) + "…" : label
                svg.element(
                    "text", ["x": SVGWriter.number(xs[axis] + 4), "y": SVGWriter.number(y + 4), "class": "muted"], text: shownLabel)
            }
        }
        svg.end()
        return svg.text
    }
}
