import CairnCore
import SQLKit

/// `TriggerEventStore` on any `MetadataDatabase`.
public struct SQLTriggerEventStore: TriggerEventStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    public func insertIfNew(_ event: StoredTriggerEvent) async throws -> (event: StoredTriggerEvent, inserted: Bool) {
        try await database.transaction { sql in
            // The unique (pipeline, dedupe_key) constraint decides, so two sources racing on
            // one key (two replicas' schedulers at one tick) store one event.
            let inserted = try await sql.raw(
                """
                INSERT INTO cairn_trigger_events (event_id, pipeline, kind, dedupe_key, payload, received_at, state, run_id, reason)
                VALUES (\(bind: event.id), \(bind: event.pipeline), \(bind: event.kind), \(bind: event.dedupeKey), \(bind: event.payload),
                        \(bind: event.receivedAt), \(bind: event.state), \(bind: event.runID), \(bind: event.reason))
                ON CONFLICT (pipeline, dedupe_key) DO NOTHING RETURNING event_id
                """
            ).first()
            if inserted != nil { return (event, true) }
            guard
                let row = try await sql.raw(
                    """
                    SELECT * FROM cairn_trigger_events WHERE pipeline = \(bind: event.pipeline) AND dedupe_key = \(bind: event.dedupeKey)
                    """
                ).first()
            else {
                throw CairnError(.internalError, "Trigger event \(event.dedupeKey) for '\(event.pipeline)' was neither stored nor found.")
            }
            return (try Self.event(row), false)
        }
    }

    public func pending(limit: Int) async throws -> [StoredTriggerEvent] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_trigger_events WHERE state = 'pending' ORDER BY received_at, event_id LIMIT \(bind: limit)
                """
            ).all().map(Self.event)
        }
    }

    public func pending(pipeline: String, kind: String, limit: Int) async throws -> [StoredTriggerEvent] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_trigger_events WHERE state = 'pending' AND pipeline = \(bind: pipeline) AND kind = \(bind: kind)
                ORDER BY dedupe_key, received_at LIMIT \(bind: limit)
                """
            ).all().map(Self.event)
        }
    }

    public func get(id: String) async throws -> StoredTriggerEvent {
        try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM cairn_trigger_events WHERE event_id = \(bind: id)").first() else {
                throw Self.notFound(id)
            }
            return try Self.event(row)
        }
    }

    public func list(pipeline: String, limit: Int) async throws -> [StoredTriggerEvent] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_trigger_events WHERE pipeline = \(bind: pipeline)
                ORDER BY received_at DESC, event_id LIMIT \(bind: limit)
                """
            ).all().map(Self.event)
        }
    }

    public func markStarted(id: String, runID: String) async throws -> StoredTriggerEvent {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_trigger_events SET state = 'started', run_id = \(bind: runID), reason = NULL
                WHERE event_id = \(bind: id) AND state <> 'started'
                """
            ).run()
            guard let row = try await sql.raw("SELECT * FROM cairn_trigger_events WHERE event_id = \(bind: id)").first() else {
                throw Self.notFound(id)
            }
            return try Self.event(row)
        }
    }

    public func markSkipped(id: String, reason: String) async throws -> StoredTriggerEvent {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_trigger_events SET state = 'skipped', reason = \(bind: reason)
                WHERE event_id = \(bind: id) AND state = 'pending'
                """
            ).run()
            guard let row = try await sql.raw("SELECT * FROM cairn_trigger_events WHERE event_id = \(bind: id)").first() else {
                throw Self.notFound(id)
            }
            return try Self.event(row)
        }
    }

    public func hasEvent(pipeline: String, kind: String, dedupePrefix prefix: String) async throws -> Bool {
        try await database.read { sql in
            // SUBSTR counts characters on both databases, as unicodeScalars does; PostgreSQL's
            // takes an integer length, not the bigint a bound Int is.
            try await sql.raw(
                """
                SELECT event_id FROM cairn_trigger_events WHERE pipeline = \(bind: pipeline) AND kind = \(bind: kind)
                  AND SUBSTR(dedupe_key, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix) LIMIT 1
                """
            ).first() != nil
        }
    }

    static func event(_ row: any SQLRow) throws -> StoredTriggerEvent {
        StoredTriggerEvent(
            id: try row.decode(column: "event_id", as: String.self),
            pipeline: try row.decode(column: "pipeline", as: String.self),
            kind: try row.decode(column: "kind", as: String.self),
            dedupeKey: try row.decode(column: "dedupe_key", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            receivedAt: try row.decode(column: "received_at", as: Int64.self),
            state: try row.decode(column: "state", as: String.self),
            runID: try row.decode(column: "run_id", as: String?.self),
            reason: try row.decode(column: "reason", as: String?.self))
    }

    static func notFound(_ id: String) -> CairnError {
        .notFound("Trigger event '\(id)' does not exist.")
    }
}
