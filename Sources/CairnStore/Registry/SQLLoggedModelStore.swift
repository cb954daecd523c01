import CairnCore
import Foundation
import SQLKit

/// Logged models on any `MetadataDatabase`. Every write is one transaction that first checks
/// its preconditions, so a refused request changes nothing.
public struct SQLLoggedModelStore: LoggedModelStore {
    let database: any MetadataDatabase
    /// Milliseconds since the epoch; injected so tests can pin time.
    let now: WallClock

    public init(database: any MetadataDatabase, now: @escaping WallClock = SystemClock.now) {
        self.database = database
        self.now = now
    }

    public func createLoggedModel(_ request: CreateLoggedModel) async throws -> LoggedModel {
        let experimentKey = try SQLTrackingStore.experimentKey(request.experimentID)
        try RegistryValidation.validateLoggedModelName(request.name)
        let name = request.name ?? RunNameGenerator.generate()
        let modelType = request.modelType ?? ""
        let sourceRunID = request.sourceRunID ?? ""
        try TrackingValidation.validateText(modelType, name: "model_type")
        try TrackingValidation.validateText(sourceRunID, name: "source_run_id")
        let params = try Self.validatedParams(request.params)
        let tags = try Self.validatedTags(request.tags)
        let modelID = CairnID.make(prefix: "m-")
        let now = now()
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
            let location = SQLTrackingStore.join(
                try row.decode(column: "artifact_location", as: String.self), "models", modelID, "artifacts")
            try await sql.raw(
                """
                INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,
                    last_updated_timestamp_ms, status, status_message, model_type, source_run_id, lifecycle_stage)
                VALUES (\(bind: modelID), \(bind: experimentKey), \(bind: name), \(bind: location), \(bind: now), \(bind: now),
                    \(bind: LoggedModelStatus.pending.rawValue), NULL, \(bind: modelType), \(bind: sourceRunID), 'active')
                """
            ).run()
            try await Self.insertParams(sql, modelID: modelID, params: params)
            try await Self.upsertTags(sql, modelID: modelID, tags: tags)
            let info = LoggedModelInfo(
                modelID: modelID, experimentID: String(experimentKey), name: name, creationTimestamp: now,
                lastUpdatedTimestamp: now, artifactUri: location, status: .pending, modelType: modelType,
                sourceRunID: sourceRunID, tags: tags.sorted { $0.key < $1.key }
            )
            return LoggedModel(info: info, data: LoggedModelData(params: params.sorted { $0.key < $1.key }))
        }
    }

    public func getLoggedModel(id: String, allowDeleted: Bool) async throws -> LoggedModel {
        let models = try await database.read { sql in
            try await Self.loadLoggedModels(sql, ids: [id])
        }
        guard let model = models.first, allowDeleted || model.info.lifecycleStage == .active else {
            throw Self.notFound(id)
        }
        return model
    }

    public func finalizeLoggedModel(id: String, status: LoggedModelStatus) async throws -> LoggedModel {
        let now = now()
        return try await database.transaction { sql in
            try await Self.requireRecord(sql, id: id)
            try await sql.raw(
                """
                UPDATE logged_models SET status = \(bind: status.rawValue), last_updated_timestamp_ms = \(bind: now)
                WHERE model_id = \(bind: id)
                """
            ).run()
            guard let model = try await Self.loadLoggedModels(sql, ids: [id]).first else { throw Self.notFound(id) }
            return model
        }
    }

    /// Soft delete: the model disappears from get and search but its rows stay, as in MLflow.
    public func deleteLoggedModel(id: String) async throws {
        let now = now()
        try await database.transaction { sql in
            try await Self.requireRecord(sql, id: id)
            try await sql.raw(
                """
                UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = \(bind: now)
                WHERE model_id = \(bind: id)
                """
            ).run()
        }
    }

    public func setLoggedModelTags(id: String, tags: [KeyValue]) async throws {
        let tags = try Self.validatedTags(tags)
        try await database.transaction { sql in
            try await Self.requireRecord(sql, id: id)
            try await Self.upsertTags(sql, modelID: id, tags: tags)
        }
    }

    public func deleteLoggedModelTag(id: String, key: String) async throws {
        try await database.transaction { sql in
            try await Self.requireRecord(sql, id: id)
            guard try await sql.raw("SELECT key FROM logged_model_tags WHERE model_id = \(bind: id) AND key = \(bind: key)").first() != nil
            else {
                throw CairnError.notFound("No tag with key '\(key)' found for model with ID '\(id)'.")
            }
            try await sql.raw("DELETE FROM logged_model_tags WHERE model_id = \(bind: id) AND key = \(bind: key)").run()
        }
    }

    public func logLoggedModelParams(id: String, params: [KeyValue]) async throws {
        let params = try Self.validatedParams(params)
        try await database.transaction { sql in
            try await Self.requireRecord(sql, id: id)
            try await Self.insertParams(sql, modelID: id, params: params)
        }
    }

    // MARK: - Helpers shared with the registry store

    static func notFound(_ id: String) -> CairnError {
        .notFound("Logged model with ID '\(id)' not found.")
    }

    /// The model row whatever its lifecycle stage: MLflow finalizes, tags and deletes deleted
    /// models too, and only get and search hide them.
    static func requireRecord(_ sql: any SQLDatabase, id: String) async throws {
        guard try await sql.raw("SELECT model_id FROM logged_models WHERE model_id = \(bind: id)").first() != nil else {
            throw notFound(id)
        }
    }

    static func validatedTags(_ tags: [KeyValue]) throws(CairnError) -> [KeyValue] {
        for tag in tags {
            try TrackingValidation.validateKey(tag.key, kind: "key")
            try TrackingValidation.validateText(tag.value, name: "value")
        }
        return SQLTrackingStore.lastWins(tags)
    }

    /// Params are write-once like run params: a retried identical value is accepted, a
    /// different one for the same key is refused.
    static func validatedParams(_ params: [KeyValue]) throws(CairnError) -> [KeyValue] {
        var seen: [String: String] = [:]
        var result: [KeyValue] = []
        for param in params {
            try TrackingValidation.validateKey(param.key, kind: "key")
            try TrackingValidation.validateText(param.value, name: "value")
            if let previous = seen[param.key] {
                guard previous == param.value else {
                    throw .invalidParameter(
                        "Duplicate parameter keys have been submitted: ['\(param.key)']. Please ensure the request contains only one param value per param key."
                    )
                }
                continue
            }
            seen[param.key] = param.value
            result.append(param)
        }
        return result
    }

    static func insertParams(_ sql: any SQLDatabase, modelID: String, params: [KeyValue]) async throws {
        try await KeyValueRows.insertWriteOnce(sql, table: "logged_model_params", ownerColumn: "model_id", owner: modelID, pairs: params) {
            param, old in
            CairnError.invalidParameter(
                "Changing param values is not allowed. Param with key='\(param.key)' was already logged with value='\(old)' for logged model ID='\(modelID)'. Attempted logging new value '\(param.value)'."
            )
        }
    }

    static func upsertTags(_ sql: any SQLDatabase, modelID: String, tags: [KeyValue]) async throws {
        try await KeyValueRows.insert(sql, table: "logged_model_tags", ownerColumn: "model_id", owner: modelID, pairs: tags, upsert: true)
    }

    /// Records that `name`/`version` was registered from the model, in the logged-model tag
    /// `mlflow.modelVersions` (a JSON list, written like Python's `json.dumps` because the
    /// client reads and rewrites it).
    static func appendModelVersionTag(_ sql: any SQLDatabase, modelID: String, name: String, version: Int64) async throws {
        let row = try await sql.raw(
            """
            SELECT value FROM logged_model_tags WHERE model_id = \(bind: modelID) AND key = \(bind: RegistryValidation.modelVersionsTagKey)
            """
        ).first()
        let entry = JSONValue.object(["name": .string(name), "version": .number(Double(version), raw: String(version))])
        var entries: [JSONValue] = []
        // A value that is not a JSON list (the tag is client-writable) is replaced rather than
        // failing the registration.
        if let text = try row?.decode(column: "value", as: String.self), case .array(let existing)? = try? JSONValue.parse(text) {
            entries = existing
        }
        if !entries.contains(entry) { entries.append(entry) }
        let value = PythonJSON.dumps(.array(entries))
        try await upsertTags(sql, modelID: modelID, tags: [KeyValue(key: RegistryValidation.modelVersionsTagKey, value: value)])
    }

    static let infoColumns = """
        lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.creation_timestamp_ms, lm.last_updated_timestamp_ms,
        lm.status, lm.status_message, lm.model_type, lm.source_run_id, lm.lifecycle_stage
        """

    static func info(from row: any SQLRow) throws -> LoggedModelInfo {
        LoggedModelInfo(
            modelID: try row.decode(column: "model_id", as: String.self),
            experimentID: String(try row.decode(column: "experiment_id", as: Int64.self)),
            name: try row.decode(column: "name", as: String.self),
            creationTimestamp: try row.decode(column: "creation_timestamp_ms", as: Int64.self),
            lastUpdatedTimestamp: try row.decode(column: "last_updated_timestamp_ms", as: Int64.self),
            artifactUri: try row.decode(column: "artifact_location", as: String.self),
            status: LoggedModelStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .unspecified,
            statusMessage: try row.decode(column: "status_message", as: String?.self),
            modelType: try row.decode(column: "model_type", as: String.self),
            sourceRunID: try row.decode(column: "source_run_id", as: String.self),
            lifecycleStage: LifecycleStage(rawValue: try row.decode(column: "lifecycle_stage", as: String.self)) ?? .active
        )
    }

    /// Loads whole models (info, tags, params, metrics) in the order of `ids`, deleted ones
    /// included, with one query per table.
    static func loadLoggedModels(_ sql: any SQLDatabase, ids: [String]) async throws -> [LoggedModel] {
        guard !ids.isEmpty else { return [] }
        var models: [String: LoggedModel] = [:]
        for chunk in chunked(ids) {
            let idList = inList(Array(chunk))
            for row in try await sql.raw("SELECT \(unsafeRaw: infoColumns) FROM logged_models lm WHERE lm.model_id IN \(idList)").all() {
                let info = try info(from: row)
                models[info.modelID] = LoggedModel(info: info)
            }
            for row in try await sql.raw("SELECT model_id, key, value FROM logged_model_tags WHERE model_id IN \(idList) ORDER BY key")
                .all()
            {
                let id = try row.decode(column: "model_id", as: String.self)
                models[id]?.info.tags.append(
                    KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
            }
            for row in try await sql.raw("SELECT model_id, key, value FROM logged_model_params WHERE model_id IN \(idList) ORDER BY key")
                .all()
            {
                let id = try row.decode(column: "model_id", as: String.self)
                models[id]?.data.params.append(
                    KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
            }
            for row in try await sql.raw(
                """
                SELECT run_uuid, key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest FROM metrics
                WHERE model_id IN \(idList) ORDER BY key, timestamp, step, run_uuid
                """
            ).all() {
                var metric = try SQLTrackingStore.metric(from: row)
                metric.runID = try row.decode(column: "run_uuid", as: String.self)
                if let id = metric.modelID { models[id]?.data.metrics.append(metric) }
            }
        }
        return ids.compactMap { models[$0] }
    }
}

/// Splits a list for IN clauses and multi-row inserts, keeping every statement far below the
/// bind-parameter limits of SQLite and PostgreSQL.
func chunked<T>(_ items: [T], size: Int = 500) -> [ArraySlice<T>] {
    stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
}

/// JSON as Python's `json.dumps` writes it with default arguments (`", "` and `": "`
/// separators, non-ASCII escaped), for values the Python client parses and rewrites.
enum PythonJSON {
    static func dumps(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(_, let raw): out += raw
        case .string(let text): quote(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += ", " }
                write(item, to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, item)) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out += ", " }
                quote(key, to: &out)
                out += ": "
                write(item, to: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ text: String, to out: inout String) {
        out += "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        out += "\""
    }
}
