/// One param against one metric over runs: a point per run, the x axis numeric or categorical
/// (as the param's values are), each point titled with its run and values.
public struct ScatterChart: Sendable {
    public struct Point: Sendable {
        public var id: String
        public var name: String
        public var x: ChartValue
        public var y: Double

        public init(id: String, name: String, x: ChartValue, y: Double) {
            self.id = id
            self.name = name
            self.x = x
            self.y = y
        }
    }

    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    public var width: Int
    public var height: Int
    public var logScale: Bool

    public init(xLabel: String, yLabel: String, points: [Point], width: Int = 480, height: Int = 320, logScale: Bool = false) {
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.width = width
        self.height = height
        self.logScale = logScale
    }

    /// `embedded`: drawn inside a page, whose stylesheet holds the chart rules.
    public func svg(embedded: Bool = false) -> String {
        let left = 64.0
        let right = Double(width - 16)
        let top = 16.0
        let bottom = Double(height - 40)
        // Non-finite metric values (NaN, ±∞) and, on a log scale, ≤ 0 have no place: counted
        // in the description instead of stretching the axis.
        let drawable = points.filter { SeriesBucket.classify($0.y) == .finite && (!logScale || $0.y > 0) }
        let ys = drawable.map(\.y)
        var svg = SVGWriter()
        var description = "\(yLabel) against \(xLabel) for \(points.count) runs"
        if drawable.count < points.count { description += "; \(points.count - drawable.count) not drawn (NaN, ±∞ or ≤ 0 on a log scale)" }
        svg.begin(
            width: width, height: height, className: "scatter-chart", title: "\(yLabel) against \(xLabel)", description: description,
            embedded: embedded)
        let yScale = ChartScale(kind: logScale ? .log : .linear, domain: (ys.min() ?? 0, ys.max() ?? 1), range: (bottom, top)).niced(
            count: 5)
        let xLayout = ChartAxisLayout(values: drawable.map(\.x), range: (left + 8, right - 8))

        for tick in yScale.ticks(count: 5) {
            guard let y = yScale.position(of: tick) else { continue }
            svg.empty(
                "line",
                [
                    "class": "grid", "x1": SVGWriter.number(left), "x2": SVGWriter.number(right), "y1": SVGWriter.number(y),
                    "y2": SVGWriter.number(y),
                ])
            svg.element(
                "text", ["x": SVGWriter.number(left - 6), "y": SVGWriter.number(y + 4), "text-anchor": "end"],
                text: ChartFormat.number(tick))
        }
        for (x, label) in xLayout.ticks {
            let shown = label.count > 14 ? String(label.prefix(13)) + "…" : label
            svg.element("text", ["x": SVGWriter.number(x), "y": SVGWriter.number(bottom + 14), "text-anchor": "middle"], text: shown)
        }
        svg.empty(
            "rect",
            [
                "class": "frame", "x": SVGWriter.number(left), "y": SVGWriter.number(top), "width": SVGWriter.number(right - left),
                "height": SVGWriter.number(bottom - top),
            ])
        svg.element(
            "text",
            ["x": SVGWriter.number((left + right) / 2), "y": SVGWriter.number(bottom + 30), "text-anchor": "middle", "class": "muted"],
            text: xLabel)
        svg.element(
            "text",
            [
                "x": "14", "y": SVGWriter.number((top + bottom) / 2), "text-anchor": "middle", "class": "muted",
                "transform": "rotate(-90 14 \(SVGWriter.number((top + bottom) / 2)))",
            ],
            text: yLabel)
        for point in drawable {
            guard let x = xLayout.position(of: point.x), let y = yScale.position(of: point.y) else { continue }
            svg.open(
                "circle",
                [
                    "class": "point", "cx": SVGWriter.number(x), "cy": SVGWriter.number(y), "r": "4", "fill": ChartStyle.color(0),
                    "data-run": point.id,
                ])
            let xText: String
            switch point.x {
            case .number(let number): xText = UIFormat.metric(number)
            case .category(let text): xText = text
            }
            svg.element("title", text: "\(point.name): \(xLabel)=\(xText), \(yLabel)=\(UIFormat.metric(point.y))")
            svg.close("circle")
        }
        svg.end()
        return svg.text
    }
}
