import CairnCore

/// The compare page (`/compare?runs=A,B,…&metric=&param=`): params side by side with the rows
/// that differ marked, the latest metrics, each metric's runs overlaid on one chart, a
/// parallel-coordinates plot of the params against the chosen metric and a scatter of one
/// param against it. Every choice is a link that keeps the rest of the query.
public struct ComparePageView: Sendable {
    public struct Column: Sendable {
        public var name: String
        public var runID: String
        public var url: String
        public var experimentID: String
    }

    public struct Cell: Sendable {
        public var value: String
        public var missing: Bool
    }

    public struct Row: Sendable {
        public var key: String
        public var cells: [Cell]
        public var differs: Bool
        /// Links the row's key to choose it (param or metric) for the plots.
        public var chooseURL: String
        public var isChosen: Bool
    }

    public struct Chart: Sendable {
        public var key: String
        public var url: String
    }

    /// One run's point on the plots, also shown as a table (the plots' text alternative).
    public struct Point: Sendable {
        public var run: String
        public var param: String
        public var metric: String
    }

    public var columns: [Column]
    public var runCount: Int
    public var params: [Row]
    public var hasParams: Bool
    public var differingParams: Int
    public var onlyDifferences: Bool
    public var allRowsURL: String
    public var differencesURL: String
    public var metrics: [Row]
    public var hasMetrics: Bool
    public var charts: [Chart]
    public var chosenMetric: String?
    public var chosenParam: String?
    public var points: [Point]
    public var hasPoints: Bool
    /// Cairn-drawn SVG (`{{{…}}}`): the chart renderers build it from escaped parts.
    public var parallelSVG: String?
    public var scatterSVG: String?

    /// The param and metric keys any of `runs` logged, sorted: what `param=` and `metric=` may name.
    public static func keys(of runs: [Run]) -> (params: [String], metrics: [String]) {
        (Set(runs.flatMap { $0.data.params.map(\.key) }).sorted(), Set(runs.flatMap { $0.data.metrics.map(\.key) }).sorted())
    }

    /// Most metric charts a page draws; the table still lists every metric.
    public static let maximumCharts = 24

    /// - Parameters:
    ///   - runs: the runs in the order the query names them.
    public init(prefix: String, runs: [Run], metric: String?, param: String?, onlyDifferences: Bool) {
        let ids = runs.map(\.info.runID)
        let runsQuery = "runs=\(ids.map(UIFormat.queryValue).joined(separator: ","))"
        func url(metric: String?, param: String?, differences: Bool) -> String {
            var url = "\(prefix)/compare?\(runsQuery)"
            if let metric { url += "&metric=\(UIFormat.queryValue(metric))" }
            if let param { url += "&param=\(UIFormat.queryValue(param))" }
            if differences { url += "&diff=1" }
            return url
        }
        columns = runs.map { run in
            Column(
                name: run.info.runName.isEmpty ? run.info.runID : run.info.runName, runID: run.info.runID,
                url: RunPageView.runPath(prefix: prefix, experimentID: run.info.experimentID, runID: run.info.runID),
                experimentID: run.info.experimentID)
        }
        runCount = runs.count
        let paramValues = runs.map { Dictionary($0.data.params.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }) }
        let metricValues = runs.map { Dictionary($0.data.metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }) }
        let paramKeys = Set(paramValues.flatMap(\.keys)).sorted()
        let metricKeys = Set(metricValues.flatMap(\.keys)).sorted()
        // A param equal in every run is a scatter of one column: the default is the first that
        // tells the runs apart (the first of all when none does).
        let differingKeys = paramKeys.filter { key in Set(paramValues.map { $0[key] ?? "\u{0}missing" }).count > 1 }
        let chosenMetric = metric.flatMap { metricKeys.contains($0) ? $0 : nil } ?? metricKeys.first
        let chosenParam = param.flatMap { paramKeys.contains($0) ? $0 : nil } ?? differingKeys.first ?? paramKeys.first
        self.chosenMetric = chosenMetric
        self.chosenParam = chosenParam

        var paramRows: [Row] = []
        for key in paramKeys {
            let values = paramValues.map { $0[key] }
            let differs = differingKeys.contains(key)
            paramRows.append(
                Row(
                    key: key, cells: values.map { Cell(value: $0 ?? "—", missing: $0 == nil) }, differs: differs,
                    chooseURL: url(metric: chosenMetric, param: key, differences: onlyDifferences), isChosen: key == chosenParam))
        }
        differingParams = paramRows.filter(\.differs).count
        params = onlyDifferences ? paramRows.filter(\.differs) : paramRows
        hasParams = !params.isEmpty
        self.onlyDifferences = onlyDifferences
        allRowsURL = url(metric: chosenMetric, param: chosenParam, differences: false)
        differencesURL = url(metric: chosenMetric, param: chosenParam, differences: true)

        metrics = metricKeys.map { key in
            let values = metricValues.map { $0[key] }
            let distinct = Set(values.map { $0.map { $0.isNaN ? "NaN" : "\($0)" } ?? "missing" })
            return Row(
                key: key, cells: values.map { Cell(value: $0.map(UIFormat.metric) ?? "—", missing: $0 == nil) },
                differs: distinct.count > 1, chooseURL: url(metric: key, param: chosenParam, differences: onlyDifferences),
                isChosen: key == chosenMetric)
        }
        hasMetrics = !metrics.isEmpty
        let chartRuns = ids.map(UIFormat.queryValue).joined(separator: ",")
        charts = metricKeys.prefix(Self.maximumCharts).map { key in
            Chart(key: key, url: "\(prefix)/charts/metric.svg?runs=\(chartRuns)&key=\(UIFormat.queryValue(key))&width=480&height=220")
        }

        var points: [Point] = []
        if let chosenMetric, let chosenParam {
            for index in runs.indices {
                guard let value = paramValues[index][chosenParam], let metricValue = metricValues[index][chosenMetric] else { continue }
                points.append(Point(run: columns[index].name, param: value, metric: UIFormat.metric(metricValue)))
            }
        }
        self.points = points
        hasPoints = !points.isEmpty
        parallelSVG = chosenMetric.flatMap {
            ComparePlots.parallel(runs: runs, paramKeys: differingKeys.isEmpty ? paramKeys : differingKeys, metric: $0)
        }
        scatterSVG = chosenMetric.flatMap { metric in chosenParam.flatMap { ComparePlots.scatter(runs: runs, param: $0, metric: metric) } }
    }
}

/// The compare page when fewer than two runs were selected: what to do, and the way back.
public struct CompareSelectionView: Sendable {
    public var hasOne: Bool
    public var backURL: String

    public init(selected: Int, backURL: String) {
        hasOne = selected == 1
        self.backURL = backURL
    }
}
