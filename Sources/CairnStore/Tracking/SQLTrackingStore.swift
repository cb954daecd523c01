import CairnCore
import Foundation
import SQLKit

/// The tracking store on any `MetadataDatabase`. Every write is one transaction that first
/// checks its preconditions, so a refused request changes nothing.
public struct SQLTrackingStore: TrackingStore {
    let database: any MetadataDatabase
    /// Milliseconds since the epoch; injected so tests can pin time.
    let now: WallClock

    public init(database: any MetadataDatabase, now: @escaping WallClock = SystemClock.now) {
        self.database = database
        self.now = now
    }

    // MARK: - Experiments

    public func createExperiment(name: String, artifactLocation: String?, tags: [KeyValue]) async throws -> String {
        let name = try TrackingValidation.validateExperimentName(name)
        for tag in tags { try Self.validateExperimentTag(tag) }
        let now = now()
        let kind = database.kind
        return try await database.transaction { sql in
            // Turns are taken before the name check too, so two creations of one name meet as a
            // duplicate name rather than a failed insert.
            try await kind.takeTurns(sql, on: "cairn.experiments/experiment_id")
            if try await sql.raw("SELECT experiment_id FROM experiments WHERE name = \(bind: name)").first() != nil {
                throw CairnError.alreadyExists("Experiment(name=\(name)) already exists. Error: Experiment names must be unique.")
            }
            let id = try await kind.nextID(sql, column: "experiment_id", table: "experiments")
            let location = (artifactLocation?.isEmpty == false) ? artifactLocation! : "mlflow-artifacts:/\(id)"
            try await sql.raw(
                """
                INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
                VALUES (\(bind: id), \(bind: name), \(bind: location), 'active', \(bind: now), \(bind: now))
                """
            ).run()
            for tag in Self.lastWins(tags) {
                try await Self.upsertExperimentTag(sql, id: id, tag: tag)
            }
            return String(id)
        }
    }

    public func getExperiment(id: String) async throws -> Experiment {
        let numericID = try Self.experimentKey(id)
        let experiments = try await database.read { sql in
            try await Self.loadExperiments(sql, where: "e.experiment_id = \(bind: numericID)")
        }
        guard let experiment = experiments.first else {
            throw CairnError.notFound("No Experiment with id=\(id) exists")
        }
        return experiment
    }

    public func getExperiment(name: String) async throws -> Experiment? {
        try await database.read { sql in
            try await Self.loadExperiments(sql, where: "e.name = \(bind: name)").first
        }
    }

    public func renameExperiment(id: String, newName: String) async throws {
        let newName = try TrackingValidation.validateExperimentName(newName)
        let numericID = try Self.experimentKey(id)
        let now = now()
        try await database.transaction { sql in
            let stage = try await Self.experimentStage(sql, id: numericID, display: id)
            guard stage == .active else {
                throw CairnError.invalidParameter("Cannot rename a non-active experiment.")
            }
            if let row = try await sql.raw("SELECT experiment_id FROM experiments WHERE name = \(bind: newName)").first(),
                try row.decode(column: "experiment_id", as: Int64.self) != numericID
            {
                // MLflow surfaces the unique-constraint violation of a rename as BAD_REQUEST.
                throw CairnError(.badRequest, "Experiment(name=\(newName)) already exists. Error: Experiment names must be unique.")
            }
            try await sql.raw(
                """
                UPDATE experiments SET name = \(bind: newName), last_update_time = \(bind: now)
                WHERE experiment_id = \(bind: numericID)
                """
            ).run()
        }
    }

    public func deleteExperiment(id: String) async throws {
        let numericID = try Self.experimentKey(id)
        guard numericID != 0 else {
            throw CairnError.invalidParameter("Cannot delete the default experiment '0'. This is an internally reserved experiment.")
        }
        try await setExperimentStage(numericID, display: id, to: .deleted)
    }

    public func restoreExperiment(id: String) async throws {
        try await setExperimentStage(try Self.experimentKey(id), display: id, to: .active)
    }

    /// Deleting an experiment soft-deletes its active runs with it; restoring brings back the
    /// runs deleted at that moment, as MLflow's SQL store does.
    private func setExperimentStage(_ id: Int64, display: String, to stage: LifecycleStage) async throws {
        let now = now()
        try await database.transaction { sql in
            let current = try await Self.experimentStage(sql, id: id, display: display)
            // MLflow looks a deleted experiment up among active ones only (and the reverse
            // for restore), so both report the experiment as missing.
            if current == stage {
                throw CairnError.notFound("No Experiment with id=\(display) exists")
            }
            try await sql.raw(
                """
                UPDATE experiments SET lifecycle_stage = \(bind: stage.rawValue), last_update_time = \(bind: now)
                WHERE experiment_id = \(bind: id)
                """
            ).run()
            if stage == .deleted {
                try await sql.raw(
                    """
                    UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = \(bind: now)
                    WHERE experiment_id = \(bind: id) AND lifecycle_stage = 'active'
                    """
                ).run()
            } else {
                try await sql.raw(
                    """
                    UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL
                    WHERE experiment_id = \(bind: id) AND lifecycle_stage = 'deleted'
                    """
                ).run()
            }
        }
    }

    public func setExperimentTag(id: String, tag: KeyValue) async throws {
        try Self.validateExperimentTag(tag)
        let numericID = try Self.experimentKey(id)
        try await database.transaction { sql in
            try await Self.requireActiveExperiment(sql, id: numericID, display: id)
            try await Self.upsertExperimentTag(sql, id: numericID, tag: tag)
        }
    }

    public func deleteExperimentTag(id: String, key: String) async throws {
        let numericID = try Self.experimentKey(id)
        try await database.transaction { sql in
            try await Self.requireActiveExperiment(sql, id: numericID, display: id)
            guard
                try await sql.raw(
                    """
                    SELECT key FROM experiment_tags WHERE experiment_id = \(bind: numericID) AND key = \(bind: key)
                    """
                ).first() != nil
            else {
                throw CairnError.notFound("No tag with name: \(key) in experiment with id \(id)")
            }
            try await sql.raw("DELETE FROM experiment_tags WHERE experiment_id = \(bind: numericID) AND key = \(bind: key)").run()
        }
    }

    // MARK: - Experiment helpers

    static func validateExperimentTag(_ tag: KeyValue) throws(CairnError) {
        try TrackingValidation.validateKeyValue(tag)
        try TrackingValidation.validateLength(tag.value, limit: TrackingLimits.maxExperimentTagValueLength, name: "value")
    }

    static func upsertExperimentTag(_ sql: any SQLDatabase, id: Int64, tag: KeyValue) async throws {
        try await sql.raw(
            """
            INSERT INTO experiment_tags (experiment_id, key, value) VALUES (\(bind: id), \(bind: tag.key), \(bind: tag.value))
            ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value
            """
        ).run()
    }

    /// Experiment ids are integers, as MLflow 3 checks them: anything else is a 400, and an
    /// integer no experiment has (a negative one, or one past Int64) a 404.
    static func experimentKey(_ id: String) throws(CairnError) -> Int64 {
        let digits = id.hasPrefix("-") || id.hasPrefix("+") ? id.utf8.dropFirst() : id.utf8[...]
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw CairnError.invalidParameter("Invalid experiment ID '\(id.prefix(256))'. Experiment ID must be a valid integer.")
        }
        guard let value = Int64(id) else {
            throw CairnError.notFound("No Experiment with id=\(id.prefix(256)) exists")
        }
        return value
    }

    static func experimentStage(_ sql: any SQLDatabase, id: Int64, display: String) async throws -> LifecycleStage {
        guard let row = try await sql.raw("SELECT lifecycle_stage FROM experiments WHERE experiment_id = \(bind: id)").first() else {
            throw CairnError.notFound("No Experiment with id=\(display) exists")
        }
        return LifecycleStage(rawValue: try row.decode(column: "lifecycle_stage", as: String.self)) ?? .active
    }

    static func requireActiveExperiment(_ sql: any SQLDatabase, id: Int64, display: String) async throws {
        let stage = try await experimentStage(sql, id: id, display: display)
        guard stage == .active else {
            throw CairnError.invalidParameter(
                "The experiment \(display) must be in the 'active' state. Current state is \(stage.rawValue).")
        }
    }

    static func loadExperiments(_ sql: any SQLDatabase, where condition: SQLQueryString, suffix: SQLQueryString = "") async throws
        -> [Experiment]
    {
        var query: SQLQueryString = """
            SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time
            FROM experiments e WHERE
            """
        query.appendLiteral(" ")
        query = query + condition
        query.appendLiteral(" ")
        query = query + suffix
        let rows = try await sql.raw(query).all()
        var experiments = try rows.map { row in
            Experiment(
                experimentID: String(try row.decode(column: "experiment_id", as: Int64.self)),
                name: try row.decode(column: "name", as: String.self),
                artifactLocation: try row.decode(column: "artifact_location", as: String.self),
                lifecycleStage: LifecycleStage(rawValue: try row.decode(column: "lifecycle_stage", as: String.self)) ?? .active,
                creationTime: try row.decode(column: "creation_time", as: Int64.self),
                lastUpdateTime: try row.decode(column: "last_update_time", as: Int64.self)
            )
        }
        guard !experiments.isEmpty else { return [] }
        let ids = experiments.compactMap { Int64($0.experimentID) }
        let tagRows = try await sql.raw(
            """
            SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN \(inList(ids))
            ORDER BY key
            """
        ).all()
        var tagsByID: [String: [KeyValue]] = [:]
        for row in tagRows {
            let id = String(try row.decode(column: "experiment_id", as: Int64.self))
            tagsByID[id, default: []].append(
                KeyValue(key: try row.decode(column: "key", as: String.self), value: try row.decode(column: "value", as: String.self)))
        }
        for index in experiments.indices {
            experiments[index].tags = tagsByID[experiments[index].experimentID] ?? []
        }
        return experiments
    }

    /// When a request names a key twice, the last value wins, as in MLflow's upserts.
    static func lastWins(_ pairs: [KeyValue]) -> [KeyValue] {
        var seen: Set<String> = []
        var result: [KeyValue] = []
        for pair in pairs.reversed() where seen.insert(pair.key).inserted {
            result.append(pair)
        }
        return result.reversed()
    }
}
