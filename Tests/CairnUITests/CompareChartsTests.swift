import CairnUI
import Testing

@Suite struct CompareChartsTests {
    @Test func parallelCoordinatesPlaceNumericAndCategoricalParams() {
        let rows = [
            ParallelCoordinatesChart.Row(id: "a", name: "run a", values: [.number(0.1), .category("adam"), .number(0.9)]),
            ParallelCoordinatesChart.Row(id: "b", name: "run b", values: [.number(0.3), .category("sgd"), .number(0.5)]),
            ParallelCoordinatesChart.Row(id: "c", name: "<i>c</i>", values: [nil, .category("adam"), .number(0.7)]),
        ]
        let svg = ParallelCoordinatesChart(axes: ["lr", "optimizer", "accuracy"], rows: rows).svg()
        let drawn = DrawnChart(svg: svg)
        let lines = drawn.paths("pc-line")
        #expect(lines.count == 3)
        // Two full lines of three points; the run without lr starts at the second axis.
        #expect(DrawnChart.vertices(lines[0]).count == 3)
        #expect(DrawnChart.vertices(lines[2]).count == 2)
        // Categories: adam at the bottom, sgd at the top of the optimizer axis.
        #expect(DrawnChart.vertices(lines[0])[1].y > DrawnChart.vertices(lines[1])[1].y)
        #expect(svg.contains(">adam<") && svg.contains(">sgd<"))
        #expect(svg.contains("&lt;i&gt;c&lt;/i&gt;") && !svg.contains("<i>"))
    }

    @Test func chartValuesFromParamsAreNumbersWhenTheyParse() {
        #expect(ChartValue(param: "0.01") == .number(0.01))
        #expect(ChartValue(param: "1e-3") == .number(0.001))
        #expect(ChartValue(param: "adam") == .category("adam"))
        #expect(ChartValue(param: "inf") == .category("inf"))
    }

    @Test func scatterDrawsEveryFinitePointAndCountsTheRest() {
        let points = [
            ScatterChart.Point(id: "a", name: "a", x: .number(1), y: 0.5),
            ScatterChart.Point(id: "b", name: "b", x: .number(2), y: 0.75),
            ScatterChart.Point(id: "c", name: "c", x: .number(3), y: .nan),
            ScatterChart.Point(id: "d", name: "\"><script>", x: .category("x"), y: 1.7976931348623157e308),
        ]
        let svg = ScatterChart(xLabel: "lr", yLabel: "acc", points: points).svg()
        #expect(DrawnChart(svg: svg).count(of: "<circle") == 2)
        #expect(svg.contains("2 not drawn"))
        #expect(!svg.contains("<script"))
        #expect(svg.contains("a: lr=1, acc=0.5"))
    }

    @Test func scatterOnACategoricalParamSpacesCategoriesEvenly() {
        let points = ["adam", "sgd", "adam", "rmsprop"].enumerated().map {
            ScatterChart.Point(id: "\($0.offset)", name: "r\($0.offset)", x: .category($0.element), y: Double($0.offset))
        }
        let svg = ScatterChart(xLabel: "optimizer", yLabel: "loss", points: points).svg()
        #expect(DrawnChart(svg: svg).count(of: "<circle") == 4)
        #expect(svg.contains(">rmsprop<"))
    }
}
