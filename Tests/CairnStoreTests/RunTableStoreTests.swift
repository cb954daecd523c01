import CairnCore
import Testing

@testable import CairnStore

/// The web UI's runs table query: pages of top-level runs with their nested runs under them,
/// only the chosen columns, metric aggregates and counts over every page.
@Suite struct RunTableStoreTests {
    func run(
        _ store: SQLTrackingStore, _ name: String, start: Int64, parent: String? = nil, experiment: String = "0",
        params: [String: String] = [:], metrics: [(String, Double, Int64)] = []
    ) async throws -> String {
        var tags: [KeyValue] = []
        if let parent { tags.append(KeyValue(key: "mlflow.parentRunId", value: parent)) }
        let id = try await store.createRun(
            CreateRun(experimentID: experiment, userID: "u", runName: name, startTime: start, tags: tags)
        ).info.runID
        try await store.logBatch(
            runID: id, metrics: metrics.map { Metric(key: $0.0, value: $0.1, timestamp: 1, step: $0.2) },
            params: params.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }, tags: [])
        return id
    }

    func names(_ page: RunTablePage) -> [String] {
        page.rows.map { String(repeating: "-", count: $0.depth) + $0.info.runName }
    }

    @Test func nestedRunsStayUnderTheirParentWhateverTheSort() async throws {
        try await StoreFixture.with { store in
            let a = try await run(store, "a", start: 1, params: ["x": "5"])
            let b = try await run(store, "b", start: 2, params: ["x": "1"])
            _ = try await run(store, "a2", start: 3, parent: a, params: ["x": "9"])
            let a1 = try await run(store, "a1", start: 4, parent: a, params: ["x": "0"])
            _ = try await run(store, "a1x", start: 5, parent: a1, params: ["x": "3"])
            _ = try await run(store, "b1", start: 6, parent: b, params: ["x": "2"])

            let ascending = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], order: OrderByClause(entity: .param, key: "x"), columns: [RunColumn(.param, "x")]))
            #expect(names(ascending) == ["b", "-b1", "a", "-a1", "--a1x", "-a2"])
            #expect(ascending.total == 2)
            #expect(ascending.rows.first?.hasChildren == true)
            #expect(ascending.rows[1].parentRunID == b)
            #expect(ascending.rows.map { $0.params["x"] } == ["1", "2", "5", "0", "3", "9"])

            let descending = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], order: OrderByClause(entity: .param, key: "x", ascending: false)))
            #expect(names(descending) == ["a", "-a2", "-a1", "--a1x", "b", "-b1"])

            // Newest first by default; flat mode sorts every run together.
            let flat = try await store.runTable(RunTableQuery(experimentIDs: ["0"], nested: false))
            #expect(names(flat) == ["b1", "a1x", "a1", "a2", "b", "a"])
            #expect(flat.total == 6)
            #expect(flat.rows[0].parentRunID == b)
        }
    }

    @Test func aRunWhoseParentTheFilterLeavesOutIsTopLevel() async throws {
        try await StoreFixture.with { store in
            let a = try await run(store, "a", start: 1, params: ["x": "5"])
            _ = try await run(store, "a1", start: 2, parent: a, params: ["x": "1"])
            _ = try await run(store, "a2", start: 3, parent: a, params: ["x": "7"])
            let filter = try SearchFilter.parse("params.x != '7'", for: .runs)
            let page = try await store.runTable(RunTableQuery(experimentIDs: ["0"], filter: filter))
            #expect(names(page) == ["a", "-a1"])
            #expect(page.total == 1)
            let children = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], filter: try SearchFilter.parse("params.x != '5'", for: .runs)))
            #expect(names(children) == ["a2", "a1"])
            #expect(children.total == 2)
            #expect(children.rows[0].parentRunID == a)
        }
    }

    @Test func pagesCountTopLevelRunsAndReadOnlyTheirSlice() async throws {
        try await StoreFixture.with { store in
            for index in 0..<7 {
                let parent = try await run(store, "r\(index)", start: Int64(index), metrics: [("loss", Double(index), 0)])
                if index == 2 { _ = try await run(store, "child", start: 100, parent: parent) }
            }
            let second = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], order: OrderByClause(entity: .metric, key: "loss"), offset: 3, limit: 3))
            #expect(second.total == 7)
            #expect(names(second) == ["r3", "r4", "r5"])
            let first = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], order: OrderByClause(entity: .metric, key: "loss"), offset: 0, limit: 3))
            #expect(names(first) == ["r0", "r1", "r2", "-child"])
            let past = try await store.runTable(RunTableQuery(experimentIDs: ["0"], offset: 30, limit: 3))
            #expect(past.rows.isEmpty)
            #expect(past.total == 7)
        }
    }

    @Test func metricColumnsShowLastMinOrMaxAndSortByThemOverEveryRun() async throws {
        try await StoreFixture.with { store in
            // The latest point (by step) is not the smallest nor the largest.
            _ = try await run(store, "spiky", start: 1, metrics: [("loss", 0.5, 0), ("loss", 9, 1), ("loss", .nan, 2), ("loss", 0.7, 3)])
            _ = try await run(store, "flat", start: 2, metrics: [("loss", 0.6, 0), ("loss", 0.6, 1)])
            _ = try await run(store, "nan", start: 3, metrics: [("loss", .nan, 0)])
            _ = try await run(store, "none", start: 4)
            let loss = RunColumn(.metric, "loss")
            func page(_ aggregate: MetricAggregate, ascending: Bool, limit: Int = 10) async throws -> RunTablePage {
                try await store.runTable(
                    RunTableQuery(
                        experimentIDs: ["0"], order: OrderByClause(entity: .metric, key: "loss", ascending: ascending), columns: [loss],
                        aggregate: aggregate, limit: limit))
            }
            let last = try await page(.last, ascending: true)
            #expect(last.rows.map { $0.metrics["loss"].map { $0.isNaN ? "NaN" : "\($0)" } } == ["0.6", "0.7", "NaN", nil])
            let minimum = try await page(.min, ascending: true)
            #expect(names(minimum) == ["spiky", "flat", "none", "nan"])
            #expect(minimum.rows[0].metrics["loss"] == 0.5)
            #expect(minimum.rows[3].metrics["loss"]?.isNaN == true)
            let maximum = try await page(.max, ascending: false, limit: 1)
            #expect(names(maximum) == ["spiky"])
            #expect(maximum.rows[0].metrics["loss"] == 9)
            #expect(maximum.total == 4)
        }
    }

    @Test func onlyChosenColumnsAreLoadedAndDefaultsComeFromThePage() async throws {
        try await StoreFixture.with { store in
            let id = try await run(store, "r", start: 1, params: ["lr": "0.1", "depth": "3"], metrics: [("acc", 0.9, 0)])
            try await store.logBatch(runID: id, metrics: [], params: [], tags: [KeyValue(key: "team", value: "ml")])
            let chosen = try await store.runTable(
                RunTableQuery(experimentIDs: ["0"], columns: [RunColumn(.param, "lr"), RunColumn(.tag, "team")]))
            #expect(chosen.rows[0].params == ["lr": "0.1"])
            #expect(chosen.rows[0].tags == ["team": "ml"])
            #expect(chosen.rows[0].metrics.isEmpty)
            let defaults = try await store.runTable(RunTableQuery(experimentIDs: ["0"]))
            #expect(defaults.columns == [RunColumn(.metric, "acc"), RunColumn(.param, "depth"), RunColumn(.param, "lr")])
            #expect(defaults.rows[0].metrics == ["acc": 0.9])

            let keys = try await store.runColumnKeys(experimentIDs: ["0"], viewType: .activeOnly, limit: 100)
            #expect(keys.params == ["depth", "lr"])
            #expect(keys.metrics == ["acc"])
            #expect(keys.tags == ["mlflow.runName", "team"])
            let other = try await store.createExperiment(name: "other", artifactLocation: nil, tags: [])
            #expect(try await store.runColumnKeys(experimentIDs: [other], viewType: .activeOnly, limit: 100) == RunColumnKeys())
        }
    }

    @Test func severalExperimentsAndTheDeletedView() async throws {
        try await StoreFixture.with { store in
            let other = try await store.createExperiment(name: "other", artifactLocation: nil, tags: [])
            _ = try await run(store, "zero", start: 1)
            let gone = try await run(store, "gone", start: 2, experiment: other)
            _ = try await run(store, "kept", start: 3, experiment: other)
            try await store.deleteRun(id: gone)
            #expect(names(try await store.runTable(RunTableQuery(experimentIDs: ["0", other]))) == ["kept", "zero"])
            #expect(names(try await store.runTable(RunTableQuery(experimentIDs: [other], viewType: .deletedOnly))) == ["gone"])
            #expect(try await store.runTable(RunTableQuery(experimentIDs: ["nope"])).rows.isEmpty)
        }
    }
}
