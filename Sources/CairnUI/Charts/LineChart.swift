import Foundation

/// A metric chart drawn from bucketed series: per series its min–max band (every point of a
/// pixel column lies inside it, so no spike is lost), the last value of each column as the
/// line, marks for NaN and ±∞, optional EMA smoothing with the raw line kept faint, a log
/// scale, and zoom as links (`x_min`/`x_max`) so it works without JavaScript. Past
/// `groupThreshold` series it draws one band across the group plus the highlighted series.
public struct LineChart: Sendable {
    public enum XAxis: String, Sendable, CaseIterable {
        case step
        /// Milliseconds since the epoch, shown in UTC.
        case wall
        /// Milliseconds since the run started.
        case relative

        var label: String {
            switch self {
            case .step: "step"
            case .wall: "time (UTC)"
            case .relative: "time since run start"
            }
        }
    }

    public struct Series: Sendable {
        public var id: String
        public var name: String
        public var buckets: SeriesBucketer
        public var highlighted: Bool

        public init(id: String, name: String, buckets: SeriesBucketer, highlighted: Bool = false) {
            self.id = id
            self.name = name
            self.buckets = buckets
            self.highlighted = highlighted
        }
    }

    public var metric: String
    public var xAxis: XAxis
    public var width: Int
    public var height: Int
    public var logScale: Bool
    /// EMA weight per pixel column in [0, 1); 0 draws no smoothed line.
    public var smoothing: Double
    public var series: [Series]
    public var groupThreshold: Int
    /// The URL that shows this chart over another x range; nil for the full range. No zoom
    /// links are drawn without it.
    public var zoomLink: (@Sendable ((min: Double, max: Double)?) -> String)?
    /// Whether the range drawn is a zoom (then a reset link is shown).
    public var zoomed: Bool

    public init(
        metric: String, xAxis: XAxis = .step, width: Int = 800, height: Int = 320, logScale: Bool = false, smoothing: Double = 0,
        series: [Series], groupThreshold: Int = 50, zoomed: Bool = false,
        zoomLink: (@Sendable ((min: Double, max: Double)?) -> String)? = nil
    ) {
        self.metric = metric
        self.xAxis = xAxis
        self.width = width
        self.height = height
        self.logScale = logScale
        self.smoothing = smoothing
        self.series = series
        self.groupThreshold = groupThreshold
        self.zoomed = zoomed
        self.zoomLink = zoomLink
    }

    static let marginLeft = 64
    static let marginRight = 16
    static let marginTop = 26
    static let marginBottom = 36
    static let legendRowHeight = 16

    /// The plot's width in pixels for a chart `width` wide: the number of buckets to ask for.
    public static func plotWidth(forWidth width: Int) -> Int { max(1, width - marginLeft - marginRight) }

    private var grouped: Bool { series.count > groupThreshold }

    /// The series drawn one by one: all of them, or past the threshold only the highlighted.
    private var drawnSeries: [(index: Int, series: Series)] {
        let all = series.enumerated().map { (index: $0.offset, series: $0.element) }
        return grouped ? all.filter { $0.series.highlighted } : all
    }

    private var legendEntries: Int { drawnSeries.count + (grouped ? 1 : 0) }

    private var legendColumns: Int { max(1, (width - Self.marginLeft) / 190) }

    private var legendHeight: Int {
        legendEntries <= 1 && !grouped ? 0 : Int((Double(legendEntries) / Double(legendColumns)).rounded(.up)) * Self.legendRowHeight + 4
    }

    public func svg() -> String {
        let plotLeft = Double(Self.marginLeft)
        let plotRight = Double(width - Self.marginRight)
        let plotTop = Double(Self.marginTop)
        // The legend goes below the plot and makes the chart taller, so the plot keeps the height asked for.
        let plotBottom = Double(max(Self.marginTop + 20, height - Self.marginBottom))

        var group: SeriesBucketer?
        if grouped, let first = series.first?.buckets {
            var merged = first
            for entry in series.dropFirst() { merged.merge(entry.buckets) }
            group = merged
        }
        let visible = (group.map { [$0] } ?? []) + drawnSeries.map { $0.series.buckets }

        // Counts over every point once: the group's buckets already hold every series.
        var points = 0
        var nonFinite = (nan: 0, positive: 0, negative: 0)
        for buckets in group.map({ [$0] }) ?? visible {
            for bucket in buckets.buckets {
                points += bucket.count
                nonFinite.nan += bucket.nanCount
                nonFinite.positive += bucket.positiveInfinityCount
                nonFinite.negative += bucket.negativeInfinityCount
            }
        }
        // y domain over what is drawn; ≤ 0 has no place on a log axis.
        var lower = Double.infinity
        var upper = -Double.infinity
        var nonPositive = 0
        for buckets in visible {
            for bucket in buckets.buckets where bucket.hasFinite {
                if logScale {
                    if bucket.max <= 0 {
                        nonPositive += bucket.finiteCount
                        continue
                    }
                    if bucket.min <= 0 { nonPositive += 1 }
                    lower = min(lower, bucket.minPositive)
                } else {
                    lower = min(lower, bucket.min)
                }
                upper = max(upper, bucket.max)
            }
        }
        if !(lower <= upper) { (lower, upper) = logScale ? (1, 10) : (0, 1) }
        var yScale = ChartScale(kind: logScale ? .log : .linear, domain: (lower, upper), range: (plotBottom, plotTop))
        yScale = yScale.niced(count: 5)
        let xRange = series.first.map { ($0.buckets.xMin, $0.buckets.xMax) } ?? (0, 1)
        let xScale = ChartScale(domain: xRange, range: (plotLeft, plotRight))

        var svg = SVGWriter()
        let runsText = series.count == 1 ? "1 run" : "\(series.count) runs"
        var description = "\(metric) against \(xAxis.label), \(runsText), \(points) points"
        let ranges = (group.map { [$0] } ?? visible).compactMap { $0.valueRange }
        if let low = ranges.map({ $0.min }).min(), let high = ranges.map({ $0.max }).max() {
            description += ", values from \(UIFormat.metric(low)) to \(UIFormat.metric(high))"
        }
        if nonFinite.nan > 0 { description += ", \(nonFinite.nan) NaN" }
        if nonFinite.positive > 0 { description += ", \(nonFinite.positive) +∞" }
        if nonFinite.negative > 0 { description += ", \(nonFinite.negative) -∞" }
        if nonPositive > 0 { description += ", \(nonPositive) points ≤ 0 not drawn on the log scale" }
        svg.begin(
            width: width, height: height + legendHeight, className: "line-chart", title: "\(metric) (\(runsText))", description: description
        )

        svg.element("text", ["x": "\(Self.marginLeft)", "y": "16", "font-weight": "600", "font-size": "12"], text: metric)
        if smoothing > 0 {
            svg.element(
                "text", ["x": "\(Self.marginLeft + 8 + metric.count * 7)", "y": "16", "class": "muted"],
                text: "EMA \(ChartFormat.number(smoothing)) per pixel column (display smoothing)")
        }

        // Axes and grid. The plot group carries its scales so tests and scripts can turn a
        // pixel back into a value.
        svg.open(
            "g",
            [
                "class": "plot", "data-x-domain": "\(xScale.domain.lower) \(xScale.domain.upper)",
                "data-x-range": "\(plotLeft) \(plotRight)", "data-y-domain": "\(yScale.domain.lower) \(yScale.domain.upper)",
                "data-y-range": "\(plotBottom) \(plotTop)", "data-y-scale": logScale ? "log" : "linear",
            ])
        drawZoomRegions(&svg, xScale: xScale, top: plotTop, bottom: plotBottom)
        for tick in yScale.ticks(count: 5) {
            guard let y = yScale.position(of: tick) else { continue }
            let y1 = SVGWriter.number(y)
            svg.empty("line", ["class": "grid", "x1": SVGWriter.number(plotLeft), "x2": SVGWriter.number(plotRight), "y1": y1, "y2": y1])
            svg.element(
                "text", ["x": SVGWriter.number(plotLeft - 6), "y": SVGWriter.number(y + 4), "text-anchor": "end"],
                text: ChartFormat.number(tick))
        }
        let span = xScale.domain.upper - xScale.domain.lower
        let xTicks = xAxis == .step ? xScale.ticks(count: max(2, width / 110)) : xScale.timeTicks(count: max(2, width / 120))
        for tick in xTicks {
            guard let x = xScale.position(of: tick) else { continue }
            let x1 = SVGWriter.number(x)
            svg.empty("line", ["class": "grid", "x1": x1, "x2": x1, "y1": SVGWriter.number(plotTop), "y2": SVGWriter.number(plotBottom)])
            let label: String
            switch xAxis {
            case .step: label = ChartFormat.step(tick)
            case .wall: label = ChartFormat.wallTime(tick, span: span)
            case .relative: label = Self.duration(tick)
            }
            svg.element("text", ["x": x1, "y": SVGWriter.number(plotBottom + 14), "text-anchor": "middle"], text: label)
        }
        svg.empty(
            "rect",
            [
                "class": "frame", "x": SVGWriter.number(plotLeft), "y": SVGWriter.number(plotTop),
                "width": SVGWriter.number(plotRight - plotLeft), "height": SVGWriter.number(plotBottom - plotTop),
            ])
        svg.element(
            "text",
            [
                "x": SVGWriter.number((plotLeft + plotRight) / 2), "y": SVGWriter.number(plotBottom + 28), "text-anchor": "middle",
                "class": "muted",
            ],
            text: xAxis.label)

        if let group {
            drawBand(&svg, group, color: "#8c959f", opacity: 0.35, xScale: xScale, yScale: yScale, id: "group")
        }
        for (index, entry) in drawnSeries {
            let color = ChartStyle.color(index)
            drawBand(&svg, entry.buckets, color: color, opacity: grouped ? 0.35 : 0.3, xScale: xScale, yScale: yScale, id: entry.id)
            let line = linePath(entry.buckets, xScale: xScale, yScale: yScale) { $0.last }
            // A point with no neighbour to join (a metric logged once) is a marker: a path of one
            // vertex draws nothing.
            for (x, y) in Self.loneVertices(line) {
                svg.empty(
                    "circle",
                    [
                        "class": "marker", "cx": SVGWriter.number(x), "cy": SVGWriter.number(y), "r": "3", "fill": color,
                        "data-run": entry.id,
                    ])
            }
            if smoothing > 0 {
                svg.empty("path", ["class": "raw", "stroke": color, "d": line, "data-run": entry.id])
                let smoothed = Self.exponentialMovingAverage(entry.buckets.buckets, weight: smoothing)
                let smoothPath = smoothedPath(entry.buckets, values: smoothed, xScale: xScale, yScale: yScale)
                svg.empty(
                    "path",
                    [
                        "class": "line smooth", "stroke": color, "stroke-dasharray": ChartStyle.dash(index), "d": smoothPath,
                        "data-run": entry.id,
                    ])
            } else {
                svg.empty(
                    "path", ["class": "line", "stroke": color, "stroke-dasharray": ChartStyle.dash(index), "d": line, "data-run": entry.id])
            }
        }
        for buckets in visible {
            drawNonFiniteMarks(&svg, buckets, xScale: xScale, top: plotTop, bottom: plotBottom, yScale: yScale)
        }
        svg.close("g")
        drawZoomControls(&svg, xScale: xScale)
        drawLegend(&svg, top: plotBottom + Double(Self.marginBottom))
        svg.end()
        return svg.text
    }

    /// EMA of each column's mean over the columns that have finite values, debiased as
    /// TensorBoard does; a gap of d empty columns decays the weight d times, so sparse and
    /// dense series smooth alike. NaN where a column has nothing to draw.
    public static func exponentialMovingAverage(_ buckets: [SeriesBucket], weight: Double) -> [Double] {
        var result = Array(repeating: Double.nan, count: buckets.count)
        var average = 0.0
        var norm = 0.0
        var previous: Int?
        for (index, bucket) in buckets.enumerated() where bucket.hasFinite {
            let decay = pow(weight, Double(index - (previous ?? (index - 1))))
            average = average * decay + (1 - decay) * bucket.mean
            norm = norm * decay + (1 - decay)
            result[index] = norm > 0 ? average / norm : bucket.mean
            previous = index
        }
        return result
    }

    /// The band's outline: along the columns' maxima left to right, back along the minima.
    /// One polygon per run of columns with values, so a gap in the data stays a gap.
    private func drawBand(
        _ svg: inout SVGWriter, _ buckets: SeriesBucketer, color: String, opacity: Double, xScale: ChartScale, yScale: ChartScale,
        id: String
    ) {
        var path = ""
        var upper: [(Double, Double)] = []
        var lower: [(Double, Double)] = []
        func flush() {
            guard !upper.isEmpty else { return }
            // A lone column still gets a visible width: a spike in one column stays a sliver.
            if upper.count == 1 {
                let (x, y) = upper[0]
                upper = [(x - 0.5, y), (x + 0.5, y)]
                lower = [(x - 0.5, lower[0].1), (x + 0.5, lower[0].1)]
            }
            path += "M" + upper.map { SVGWriter.number($0.0) + " " + SVGWriter.number($0.1) }.joined(separator: "L")
            path += "L" + lower.reversed().map { SVGWriter.number($0.0) + " " + SVGWriter.number($0.1) }.joined(separator: "L") + "Z"
            upper.removeAll(keepingCapacity: true)
            lower.removeAll(keepingCapacity: true)
        }
        var lastIndex = -2
        for (index, bucket) in buckets.buckets.enumerated() {
            guard bucket.hasFinite else { continue }
            let high = bucket.max
            let low = logScale ? (bucket.min > 0 ? bucket.min : bucket.minPositive) : bucket.min
            guard let yHigh = yScale.position(of: high), let yLow = yScale.position(of: low) ?? yScale.position(of: high) else { continue }
            // Columns far apart (more than a few pixels of nothing) are separate stretches.
            if index - lastIndex > 3, lastIndex >= 0 { flush() }
            guard let x = xScale.position(of: buckets.center(of: index)) else { continue }
            upper.append((x, yHigh))
            lower.append((x, yLow))
            lastIndex = index
        }
        flush()
        guard !path.isEmpty else { return }
        // The outline is stroked a pixel wide: a one-column spike among a million points is
        // otherwise a faint hairline of fill that the eye misses.
        svg.empty(
            "path",
            [
                "class": "band", "fill": color, "fill-opacity": "\(opacity)", "stroke": color, "stroke-opacity": "0.6",
                "stroke-width": "1", "d": path, "data-run": id,
            ])
    }

    /// The line through each column's last value (at that value's own x).
    private func linePath(
        _ buckets: SeriesBucketer, xScale: ChartScale, yScale: ChartScale, value: (SeriesBucket) -> Double
    ) -> String {
        var path = ""
        var pendingMove = true
        for (index, bucket) in buckets.buckets.enumerated() {
            guard bucket.hasFinite else { continue }
            guard let px = xScale.position(of: bucket.lastX), let py = yScale.position(of: value(bucket)) else {
                pendingMove = true
                continue
            }
            path += (pendingMove ? "M" : "L") + SVGWriter.number(px) + " " + SVGWriter.number(py)
            pendingMove = false
        }
        return path
    }

    /// The vertices of `path` (as `linePath` writes it) that start a stretch no `L` continues.
    static func loneVertices(_ path: String) -> [(Double, Double)] {
        path.split(separator: "M").compactMap { stretch in
            guard !stretch.contains("L") else { return nil }
            let numbers = stretch.split(separator: " ").compactMap { Double($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
    }

    private func smoothedPath(_ buckets: SeriesBucketer, values: [Double], xScale: ChartScale, yScale: ChartScale) -> String {
        var path = ""
        var pendingMove = true
        for (index, value) in values.enumerated() where !value.isNaN {
            guard let px = xScale.position(of: buckets.center(of: index)), let py = yScale.position(of: value) else {
                pendingMove = true
                continue
            }
            path += (pendingMove ? "M" : "L") + SVGWriter.number(px) + " " + SVGWriter.number(py)
            pendingMove = false
        }
        return path
    }

    /// NaN as a red mark on the bottom edge, +∞ and -∞ as triangles on the top and bottom
    /// edges, and on a log scale values ≤ 0 as a mark on the bottom edge: each column once,
    /// with its counts in a tooltip.
    private func drawNonFiniteMarks(
        _ svg: inout SVGWriter, _ buckets: SeriesBucketer, xScale: ChartScale, top: Double, bottom: Double, yScale: ChartScale
    ) {
        for (index, bucket) in buckets.buckets.enumerated() {
            let nonPositive = logScale && bucket.hasFinite && bucket.min <= 0
            guard bucket.nanCount > 0 || bucket.positiveInfinityCount > 0 || bucket.negativeInfinityCount > 0 || nonPositive else {
                continue
            }
            guard let x = xScale.position(of: buckets.center(of: index)) else { continue }
            let cx = SVGWriter.number(x)
            if bucket.nanCount > 0 {
                svg.open(
                    "rect",
                    ["class": "mark-nan", "x": SVGWriter.number(x - 1.5), "y": SVGWriter.number(bottom - 4), "width": "3", "height": "4"])
                svg.element("title", text: "\(bucket.nanCount) NaN")
                svg.close("rect")
            }
            if bucket.positiveInfinityCount > 0 {
                svg.open(
                    "path",
                    [
                        "class": "mark-inf",
                        "d":
                            "M\(SVGWriter.number(x - 3)) \(SVGWriter.number(top + 5))L\(cx) \(SVGWriter.number(top))L\(SVGWriter.number(x + 3)) \(SVGWriter.number(top + 5))Z",
                    ])
                svg.element("title", text: "\(bucket.positiveInfinityCount) × +∞")
                svg.close("path")
            }
            if bucket.negativeInfinityCount > 0 {
                svg.open(
                    "path",
                    [
                        "class": "mark-inf",
                        "d":
                            "M\(SVGWriter.number(x - 3)) \(SVGWriter.number(bottom - 5))L\(cx) \(SVGWriter.number(bottom))L\(SVGWriter.number(x + 3)) \(SVGWriter.number(bottom - 5))Z",
                    ])
                svg.element("title", text: "\(bucket.negativeInfinityCount) × -∞")
                svg.close("path")
            }
            if nonPositive {
                svg.open(
                    "rect",
                    ["class": "mark-inf", "x": SVGWriter.number(x - 1), "y": SVGWriter.number(bottom - 2), "width": "2", "height": "2"])
                svg.element("title", text: "values ≤ 0 (not drawn on a log scale), down to \(UIFormat.metric(bucket.min))")
                svg.close("rect")
            }
        }
    }

    /// Zoom without JavaScript: the plot is split into ten slices, each a link to itself drawn
    /// at full resolution.
    private func drawZoomRegions(_ svg: inout SVGWriter, xScale: ChartScale, top: Double, bottom: Double) {
        guard let zoomLink, xScale.domain.upper > xScale.domain.lower else { return }
        let slices = 10
        let sliceWidth = (xScale.range.upper - xScale.range.lower) / Double(slices)
        for slice in 0..<slices {
            let left = xScale.range.lower + Double(slice) * sliceWidth
            var low = xScale.value(at: left)
            var high = xScale.value(at: left + sliceWidth)
            if xAxis == .step {
                (low, high) = (low.rounded(.down), high.rounded(.up))
            }
            svg.open("a", ["href": zoomLink((low, high))])
            svg.open(
                "rect",
                [
                    "class": "zoom", "x": SVGWriter.number(left), "y": SVGWriter.number(top), "width": SVGWriter.number(sliceWidth),
                    "height": SVGWriter.number(bottom - top),
                ])
            svg.element("title", text: "Zoom to \(label(low)) – \(label(high))")
            svg.close("rect")
            svg.close("a")
        }
    }

    private func label(_ x: Double) -> String {
        switch xAxis {
        case .step: ChartFormat.step(x)
        case .wall: ChartFormat.wallTime(x, span: 0)
        case .relative: Self.duration(x)
        }
    }

    /// Elapsed milliseconds as the rest of the UI writes durations (a pan can go below 0).
    static func duration(_ milliseconds: Double) -> String {
        let whole = Int64(min(abs(milliseconds), 9e15).rounded())
        return (milliseconds < 0 ? "-" : "") + UIFormat.duration(milliseconds: whole)
    }

    /// Pan, zoom out and reset links in the top right corner.
    private func drawZoomControls(_ svg: inout SVGWriter, xScale: ChartScale) {
        guard let zoomLink else { return }
        let (low, high) = xScale.domain
        let span = high - low
        var links: [(String, String)] = []
        if span > 0 {
            links.append(("◀", zoomLink((low - span / 2, high - span / 2))))
            links.append(("zoom out", zoomLink((low - span / 2, high + span / 2))))
            links.append(("▶", zoomLink((low + span / 2, high + span / 2))))
        }
        if zoomed { links.append(("reset", zoomLink(nil))) }
        var x = Double(width - Self.marginRight)
        for (text, href) in links.reversed() {
            svg.open("a", ["href": href])
            svg.element("text", ["x": SVGWriter.number(x), "y": "16", "text-anchor": "end"], text: text)
            svg.close("a")
            x -= Double(text.count * 7 + 10)
        }
    }

    private func drawLegend(_ svg: inout SVGWriter, top: Double) {
        guard legendHeight > 0 else { return }
        var entries: [(name: String, title: String, color: String, dash: String, band: Bool)] = []
        if grouped {
            entries.append(("\(series.count) runs, min–max", "The band spans every run's values in each pixel column", "#8c959f", "", true))
        }
        for (index, entry) in drawnSeries {
            entries.append((entry.name, "\(entry.name) (\(entry.id))", ChartStyle.color(index), ChartStyle.dash(index), false))
        }
        svg.open("g", ["class": "legend"])
        for (position, entry) in entries.enumerated() {
            let column = position % legendColumns
            let row = position / legendColumns
            let x = Double(Self.marginLeft + column * 190)
            let y = top + Double(row * Self.legendRowHeight) + 8
            if entry.band {
                svg.empty(
                    "rect",
                    [
                        "x": SVGWriter.number(x), "y": SVGWriter.number(y - 5), "width": "18", "height": "8", "fill": entry.color,
                        "fill-opacity": "0.5",
                    ])
            } else {
                svg.empty(
                    "line",
                    [
                        "x1": SVGWriter.number(x), "x2": SVGWriter.number(x + 18), "y1": SVGWriter.number(y - 1),
                        "y2": SVGWriter.number(y - 1),
                        "stroke": entry.color, "stroke-width": "2.5", "stroke-dasharray": entry.dash,
                    ])
            }
            let shown = entry.name.count > 26 ? String(entry.name.prefix(25)) + "…" : entry.name
            svg.open("text", ["x": SVGWriter.number(x + 24), "y": SVGWriter.number(y + 3)])
            svg.element("title", text: entry.title)
            svg.raw(SVGWriter.escape(shown))
            svg.close("text")
        }
        svg.close("g")
    }
}
