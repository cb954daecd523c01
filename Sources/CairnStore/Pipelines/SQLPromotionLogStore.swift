import CairnCore
import Foundation
import SQLKit

/// The promotion log on any `MetadataDatabase` (migration 006). Each entry and its alias
/// moves are written in the transaction that makes the moves.
public struct SQLPromotionLogStore: PromotionLogStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    public static let maximumPageSize = 1000

    public func recordDecision(_ record: PromotionRecord, keepPreviousAs: String?) async throws -> PromotionRecord {
        let name = try RegistryValidation.validateModelName(record.modelName)
        try RegistryValidation.validateAlias(record.alias)
        if let keepPreviousAs {
            try RegistryValidation.validateAlias(keepPreviousAs)
            try RegistryValidation.validateAliasNotReserved(keepPreviousAs)
        }
        let kind = database.kind
        return try await database.transaction { sql in
            try await Self.lockModel(sql, name: name, kind: kind)
            var record = record
            record.modelName = name
            record.moves = []
            if record.outcome == .promoted {
                guard let candidate = record.candidateVersion else {
                    throw CairnError.invalidParameter("A promotion needs the candidate's version.")
                }
                let number = try RegistryValidation.validateVersion(candidate)
                let expected = try record.championVersion.map(RegistryValidation.validateVersion)
                _ = try await SQLRegistryStore.requireModelVersion(sql, name: name, version: number)
                if expected == number, try await Self.currentVersion(sql, name: name, alias: record.alias) == String(number) {
                    // The candidate already is the alias's version: a pass moves nothing, so no
                    // move is recorded (a rollback would otherwise go "back" to the same version).
                } else if try await SQLRegistryStore.compareAndSetAlias(
                    sql, name: name, alias: record.alias, version: number, expected: expected)
                {
                    record.moves.append(.init(alias: record.alias, fromVersion: record.championVersion, toVersion: candidate))
                    if let keepPreviousAs, let previous = expected {
                        let before = try await Self.currentVersion(sql, name: name, alias: keepPreviousAs)
                        try await sql.raw(
                            """
                            INSERT INTO registered_model_aliases (name, alias, version) VALUES (\(bind: name), \(bind: keepPreviousAs), \(bind: previous))
                            ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version
                            """
                        ).run()
                        record.moves.append(.init(alias: keepPreviousAs, fromVersion: before, toVersion: String(previous)))
                    }
                } else {
                    let now = try await Self.currentVersion(sql, name: name, alias: record.alias)
                    record.outcome = .refused
                    record.failures.append(
                        "Alias @\(record.alias) moved while the gate ran: it pointed at \(record.championVersion.map { "version \($0)" } ?? "nothing") when read and now points at \(now.map { "version \($0)" } ?? "nothing"); not promoted."
                    )
                }
            }
            try await Self.insert(sql, &record)
            return record
        }
    }

    public func rollback(modelName: String, alias: String, time: Int64) async throws -> PromotionRecord {
        let name = try RegistryValidation.validateModelName(modelName)
        try RegistryValidation.validateAlias(alias)
        try RegistryValidation.validateAliasNotReserved(alias)
        let kind = database.kind
        return try await database.transaction { sql in
            try await Self.lockModel(sql, name: name, kind: kind)
            try await SQLRegistryStore.requireRegisteredModel(sql, name: name)
            guard
                let last = try await sql.raw(
                    """
                    SELECT from_version, to_version FROM cairn_alias_moves WHERE model_name = \(bind: name) AND alias = \(bind: alias)
                    ORDER BY seq DESC, position DESC LIMIT 1
                    """
                ).first()
            else {
                throw CairnError.invalidParameter(
                    "Alias @\(alias) of model '\(name)' has no recorded move to roll back (only moves made by the evaluation gate or a rollback are recorded; set it with set_registered_model_alias instead)."
                )
            }
            let from = try last.decode(column: "from_version", as: String?.self)
            let to = try last.decode(column: "to_version", as: String.self)
            guard let from else {
                throw CairnError.invalidParameter(
                    "Alias @\(alias) of model '\(name)' has no previous version: its last recorded move created it (pointing at version \(to))."
                )
            }
            let current = try await Self.currentVersion(sql, name: name, alias: alias)
            guard current == to else {
                throw CairnError.invalidParameter(
                    "Alias @\(alias) of model '\(name)' points at \(current.map { "version \($0)" } ?? "nothing"), not at version \(to) where its last recorded move left it: it was moved outside the promotion log, so there is no previous version to go back to."
                )
            }
            let target = try RegistryValidation.validateVersion(from)
            _ = try await SQLRegistryStore.requireModelVersion(sql, name: name, version: target)
            guard
                try await SQLRegistryStore.compareAndSetAlias(
                    sql, name: name, alias: alias, version: target, expected: try RegistryValidation.validateVersion(to))
            else {
                throw CairnError.invalidParameter("Alias @\(alias) of model '\(name)' moved during the rollback; nothing changed.")
            }
            var record = PromotionRecord(
                modelName: name, kind: .rollback, outcome: .rolledBack, alias: alias, candidateVersion: from, championVersion: to,
                time: time,
                moves: [.init(alias: alias, fromVersion: to, toVersion: from)])
            try await Self.insert(sql, &record)
            return record
        }
    }

    public func listPromotions(modelName: String, maxResults: Int, pageToken: String?) async throws -> Page<PromotionRecord> {
        guard (1...Self.maximumPageSize).contains(maxResults) else {
            throw CairnError.invalidParameter("max_results must be between 1 and \(Self.maximumPageSize), got \(maxResults).")
        }
        let offset = try PageToken.decodeOffset(pageToken)
        return try await database.read { sql in
            let rows = try await sql.raw(
                "SELECT * FROM cairn_promotion_log WHERE model_name = \(bind: modelName) ORDER BY seq DESC"
                    + PageToken.limitClause(limit: maxResults, offset: offset)
            ).all()
            var page = PageToken.page(try rows.map(Self.record), limit: maxResults, offset: offset)
            guard !page.items.isEmpty else { return page }
            let ids = page.items.map(\.id)
            let moves = try await sql.raw(
                "SELECT * FROM cairn_alias_moves WHERE entry_id IN \(inList(ids)) ORDER BY entry_id, position"
            ).all()
            var byEntry: [String: [PromotionRecord.AliasMove]] = [:]
            for row in moves {
                byEntry[try row.decode(column: "entry_id", as: String.self), default: []].append(
                    .init(
                        alias: try row.decode(column: "alias", as: String.self),
                        fromVersion: try row.decode(column: "from_version", as: String?.self),
                        toVersion: try row.decode(column: "to_version", as: String.self)))
            }
            for index in page.items.indices { page.items[index].moves = byEntry[page.items[index].id] ?? [] }
            return page
        }
    }

    // MARK: - Rows

    /// One writer per model's log at a time, so two entries never draw the same `seq`. SQLite
    /// has one writer anyway; PostgreSQL takes a transaction-scoped advisory lock on the name.
    static func lockModel(_ sql: any SQLDatabase, name: String, kind: DatabaseKind) async throws {
        try await kind.takeTurns(sql, on: "cairn.promotion_log/" + name)
    }

    static func currentVersion(_ sql: any SQLDatabase, name: String, alias: String) async throws -> String? {
        try await sql.raw("SELECT version FROM registered_model_aliases WHERE name = \(bind: name) AND alias = \(bind: alias)").first()
            .map { String(try $0.decode(column: "version", as: Int64.self)) }
    }

    /// Appends `record` with the model's next sequence number, and its moves.
    static func insert(_ sql: any SQLDatabase, _ record: inout PromotionRecord) async throws {
        let last = try await sql.raw("SELECT MAX(seq) AS last FROM cairn_promotion_log WHERE model_name = \(bind: record.modelName)")
            .first()
        record.sequence = (try last?.decode(column: "last", as: Int64?.self) ?? 0) + 1
        try await sql.raw(
            """
            INSERT INTO cairn_promotion_log (entry_id, model_name, seq, kind, outcome, alias, candidate_version, champion_version,
                candidate_metrics, champion_metrics, thresholds, failures, dataset_digest, dataset_path, pipeline_run_id, stage_run_id,
                creation_time)
            VALUES (\(bind: record.id), \(bind: record.modelName), \(bind: record.sequence), \(bind: record.kind.rawValue),
                \(bind: record.outcome.rawValue), \(bind: record.alias), \(bind: record.candidateVersion), \(bind: record.championVersion),
                \(bind: try encode(record.candidateMetrics)), \(bind: try encode(record.championMetrics)), \(bind: record.thresholds),
                \(bind: try encode(record.failures)), \(bind: record.datasetDigest), \(bind: record.datasetPath),
                \(bind: record.pipelineRunID), \(bind: record.stageRunID), \(bind: record.time))
            """
        ).run()
        for (position, move) in record.moves.enumerated() {
            try await sql.raw(
                """
                INSERT INTO cairn_alias_moves (entry_id, position, model_name, alias, seq, from_version, to_version)
                VALUES (\(bind: record.id), \(bind: position), \(bind: record.modelName), \(bind: move.alias), \(bind: record.sequence),
                    \(bind: move.fromVersion), \(bind: move.toVersion))
                """
            ).run()
        }
    }

    static func record(_ row: any SQLRow) throws -> PromotionRecord {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func optional(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
        guard let kind = PromotionRecord.Kind(rawValue: try text("kind")),
            let outcome = PromotionRecord.Outcome(rawValue: try text("outcome"))
        else {
            throw CairnError(.internalError, "Unreadable promotion log entry \(try text("entry_id")).")
        }
        return PromotionRecord(
            id: try text("entry_id"), modelName: try text("model_name"), kind: kind, outcome: outcome, alias: try text("alias"),
            candidateVersion: try optional("candidate_version"), championVersion: try optional("champion_version"),
            candidateMetrics: try decode([String: Double].self, try text("candidate_metrics")),
            championMetrics: try decode([String: Double].self, try text("champion_metrics")), thresholds: try text("thresholds"),
            failures: try decode([String].self, try text("failures")), datasetDigest: try optional("dataset_digest"),
            datasetPath: try optional("dataset_path"), pipelineRunID: try optional("pipeline_run_id"),
            stageRunID: try optional("stage_run_id"),
            time: try row.decode(column: "creation_time", as: Int64.self), sequence: try row.decode(column: "seq", as: Int64.self))
    }

    /// Metrics may be NaN or infinite (a model that predicts garbage is still logged).
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
