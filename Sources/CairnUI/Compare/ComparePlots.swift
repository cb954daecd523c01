import CairnCore

/// The compare page's two plots, drawn by the chart renderers: the params that differ
/// between the runs (all of them when none differ) as parallel axes with the chosen metric
/// last, and the chosen param against the chosen metric.
enum ComparePlots {
    /// Most param axes one plot draws, beside the metric's.
    static let maximumAxes = 12

    static func parallel(runs: [Run], paramKeys: [String], metric: String) -> String? {
        guard !paramKeys.isEmpty, runs.count > 1 else { return nil }
        let axes = Array(paramKeys.prefix(maximumAxes))
        let rows = runs.compactMap { run -> ParallelCoordinatesChart.Row? in
            guard let value = run.data.metrics.first(where: { $0.key == metric })?.value else { return nil }
            let params = Dictionary(run.data.params.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            return ParallelCoordinatesChart.Row(
                id: run.info.runID, name: name(of: run),
                values: axes.map { params[$0].map(ChartValue.init(param:)) } + [.number(value)])
        }
        guard !rows.isEmpty else { return nil }
        return ParallelCoordinatesChart(axes: axes + [metric], rows: rows).svg(embedded: true)
    }

    static func scatter(runs: [Run], param: String, metric: String) -> String? {
        let points = runs.compactMap { run -> ScatterChart.Point? in
            guard let x = run.data.params.first(where: { $0.key == param })?.value,
                let y = run.data.metrics.first(where: { $0.key == metric })?.value
            else { return nil }
            return ScatterChart.Point(id: run.info.runID, name: name(of: run), x: ChartValue(param: x), y: y)
        }
        guard !points.isEmpty else { return nil }
        return ScatterChart(xLabel: param, yLabel: metric, points: points).svg(embedded: true)
    }

    static func name(of run: Run) -> String { run.info.runName.isEmpty ? run.info.runID : run.info.runName }
}
