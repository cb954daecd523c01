import CairnUI
import Foundation
import Testing

/// Reads back what a chart drew: the plot's scales from its data attributes and the vertices
/// of its paths, so tests check pixels against values.
struct DrawnChart {
    let svg: String

    func attribute(_ name: String) -> [Double] {
        guard let range = svg.range(of: " \(name)=\"") else { return [] }
        let rest = svg[range.upperBound...]
        return rest[..<rest.firstIndex(of: "\"")!].split(separator: " ").compactMap { Double($0) }
    }

    /// The value at pixel row `y`, inverting the plot's y scale.
    func value(atY y: Double) -> Double {
        let domain = attribute("data-y-domain")
        let range = attribute("data-y-range")
        let fraction = (range[0] - y) / (range[0] - range[1])
        if svg.contains("data-y-scale=\"log\"") {
            return pow(10, log10(domain[0]) + fraction * (log10(domain[1]) - log10(domain[0])))
        }
        return domain[0] + fraction * (domain[1] - domain[0])
    }

    /// The `d` of every `<path>` whose class starts with `className`.
    func paths(_ className: String) -> [String] {
        var result: [String] = []
        var rest = svg[...]
        while let start = rest.range(of: "<path class=\"\(className)") {
            let tagEnd = rest[start.upperBound...].firstIndex(of: ">")!
            let tag = rest[start.lowerBound..<tagEnd]
            if let d = tag.range(of: " d=\"") {
                let value = tag[d.upperBound...]
                result.append(String(value[..<value.firstIndex(of: "\"")!]))
            }
            rest = rest[tagEnd...]
        }
        return result
    }

    static func vertices(_ d: String) -> [(x: Double, y: Double)] {
        let numbers = d.split(whereSeparator: { "MLZ ".contains($0) }).compactMap { Double($0) }
        return stride(from: 0, to: numbers.count - 1, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
    }

    func count(of text: String) -> Int { svg.components(separatedBy: text).count - 1 }
}

@Suite struct LineChartTests {
    func bucketed(_ xs: [Int64], _ values: [Double], width: Int = 800) -> SeriesBucketer {
        var bucketer = SeriesBucketer(
            xMin: Double(xs.min() ?? 0), xMax: Double(xs.max() ?? 1), bucketCount: LineChart.plotWidth(forWidth: width))
        bucketer.add(xs: xs, values: values)
        return bucketer
    }

    @Test func aChartOpenedOnItsOwnPaintsTheBackgroundOfItsColorScheme() throws {
        // Opened directly the SVG is the document's root on the browser's white canvas; dark
        // mode's light text needs its own dark background there.
        let css = LineChart(metric: "loss", series: [.init(id: "r1", name: "run", buckets: bucketed([0, 1], [1, 2]))]).svg()
        let dark = try #require(css.range(of: "@media (prefers-color-scheme: dark)"))
        #expect(css[..<dark.lowerBound].contains(".cairn-chart:root{background:#ffffff"))
        #expect(css[dark.upperBound...].contains(".cairn-chart:root{background:#0f1419"))
    }

    @Test func theDrawnBandReachesAOneStepSpikeAmongAMillionPoints() {
        let (xs, values) = SeriesBucketerTests.spikySeries(count: 1_000_000, spikeStep: 612_345)
        let chart = DrawnChart(svg: LineChart(metric: "loss", series: [.init(id: "r1", name: "run", buckets: bucketed(xs, values))]).svg())
        let bands = chart.paths("band")
        #expect(bands.count == 1)
        let top = DrawnChart.vertices(bands[0]).map(\.y).min()!
        // Coordinates are written to a tenth of a pixel.
        #expect(abs(chart.value(atY: top) - 9) < 0.05)
        // And at the spike's own x: the plot spans 0…999,999 over 720 columns from x=64.
        let spikeX = 64 + 612_345.0 / 999_999 * 720
        let near = DrawnChart.vertices(bands[0]).filter { abs($0.x - spikeX) <= 1 }
        #expect(near.contains { chart.value(atY: $0.y) > 8.9 })
        #expect(chart.svg.contains("1000000 points"))
    }

    /// The spike's column is drawn with a stroke at least a pixel wide, not as fill alone: a
    /// one-column sliver of translucent fill is a hairline the eye misses.
    @Test func theSpikesBandIsStrokedVisibly() throws {
        let (xs, values) = SeriesBucketerTests.spikySeries(count: 1_000_000, spikeStep: 612_345)
        let svg = LineChart(metric: "loss", series: [.init(id: "r1", name: "run", buckets: bucketed(xs, values))]).svg()
        let tag = try #require(svg.components(separatedBy: "<path class=\"band\"").dropFirst().first?.split(separator: ">").first)
        func attribute(_ name: String) -> Double? {
            guard let range = tag.range(of: " \(name)=\"") else { return nil }
            return Double(tag[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect(tag.contains(" stroke=\"#"))
        #expect((attribute("stroke-width") ?? 0) >= 1)
        #expect((attribute("stroke-opacity") ?? 0) >= 0.5)
        #expect((attribute("fill-opacity") ?? 0) >= 0.3)
        #expect(!svg.contains(".band{stroke:none"))
    }

    /// A metric logged once is a marker at its value; a path of one vertex would draw nothing.
    @Test func aSinglePointIsDrawnAsAMarker() throws {
        let chart = DrawnChart(svg: LineChart(metric: "acc", series: [.init(id: "r1", name: "run", buckets: bucketed([7], [0.25]))]).svg())
        #expect(chart.count(of: "<circle class=\"marker\"") == 1)
        let marker = try #require(chart.svg.components(separatedBy: "<circle class=\"marker\"").dropFirst().first)
        let cy = try #require(marker.components(separatedBy: "cy=\"").dropFirst().first.flatMap { Double($0.prefix { $0 != "\"" }) })
        #expect(abs(chart.value(atY: cy) - 0.25) < 0.01)
        // Two points make a line and no marker.
        let two = DrawnChart(
            svg: LineChart(metric: "acc", series: [.init(id: "r1", name: "run", buckets: bucketed([0, 9], [0.25, 0.5]))]).svg())
        #expect(two.count(of: "<circle class=\"marker\"") == 0)
    }

    @Test func textChosenByClientsIsEscaped() {
        let hostile = "<script>alert('x')</script>&\""
        let chart = LineChart(
            metric: hostile, series: [.init(id: "id\"><b>", name: hostile, buckets: bucketed([0, 1], [1, 2]))],
            zoomLink: { range in "/charts/metric.svg?key=%3C&x_min=\(range?.min ?? 0)&a=\"<" }
        ).svg()
        #expect(!chart.contains("<script"))
        #expect(!chart.contains("<b>"))
        #expect(chart.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"))
        #expect(chart.contains("&amp;x_min="))
        #expect(chart.contains("a=&quot;&lt;\""))
    }

    @Test func aLogScaleDrawsPowersOfTenAndSaysWhatItCannotDraw() {
        let chart = DrawnChart(
            svg: LineChart(
                metric: "m", logScale: true, series: [.init(id: "r", name: "r", buckets: bucketed([0, 1, 2, 3], [-1, 0, 10, 1000]))]
            )
            .svg())
        #expect(chart.svg.contains("data-y-scale=\"log\""))
        #expect(chart.svg.contains(">10<") && chart.svg.contains(">1000<"))
        #expect(chart.svg.contains("2 points ≤ 0 not drawn on the log scale"))
        let band = DrawnChart.vertices(chart.paths("band")[0])
        #expect(abs(chart.value(atY: band.map(\.y).min()!) - 1000) < 20)
        #expect(abs(chart.value(atY: band.map(\.y).max()!) - 10) < 0.5)
    }

    @Test func aLogScaleOfOnlyNonPositiveValuesStillRenders() {
        let chart = LineChart(metric: "m", logScale: true, series: [.init(id: "r", name: "r", buckets: bucketed([0, 1], [0, -5]))]).svg()
        #expect(chart.hasSuffix("</svg>\n"))
        let drawn = DrawnChart(svg: chart)
        #expect(drawn.attribute("data-y-domain").count == 2 && drawn.attribute("data-y-domain").allSatisfy(\.isFinite))
        #expect(drawn.paths("band").isEmpty)
        #expect(chart.contains("2 points ≤ 0 not drawn on the log scale"))
    }

    @Test func exponentialMovingAverageIsDebiasedAndWeighsGaps() {
        var buckets = Array(repeating: SeriesBucket(), count: 6)
        for (index, value) in [(0, 0.0), (1, 0), (2, 1), (3, 1), (5, 1)] {
            var bucketer = SeriesBucketer(xMin: 0, xMax: 1, bucketCount: 1)
            bucketer.add(x: 0, value: value)
            buckets[index] = bucketer.buckets[0]
        }
        let smoothed = LineChart.exponentialMovingAverage(buckets, weight: 0.5)
        #expect(smoothed[0] == 0)
        #expect(smoothed[1] == 0)
        // Debiased: the first value is not pulled towards 0 by the empty start.
        #expect(abs(smoothed[2] - 0.5 / 0.875) < 1e-12)
        #expect(smoothed[3] > smoothed[2] && smoothed[3] < 1)
        #expect(smoothed[4].isNaN)
        // Two columns on: decays by 0.25, not 0.5.
        let expected = (smoothed[3] * 0.9375 * 0.25 + 0.75) / (0.9375 * 0.25 + 0.75)
        #expect(abs(smoothed[5] - expected) < 1e-12)
        #expect(LineChart.exponentialMovingAverage(buckets, weight: 0)[2] == 1)
    }

    @Test func smoothingKeepsTheRawLineFaint() {
        let xs = Array(Int64(0)..<100)
        let values = xs.map { Double($0 % 7) }
        let chart = DrawnChart(
            svg: LineChart(metric: "m", smoothing: 0.6, series: [.init(id: "r", name: "r", buckets: bucketed(xs, values))]).svg())
        #expect(chart.paths("raw").count == 1)
        #expect(chart.paths("line smooth").count == 1)
        #expect(chart.svg.contains("EMA 0.6"))
        // The smoothed line stays inside the raw range.
        let smooth = DrawnChart.vertices(chart.paths("line smooth")[0]).map { chart.value(atY: $0.y) }
        #expect(smooth.allSatisfy { $0 >= -0.01 && $0 <= 6.01 })
    }

    @Test func nonFiniteValuesAreMarkedVisibly() {
        let chart = DrawnChart(
            svg: LineChart(
                metric: "m", series: [.init(id: "r", name: "r", buckets: bucketed([0, 1, 2, 3], [1, .nan, 1.7976931348623157e308, 2]))]
            )
            .svg())
        #expect(chart.count(of: "class=\"mark-nan\"") == 1)
        #expect(chart.count(of: "class=\"mark-inf\"") == 1)
        #expect(chart.svg.contains("1 NaN") && chart.svg.contains("1 +∞"))
        // The band stays within the finite values 1…2.
        let band = DrawnChart.vertices(chart.paths("band")[0]).map { chart.value(atY: $0.y) }
        #expect(band.allSatisfy { $0 > 0.99 && $0 < 2.01 })
    }

    @Test func anEmptyChartRenders() {
        let chart = LineChart(metric: "m", series: [.init(id: "r", name: "r", buckets: SeriesBucketer(xMin: 0, xMax: 1, bucketCount: 720))])
            .svg()
        #expect(chart.contains("0 points"))
        #expect(!chart.contains("class=\"band\""))
        #expect(chart.hasSuffix("</svg>\n"))
    }

    @Test func pastFiftyRunsAGroupBandAndTheHighlightedRunsAreDrawn() {
        let series = (0..<60).map { (run: Int) -> LineChart.Series in
            let low = Double(run)
            let buckets = bucketed([0, 10], [low, low + 1])
            return LineChart.Series(id: "run\(run)", name: "run \(run)", buckets: buckets, highlighted: [7, 42].contains(run))
        }
        let chart = DrawnChart(svg: LineChart(metric: "m", series: series).svg())
        #expect(chart.paths("line").count == 2)
        #expect(chart.svg.contains("data-run=\"group\""))
        #expect(chart.svg.contains(">60 runs, min–max</text>"))
        let group = chart.paths("band")[0]
        let values = DrawnChart.vertices(group).map { chart.value(atY: $0.y) }
        #expect(abs(values.min()! - 0) < 0.1 && abs(values.max()! - 60) < 0.1)

        let few = DrawnChart(svg: LineChart(metric: "m", series: Array(series.prefix(12))).svg())
        #expect(few.paths("line").count == 12)
        #expect(few.svg.contains("stroke-dasharray=\"6 3\""))
    }

    @Test func zoomLinksCoverThePlotAndResetWhenZoomed() {
        let chart = LineChart(
            metric: "m", series: [.init(id: "r", name: "r", buckets: bucketed([0, 1000], [1, 2]))], zoomed: true,
            zoomLink: { range in range.map { "?x_min=\(Int($0.min))&x_max=\(Int($0.max))" } ?? "?" }
        ).svg()
        #expect(chart.contains("href=\"?x_min=0&amp;x_max=100\""))
        #expect(chart.contains("href=\"?x_min=900&amp;x_max=1000\""))
        #expect(chart.contains(">reset<"))
        #expect(chart.contains("href=\"?x_min=-500&amp;x_max=1500\""))
    }

    @Test func timeAxesLabelInUTCAndAsDurations() {
        #expect(ChartFormat.wallTime(1_700_000_000_000, span: 3 * 86_400_000) == "2023-11-14")
        #expect(ChartFormat.wallTime(1_700_000_000_000, span: 3_600_000) == "22:13")
        #expect(ChartFormat.wallTime(1_700_000_000_123, span: 1_000) == "22:13:20.123")
        #expect(ChartFormat.step(1e300) == "1e300")
        #expect(ChartFormat.number(1.7976931348623157e308) == "∞")
        #expect(ChartFormat.number(-1.7976931348623157e308) == "-∞")
        #expect(ChartFormat.number(0.30000000000000004) == "0.3")
        #expect(ChartFormat.step(1_500_000) == "1.5M")
    }

    @Test func niceTicksAreRoundNumbers() {
        let scale = ChartScale(domain: (0.013, 0.97), range: (0, 100)).niced(count: 5)
        #expect(scale.domain.lower == 0 && scale.domain.upper == 1)
        #expect(scale.ticks(count: 5).map { ($0 * 10).rounded() / 10 } == [0, 0.2, 0.4, 0.6, 0.8, 1])
        let log = ChartScale(kind: .log, domain: (0.5, 2000), range: (0, 100))
        #expect(log.ticks() == [1, 10, 100, 1000])
    }
}
