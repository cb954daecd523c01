import CairnCore
import Foundation
import SQLKit

extension SQLTrackingStore {
    static let runNameTag = "mlflow.runName"

    public func createRun(_ request: CreateRun) async throws -> Run {
        let experimentKey = try Self.experimentKey(request.experimentID)
        let tags = Self.lastWins(request.tags)
        for tag in tags { try TrackingValidation.validateKeyValue(tag) }
        if let runName = request.runName { try TrackingValidation.validateRunName(runName) }
        try TrackingValidation.validateText(request.userID, name: "user_id")
        let taggedName = tags.first(where: { $0.key == Self.runNameTag })?.value
        if let runName = request.runName, let taggedName, runName != taggedName {
            throw CairnError.invalidParameter(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='\(runName)', mlflow.runName='\(taggedName)')."
            )
        }
        let runName = request.runName.flatMap { $0.isEmpty ? nil : $0 } ?? taggedName ?? RunNameGenerator.generate()
        let runID = CairnID.make()
        var storedTags = tags.filter { $0.key != Self.runNameTag }
            .map { KeyValue(key: $0.key, value: TrackingValidation.truncated($0.value, limit: TrackingLimits.maxTagValueLength)) }
        storedTags.append(KeyValue(key: Self.runNameTag, value: runName))
        let tagsToStore = storedTags
        return try await database.transaction { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = \(bind: experimentKey)
                    """
                ).first()
            else {
                throw CairnError.notFound("No Experiment with id=\(request.experimentID) exists")
            }
            let stage = try row.decode(column: "lifecycle_stage", as: String.self)
            guard stage == LifecycleStage.active.rawValue else {
                throw CairnError.invalidParameter(
                    "The experiment \(request.experimentID) must be in the 'active' state. Current state is \(stage).")
            }
            let location = try row.decode(column: "artifact_location", as: String.self)
            let artifactUri = Self.join(location, runID, "artifacts")
            try await sql.raw(
                """
                INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri)
                VALUES (\(bind: runID), \(bind: experimentKey), \(bind: runName), \(bind: request.userID), 'RUNNING',
                        \(bind: request.startTime), NULL, 'active', \(bind: artifactUri))
                """
            ).run()
            try await Self.upsertRunTags(sql, runID: runID, tags: tagsToStore)
            let info = RunInfo(
                runID: runID, experimentID: request.experimentID, runName: runName, userID: request.userID,
                status: .running, startTime: request.startTime, endTime: nil, artifactUri: artifactUri, lifecycleStage: .active
            )
            return Run(info: info, data: RunData(tags: tagsToStore.sorted { $0.key < $1.key }))
        }
    }

    public func getRun(id: String) async throws -> Run {
        try TrackingValidation.validateRunID(id)
        let runs = try await database.read { sql in
            try await Self.loadRuns(sql, ids: [id])
        }
        guard let run = runs.first else {
            throw CairnError.notFound("Run with id=\(id) not found")
        }
        return run
    }

    public func updateRun(id: String, status: RunStatus?, endTime: Int64?, runName: String?) async throws -> RunInfo {
        try TrackingValidation.validateRunID(id)
        if let runName { try TrackingValidation.validateRunName(runName) }
        return try await database.transaction { sql in
            var info = try await Self.requireActiveRun(sql, id: id)
            if let status { info.status = status }
            if let endTime { info.endTime = endTime }
            if let runName, !runName.isEmpty {
                info.runName = runName
                try await Self.upsertRunTags(sql, runID: id, tags: [KeyValue(key: Self.runNameTag, value: runName)])
            }
            try await sql.raw(
                """
                UPDATE runs SET status = \(bind: info.status.rawValue), end_time = \(bind: info.endTime), name = \(bind: info.runName)
                WHERE run_uuid = \(bind: id)
                """
            ).run()
            return info
        }
    }

    public func deleteRun(id: String) async throws {
        try TrackingValidation.validateRunID(id)
        let now = now()
        try await database.transaction { sql in
            _ = try await Self.loadRunInfo(sql, id: id)
            try await sql.raw(
                """
                UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = \(bind: now) WHERE run_uuid = \(bind: id)
                """
            ).run()
        }
    }

    public func restoreRun(id: String) async throws {
        try TrackingValidation.validateRunID(id)
        try await database.transaction { sql in
            _ = try await Self.loadRunInfo(sql, id: id)
            try await sql.raw("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = \(bind: id)").run()
        }
    }

    public func logBatch(runID: String, metrics: [Metric], params: [KeyValue], tags: [KeyValue]) async throws {
        try TrackingValidation.validateRunID(runID)
        try Self.validateBatch(metrics: metrics, params: params, tags: tags)
        let params = params.map {
            KeyValue(key: $0.key, value: TrackingValidation.truncated($0.value, limit: TrackingLimits.maxParamValueLength))
        }
        let tags = Self.lastWins(tags).map {
            KeyValue(key: $0.key, value: TrackingValidation.truncated($0.value, limit: TrackingLimits.maxTagValueLength))
        }
        try await database.transaction { sql in
            _ = try await Self.requireActiveRun(sql, id: runID)
            if !params.isEmpty { try await Self.insertParams(sql, runID: runID, params: params) }
            if !tags.isEmpty {
                try await Self.upsertRunTags(sql, runID: runID, tags: tags)
                if let name = tags.last(where: { $0.key == Self.runNameTag })?.value {
                    try await sql.raw("UPDATE runs SET name = \(bind: name) WHERE run_uuid = \(bind: runID)").run()
                }
            }
            if !metrics.isEmpty { try await Self.insertMetrics(sql, runID: runID, metrics: metrics) }
        }
    }

    public func deleteTag(runID: String, key: String) async throws {
        try TrackingValidation.validateRunID(runID)
        try await database.transaction { sql in
            _ = try await Self.requireActiveRun(sql, id: runID)
            guard try await sql.raw("SELECT key FROM run_tags WHERE run_uuid = \(bind: runID) AND key = \(bind: key)").first() != nil else {
                throw CairnError.notFound("No tag with name: \(key) in run with id \(runID)")
            }
            try await sql.raw("DELETE FROM run_tags WHERE run_uuid = \(bind: runID) AND key = \(bind: key)").run()
        }
    }

    public func logInputs(runID: String, datasets: [DatasetInput], models: [ModelReference]) async throws {
        try TrackingValidation.validateRunID(runID)
        for input in datasets {
            try TrackingValidation.validateDataset(input.dataset)
            for tag in input.tags { try TrackingValidation.validateInputTag(tag) }
        }
        try await database.transaction { sql in
            let info = try await Self.requireActiveRun(sql, id: runID)
            let experimentKey = try Self.experimentKey(info.experimentID)
            for input in datasets {
                let dataset = input.dataset
                let candidate = CairnID.make()
                // The first log of a (name, digest) in an experiment defines the dataset;
                // later logs reuse it, as MLflow does.
                try await sql.raw(
                    """
                    INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile)
                    VALUES (\(bind: candidate), \(bind: experimentKey), \(bind: dataset.name), \(bind: dataset.digest),
                            \(bind: dataset.sourceType), \(bind: dataset.source), \(bind: dataset.schema), \(bind: dataset.profile))
                    ON CONFLICT (experiment_id, name, digest) DO NOTHING
                    """
                ).run()
                let datasetID = try await sql.raw(
                    """
                    SELECT dataset_uuid FROM datasets
                    WHERE experiment_id = \(bind: experimentKey) AND name = \(bind: dataset.name) AND digest = \(bind: dataset.digest)
                    """
                ).first()!.decode(column: "dataset_uuid", as: String.self)
                try await sql.raw(
                    """
                    INSERT INTO run_dataset_inputs (run_uuid, dataset_uuid) VALUES (\(bind: runID), \(bind: datasetID))
                    ON CONFLICT (run_uuid, dataset_uuid) DO NOTHING
                    """
                ).run()
                for tag in Self.lastWins(input.tags) {
                    try await sql.raw(
                        """
                        INSERT INTO run_dataset_input_tags (run_uuid, dataset_uuid, key, value)
                        VALUES (\(bind: runID), \(bind: datasetID), \(bind: tag.key), \(bind: tag.value))
                        ON CONFLICT (run_uuid, dataset_uuid, key) DO UPDATE SET value = excluded.value
                        """
                    ).run()
                }
            }
            try await Self.linkModels(sql, runID: runID, models: models, direction: "input")
        }
    }

    public func logOutputs(runID: String, models: [ModelReference]) async throws {
        try TrackingValidation.validateRunID(runID)
        try await database.transaction { sql in
            _ = try await Self.requireActiveRun(sql, id: runID)
            try await Self.linkModels(sql, runID: runID, models: models, direction: "output")
        }
    }

    // MARK: - Helpers

    static func linkModels(_ sql: any SQLDatabase, runID: String, models: [ModelReference], direction: String) async throws {
        for model in models {
            guard !model.modelID.isEmpty else { throw CairnError.missingParameter("model_id") }
            try await sql.raw(
                """
                INSERT INTO run_model_links (run_uuid, model_id, direction, step)
                VALUES (\(bind: runID), \(bind: model.modelID), \(bind: direction), \(bind: model.step))
                ON CONFLICT (run_uuid, model_id, direction) DO UPDATE SET step = excluded.step
                """
            ).run()
        }
    }

    static func validateBatch(metrics: [Metric], params: [KeyValue], tags: [KeyValue]) throws(CairnError) {
        if metrics.count > TrackingLimits.maxMetricsPerBatch {
            throw .invalidParameter(
                "A batch logging request can contain at most \(TrackingLimits.maxMetricsPerBatch) metrics. Got \(metrics.count) metrics. Please split up metrics across multiple requests and try again."
            )
        }
        if params.count > TrackingLimits.maxParamsTagsPerBatch {
            throw .invalidParameter(
                "A batch logging request can contain at most \(TrackingLimits.maxParamsTagsPerBatch) params. Got \(params.count) params. Please split up params across multiple requests and try again."
            )
        }
        if tags.count > TrackingLimits.maxParamsTagsPerBatch {
            throw .invalidParameter(
                "A batch logging request can contain at most \(TrackingLimits.maxParamsTagsPerBatch) tags. Got \(tags.count) tags. Please split up tags across multiple requests and try again."
            )
        }
        let total = metrics.count + params.count + tags.count
        if total > TrackingLimits.maxEntitiesPerBatch {
            throw .invalidParameter(
                "A batch logging request can contain at most \(TrackingLimits.maxEntitiesPerBatch) metrics, params, and tags in total. Got \(total) total entities."
            )
        }
        for metric in metrics {
            try TrackingValidation.validateKey(metric.key, kind: "key")
            try TrackingValidation.validateMetricTimestamp(metric.timestamp)
        }
        var paramKeys: Set<String> = []
        for param in params {
            try TrackingValidation.validateKeyValue(param)
            guard paramKeys.insert(param.key).inserted else {
                throw .invalidParameter(
                    "Duplicate parameter keys have been submitted: ['\(param.key)']. Please ensure the request contains only one param value per param key."
                )
            }
        }
        for tag in tags { try TrackingValidation.validateKeyValue(tag) }
    }

    /// Params are write-once: the same value again is accepted (clients retry), another is refused.
    static func insertParams(_ sql: any SQLDatabase, runID: String, params: [KeyValue]) async throws {
        try await KeyValueRows.insertWriteOnce(sql, table: "run_params", ownerColumn: "run_uuid", owner: runID, pairs: params) {
            param, old in
            CairnError.invalidParameter(
                "Changing param values is not allowed. Params were already logged='[{'key': '\(param.key)', 'old_value': '\(old)', 'new_value': '\(param.value)'}]' for run ID='\(runID)'."
            )
        }
    }

    static func upsertRunTags(_ sql: any SQLDatabase, runID: String, tags: [KeyValue]) async throws {
        try await KeyValueRows.insert(sql, table: "run_tags", ownerColumn: "run_uuid", owner: runID, pairs: tags, upsert: true)
    }

    /// Inserts metric points (a retried point is a no-op) and moves each key's latest value
    /// forward when a point is newer by (step, timestamp, value), MLflow's definition.
    ///
    /// A point re-logged with a `model_id` (the client does this when a model is logged in a
    /// run) links the existing point to that logged model, whose metrics are exactly the
    /// points carrying its id.
    static func insertMetrics(_ sql: any SQLDatabase, runID: String, metrics: [Metric]) async throws {
        let points = distinctPoints(metrics)
        // SQLite and PostgreSQL cap bound parameters per statement; 100 rows of 9 stay far below.
        for chunkStart in stride(from: 0, to: points.count, by: 100) {
            let chunk = points[chunkStart..<min(chunkStart + 100, points.count)]
            var query: SQLQueryString = """
                INSERT INTO metrics (run_uuid, key, timestamp, step, value, is_nan, model_id, dataset_name, dataset_digest) VALUES
                """
            for (index, metric) in chunk.enumerated() {
                query.appendLiteral(index > 0 ? ", (" : " (")
                query.appendInterpolation(bind: runID)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.key)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.timestamp)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.step)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: storedValue(metric.value))
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.value.isNaN)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.modelID)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.datasetName)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: metric.datasetDigest)
                query.appendLiteral(")")
            }
            query.appendLiteral(
                """
                 ON CONFLICT (run_uuid, key, timestamp, step, value, is_nan) DO UPDATE SET model_id = excluded.model_id,
                    dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest
                 WHERE metrics.model_id IS NULL AND excluded.model_id IS NOT NULL
                """)
            try await sql.raw(query).run()
        }

        var latest: [String: Metric] = [:]
        for metric in metrics {
            if let current = latest[metric.key], !isNewer(metric, than: current) { continue }
            latest[metric.key] = metric
        }
        var query: SQLQueryString = "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES "
        // In key order: PostgreSQL locks the rows in the order given, and two batches to one
        // run (two requests, or two replicas) that lock the same keys in different orders
        // deadlock, one of them failing; a dictionary's order differs per request.
        for (index, metric) in latest.values.sorted(by: { $0.key < $1.key }).enumerated() {
            query.appendLiteral(index > 0 ? ", (" : "(")
            query.appendInterpolation(bind: runID)
            query.appendLiteral(", ")
            query.appendInterpolation(bind: metric.key)
            query.appendLiteral(", ")
            query.appendInterpolation(bind: storedValue(metric.value))
            query.appendLiteral(", ")
            query.appendInterpolation(bind: metric.value.isNaN)
            query.appendLiteral(", ")
            query.appendInterpolation(bind: metric.timestamp)
            query.appendLiteral(", ")
            query.appendInterpolation(bind: metric.step)
            query.appendLiteral(")")
        }
        query.appendLiteral(
            """
             ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
                timestamp = excluded.timestamp, step = excluded.step
             WHERE excluded.step > latest_metrics.step
                OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
                OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp
                    AND excluded.value > latest_metrics.value)
            """)
        try await sql.raw(query).run()
        try await updateMetricBlocks(sql, runID: runID, points: points)
    }

    /// One point per unique key of `metrics` (PostgreSQL refuses an upsert that touches a row
    /// twice in one statement), preferring the copy that names a logged model.
    static func distinctPoints(_ metrics: [Metric]) -> [Metric] {
        struct PointKey: Hashable {
            var key: String
            var timestamp: Int64
            var step: Int64
            var value: Double
            var isNaN: Bool
        }
        var index: [PointKey: Int] = [:]
        var result: [Metric] = []
        result.reserveCapacity(metrics.count)
        for metric in metrics {
            let pointKey = PointKey(
                key: metric.key, timestamp: metric.timestamp, step: metric.step, value: storedValue(metric.value), isNaN: metric.value.isNaN
            )
            if let existing = index[pointKey] {
                if result[existing].modelID == nil, metric.modelID != nil { result[existing] = metric }
            } else {
                index[pointKey] = result.count
                result.append(metric)
            }
        }
        return result
    }

    /// NaN has no SQL representation (SQLite turns it into NULL), so it is stored as 0 with
    /// `is_nan` set; infinities are stored as the largest finite doubles. Both as MLflow's SQL
    /// store does (`sanitize_metric_value`), so a history, a latest value and a search read
    /// back what `mlflow server` answers: ±1.7976931348623157e308 for ±inf, and a NaN in its
    /// place among the points of one (timestamp, step) as if it were 0.
    static func storedValue(_ value: Double) -> Double {
        value.isNaN ? 0 : min(max(value, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
    }

    static func isNewer(_ candidate: Metric, than current: Metric) -> Bool {
        if candidate.step != current.step { return candidate.step > current.step }
        if candidate.timestamp != current.timestamp { return candidate.timestamp > current.timestamp }
        return storedValue(candidate.value) > storedValue(current.value)
    }

    static func join(_ base: String, _ parts: String...) -> String {
        var result = base
        for part in parts {
            if !result.hasSuffix("/") { result += "/" }
            result += part
        }
        return result
    }

    static func loadRunInfo(_ sql: any SQLDatabase, id: String) async throws -> RunInfo {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: runInfoColumns()) FROM runs WHERE run_uuid = \(bind: id)").first() else {
            throw CairnError.notFound("Run with id=\(id) not found")
        }
        return try runInfo(from: row)
    }

    static func requireActiveRun(_ sql: any SQLDatabase, id: String) async throws -> RunInfo {
        let info = try await loadRunInfo(sql, id: id)
        guard info.lifecycleStage == .active else {
            throw CairnError.invalidParameter(
                "The run \(id) must be in the 'active' state. Current state is \(info.lifecycleStage.rawValue).")
        }
        return info
    }

    static func runInfo(from row: any SQLRow) throws -> RunInfo {
        RunInfo(
            runID: try row.decode(column: "run_uuid", as: String.self),
            experimentID: String(try row.decode(column: "experiment_id", as: Int64.self)),
            runName: try row.decode(column: "name", as: String.self),
            userID: try row.decode(column: "user_id", as: String.self),
            status: RunStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .running,
            startTime: try row.decode(column: "start_time", as: Int64.self),
            endTime: try row.decode(column: "end_time", as: Int64?.self),
            artifactUri: try row.decode(column: "artifact_uri", as: String.self),
            lifecycleStage: LifecycleStage(rawValue: try row.decode(column: "lifecycle_stage", as: String.self)) ?? .active
        )
    }

    /// The columns `runInfo(from:)` reads, for a `runs` table aliased with `prefix`.
    static func runInfoColumns(prefix: String = "") -> String {
        ["run_uuid", "experiment_id", "name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    /// Loads whole runs (info, latest metrics, params, tags, inputs, outputs) in the order of
    /// `ids`, with one query per table rather than one per run.
    static func loadRuns(_ sql: any SQLDatabase, ids: [String]) async throws -> [Run] {
        guard !ids.isEmpty else { return [] }
        var infos: [String: RunInfo] = [:]
        for row in try await sql.raw("SELECT \(unsafeRaw: runInfoColumns()) FROM runs WHERE run_uuid IN \(inList(ids))").all() {
            let info = try runInfo(from: row)
            infos[info.runID] = info
        }
        return try await loadRuns(sql, infos: ids.compactMap { infos[$0] })
    }

    /// Completes `infos` into whole runs, in their order.
    ///
    /// Rows come in primary-key order (run, then key), which needs no sort: each run's
    /// metrics, params and tags are in key order, as MLflow lists them.
    static func loadRuns(_ sql: any SQLDatabase, infos: [RunInfo]) async throws -> [Run] {
        guard !infos.isEmpty else { return [] }
        let idList = inList(infos.map(\.runID))
        var runs: [String: Run] = [:]
        runs.reserveCapacity(infos.count)
        for info in infos { runs[info.runID] = Run(info: info) }
        for row in try await sql.raw(
            """
            SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_uuid IN \(idList) ORDER BY run_uuid, key
            """
        ).all() {
            let runID = try row.decode(column: "run_uuid", as: String.self)
            let isNaN = try row.decode(column: "is_nan", as: Bool.self)
            runs[runID]?.data.metrics.append(
                Metric(
                    key: try row.decode(column: "key", as: String.self),
                    value: isNaN ? .nan : try row.decode(column: "value", as: Double.self),
                    timestamp: try row.decode(column: "timestamp", as: Int64.self),
                    step: try row.decode(column: "step", as: Int64.self)
                ))
        }
        for row in try await sql.raw("SELECT run_uuid, key, value FROM run_params WHERE run_uuid IN \(idList) ORDER BY run_uuid, key").all()
        {
            let runID = try row.decode(column: "run_uuid", as: String.self)
            runs[runID]?.data.params.append(
                KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
        }
        for row in try await sql.raw("SELECT run_uuid, key, value FROM run_tags WHERE run_uuid IN \(idList) ORDER BY run_uuid, key").all() {
            let runID = try row.decode(column: "run_uuid", as: String.self)
            runs[runID]?.data.tags.append(
                KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
        }
        let inputRows = try await sql.raw(
            """
            SELECT i.run_uuid, d.dataset_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
            FROM run_dataset_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid
            WHERE i.run_uuid IN \(idList) ORDER BY d.name, d.digest
            """
        ).all()
        if !inputRows.isEmpty {
            var inputTags: [String: [KeyValue]] = [:]
            for row in try await sql.raw(
                """
                SELECT run_uuid, dataset_uuid, key, value FROM run_dataset_input_tags WHERE run_uuid IN \(idList) ORDER BY key
                """
            ).all() {
                let id = try row.decode(column: "run_uuid", as: String.self) + "/" + row.decode(column: "dataset_uuid", as: String.self)
                inputTags[id, default: []].append(
                    KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
            }
            for row in inputRows {
                let runID = try row.decode(column: "run_uuid", as: String.self)
                let datasetID = try row.decode(column: "dataset_uuid", as: String.self)
                let dataset = Dataset(
                    name: try row.decode(column: "name", as: String.self),
                    digest: try row.decode(column: "digest", as: String.self),
                    sourceType: try row.decode(column: "source_type", as: String.self),
                    source: try row.decode(column: "source", as: String.self),
                    schema: try row.decode(column: "schema", as: String?.self),
                    profile: try row.decode(column: "profile", as: String?.self)
                )
                runs[runID]?.inputs.datasetInputs.append(DatasetInput(tags: inputTags[runID + "/" + datasetID] ?? [], dataset: dataset))
            }
        }
        for row in try await sql.raw(
            """
            SELECT run_uuid, model_id, direction, step FROM run_model_links WHERE run_uuid IN \(idList) ORDER BY model_id
            """
        ).all() {
            let runID = try row.decode(column: "run_uuid", as: String.self)
            let model = ModelReference(
                modelID: try row.decode(column: "model_id", as: String.self), step: try row.decode(column: "step", as: Int64?.self))
            if try row.decode(column: "direction", as: String.self) == "input" {
                runs[runID]?.inputs.modelInputs.append(ModelReference(modelID: model.modelID))
            } else {
                runs[runID]?.outputs.modelOutputs.append(model)
            }
        }
        return infos.compactMap { runs[$0.runID] }
    }
}
