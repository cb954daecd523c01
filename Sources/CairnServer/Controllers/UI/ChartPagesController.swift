import CairnCore
import CairnStore
import CairnUI
import Foundation
import HTTPTypes
import Hummingbird

/// `/charts/metric.svg`: a metric of one or many runs drawn on the server as SVG from every
/// point, bucketed per pixel column (see `LineChart`). Every option is in the query string,
/// so a chart, zoomed or not, is a link; zoom links point back here with `x_min`/`x_max`.
struct ChartPagesController: Sendable {
    let store: any TrackingStore

    /// Far more than a chart can show as lines; past this a link is a mistake or an attack.
    static let maxRuns = 1000
    static let widths = 200...4000
    static let heights = 120...2000

    /// Mounted in the pages area, whose errors are HTML pages.
    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("charts/metric.svg") { request, _ in try await metricChart(request) }
    }

    struct Options: Sendable, Equatable {
        var runIDs: [String]
        var key: String
        var xAxis: LineChart.XAxis = .step
        var xMin: Double?
        var xMax: Double?
        var logScale = false
        var smoothing = 0.0
        var width = 800
        var height = 320
        var highlight: Set<String> = []

        /// Reads and checks the query; every bad value is a 400 that says which and why.
        init(query: [(String, String)]) throws(CairnError) {
            func value(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
            func list(_ name: String) -> [String] {
                query.filter { $0.0 == name }.flatMap { $0.1.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            }
            func number(_ name: String) throws(CairnError) -> Double? {
                guard let text = value(name), !text.isEmpty else { return nil }
                guard let number = Double(text), number.isFinite else {
                    throw .invalidParameter("\(name) must be a finite number, got '\(text.prefix(100))'")
                }
                return number
            }
            func integer(_ name: String, _ bounds: ClosedRange<Int>, default fallback: Int) throws(CairnError) -> Int {
                guard let text = value(name), !text.isEmpty else { return fallback }
                guard let number = Int(text), bounds.contains(number) else {
                    throw .invalidParameter(
                        "\(name) must be an integer from \(bounds.lowerBound) to \(bounds.upperBound), got '\(text.prefix(100))'")
                }
                return number
            }

            var seen = Set<String>()
            runIDs = list("runs").filter { seen.insert($0).inserted }
            guard !runIDs.isEmpty else { throw .missingParameter("runs") }
            guard runIDs.count <= ChartPagesController.maxRuns else {
                throw .invalidParameter("A chart shows at most \(ChartPagesController.maxRuns) runs, got \(runIDs.count)")
            }
            guard let key = value("key"), !key.isEmpty else { throw .missingParameter("key") }
            self.key = key
            if let axis = value("x"), !axis.isEmpty {
                guard let parsed = LineChart.XAxis(rawValue: axis) else {
                    throw .invalidParameter("x must be step, wall or relative, got '\(axis.prefix(100))'")
                }
                xAxis = parsed
            }
            xMin = try number("x_min")
            xMax = try number("x_max")
            if let xMin, let xMax, !(xMin < xMax) {
                throw .invalidParameter("x_min must be less than x_max, got \(xMin) and \(xMax)")
            }
            switch value("log") {
            case nil, "", "0", "false": logScale = false
            case "1", "true": logScale = true
            case let other?: throw .invalidParameter("log must be 1 or 0, got '\(other.prefix(100))'")
            }
            if let smoothing = try number("smooth") {
                guard (0..<1).contains(smoothing) else {
                    throw .invalidParameter("smooth must be at least 0 and below 1, got \(smoothing)")
                }
                self.smoothing = smoothing
            }
            width = try integer("width", ChartPagesController.widths, default: 800)
            height = try integer("height", ChartPagesController.heights, default: 320)
            highlight = Set(list("highlight"))
        }
    }

    func metricChart(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let options = try Options(query: query)
        let chart = try await render(options, link: { range in Self.link(path: request.uri.path, query: query, range: range) })
        let read = started.duration(to: chart.readDone)
        let total = started.duration(to: .now)
        var headers: HTTPFields = [
            .contentType: "image/svg+xml; charset=utf-8",
            .cacheControl: "no-cache",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        // The chart is a document of its own when opened directly: no script may run in it.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
        headers[HTTPField.Name("Server-Timing")!] = "read;dur=\(Self.milliseconds(read)), total;dur=\(Self.milliseconds(total))"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: chart.svg)))
    }

    /// Reads every run's series (through the store's column reader, on the database's
    /// threads), buckets them over the common x range at one bucket per pixel column, and
    /// draws the chart.
    func render(
        _ options: Options, link: @escaping @Sendable ((min: Double, max: Double)?) -> String
    ) async throws -> (svg: String, readDone: ContinuousClock.Instant) {
        let axis: MetricSeriesAxis = options.xAxis == .step ? .step : .timestamp
        var loaded: [(id: String, name: String, series: MetricSeries, offset: Int64)] = []
        for runID in options.runIDs {
            let run = try await store.getRun(id: runID)
            let offset = options.xAxis == .relative ? run.info.startTime : 0
            let range = Self.storeRange(min: options.xMin, max: options.xMax, offset: offset)
            let series = try await store.metricSeries(runID: runID, key: options.key, axis: axis, xRange: range)
            loaded.append((runID, run.info.runName.isEmpty ? runID : run.info.runName, series, offset))
        }
        let readDone = ContinuousClock.now

        // The range drawn: the one asked for, else what the data spans.
        var low = options.xMin ?? .infinity
        var high = options.xMax ?? -.infinity
        if options.xMin == nil || options.xMax == nil {
            for entry in loaded {
                for x in entry.series.xs {
                    let shifted = Double(x &- entry.offset)
                    if options.xMin == nil, shifted < low { low = shifted }
                    if options.xMax == nil, shifted > high { high = shifted }
                }
            }
        }
        if !(low <= high) { (low, high) = low.isFinite ? (low, low) : high.isFinite ? (high, high) : (0, 1) }
        let buckets = LineChart.plotWidth(forWidth: options.width)
        let series = loaded.map { entry in
            var bucketer = SeriesBucketer(xMin: low, xMax: high, bucketCount: buckets)
            bucketer.add(xs: entry.series.xs, values: entry.series.values, xOffset: entry.offset)
            return LineChart.Series(id: entry.id, name: entry.name, buckets: bucketer, highlighted: options.highlight.contains(entry.id))
        }
        let chart = LineChart(
            metric: options.key, xAxis: options.xAxis, width: options.width, height: options.height, logScale: options.logScale,
            smoothing: options.smoothing, series: series, zoomed: options.xMin != nil || options.xMax != nil, zoomLink: link)
        return (chart.svg(), readDone)
    }

    /// The stored x range for a drawn range: whole steps or milliseconds inside it, shifted
    /// by the run's start for relative time, clamped to what Int64 holds.
    static func storeRange(min: Double?, max: Double?, offset: Int64) -> ClosedRange<Int64>? {
        guard min != nil || max != nil else { return nil }
        func clamp(_ value: Double) -> Int64 {
            let limit = 9.2e18
            return Int64(Swift.min(Swift.max(value, -limit), limit))
        }
        let low = min.map { clamp($0.rounded(.up)) &+ offset } ?? .min
        let high = max.map { clamp($0.rounded(.down)) &+ offset } ?? .max
        return low <= high ? low...high : low...low
    }

    /// This chart's URL with another x range (nil: the whole series).
    static func link(path: String, query: [(String, String)], range: (min: Double, max: Double)?) -> String {
        var parts = query.filter { $0.0 != "x_min" && $0.0 != "x_max" }
        if let range {
            parts.append(("x_min", queryNumber(range.min)))
            parts.append(("x_max", queryNumber(range.max)))
        }
        let encoded = parts.map { UIFormat.queryValue($0.0) + "=" + UIFormat.queryValue($0.1) }.joined(separator: "&")
        return encoded.isEmpty ? path : path + "?" + encoded
    }

    /// Whole steps and milliseconds as integers; anything else exactly, as `Double` reads it back.
    static func queryNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String((ms * 10).rounded() / 10)
    }
}
