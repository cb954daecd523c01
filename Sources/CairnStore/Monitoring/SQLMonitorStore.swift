import CairnCore
import Foundation
import SQLKit

/// `MonitorStore` on any `MetadataDatabase`.
public struct SQLMonitorStore: MonitorStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    // MARK: - Monitors

    public func createMonitor(_ monitor: StoredMonitor) async throws {
        try await database.transaction { sql in
            let inserted = try await sql.raw(
                """
                INSERT INTO cairn_monitors (monitor_id, name, model_name, alias, spec, creation_time, last_update_time, last_run_time)
                VALUES (\(bind: monitor.id), \(bind: monitor.name), \(bind: monitor.modelName), \(bind: monitor.alias), \(bind: monitor.spec),
                        \(bind: monitor.creationTime), \(bind: monitor.lastUpdateTime), \(bind: monitor.lastRunTime))
                ON CONFLICT (name) DO NOTHING RETURNING monitor_id
                """
            ).first()
            guard inserted != nil else {
                throw CairnError.alreadyExists("Monitor '\(monitor.name)' already exists.")
            }
        }
    }

    public func updateMonitor(_ monitor: StoredMonitor) async throws {
        try await database.transaction { sql in
            guard try await sql.raw("SELECT monitor_id FROM cairn_monitors WHERE monitor_id = \(bind: monitor.id)").first() != nil else {
                throw Self.monitorNotFound(monitor.id)
            }
            if try await sql.raw(
                "SELECT monitor_id FROM cairn_monitors WHERE name = \(bind: monitor.name) AND monitor_id <> \(bind: monitor.id)"
            ).first() != nil {
                throw CairnError.alreadyExists("Monitor '\(monitor.name)' already exists.")
            }
            try await sql.raw(
                """
                UPDATE cairn_monitors SET name = \(bind: monitor.name), model_name = \(bind: monitor.modelName), alias = \(bind: monitor.alias),
                    spec = \(bind: monitor.spec), last_update_time = \(bind: monitor.lastUpdateTime)
                WHERE monitor_id = \(bind: monitor.id)
                """
            ).run()
        }
    }

    public func getMonitor(idOrName: String) async throws -> StoredMonitor {
        try await database.read { sql in
            let rows = try await sql.raw(
                """
                SELECT * FROM cairn_monitors WHERE monitor_id = \(bind: idOrName) OR name = \(bind: idOrName)
                """
            ).all()
            // An id wins over a name that happens to equal another monitor's id.
            let monitors = try rows.map(Self.monitor)
            guard let monitor = monitors.first(where: { $0.id == idOrName }) ?? monitors.first else {
                throw Self.monitorNotFound(idOrName)
            }
            return monitor
        }
    }

    public func listMonitors() async throws -> [StoredMonitor] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM cairn_monitors ORDER BY name").all().map(Self.monitor)
        }
    }

    public func deleteMonitor(id: String) async throws {
        try await database.transaction { sql in
            guard try await sql.raw("SELECT monitor_id FROM cairn_monitors WHERE monitor_id = \(bind: id)").first() != nil else {
                throw Self.monitorNotFound(id)
            }
            try await sql.raw(
                """
                DELETE FROM cairn_alert_deliveries WHERE alert_id IN (SELECT alert_id FROM cairn_alerts WHERE monitor_id = \(bind: id))
                """
            ).run()
            try await sql.raw("DELETE FROM cairn_alerts WHERE monitor_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_monitor_evaluations WHERE monitor_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM cairn_monitors WHERE monitor_id = \(bind: id)").run()
        }
    }

    // MARK: - Alerts

    public func recordEvaluation(
        monitorID: String, modelName: String, modelVersion: String?, results: [AlertTransition],
        webhooks: [String], maxAttempts: Int, payload: @escaping @Sendable (StoredAlert, String) -> String, scheduledTime: Int64?,
        at time: Int64
    ) async throws -> [StoredAlert] {
        try await database.transaction { sql in
            guard try await sql.raw("SELECT monitor_id FROM cairn_monitors WHERE monitor_id = \(bind: monitorID)").first() != nil else {
                throw Self.monitorNotFound(monitorID)
            }
            if let scheduledTime {
                // The slot's row is the claim: inserted in this transaction, so the evaluation
                // and its claim commit together or not at all.
                let claimed = try await sql.raw(
                    """
                    INSERT INTO cairn_monitor_evaluations (monitor_id, scheduled_time, evaluated_at)
                    VALUES (\(bind: monitorID), \(bind: scheduledTime), \(bind: time))
                    ON CONFLICT (monitor_id, scheduled_time) DO NOTHING RETURNING monitor_id
                    """
                ).first()
                guard claimed != nil else {
                    throw CairnError(.resourceAlreadyExists, "Monitor '\(monitorID)' was already evaluated for \(scheduledTime).")
                }
            }
            try await sql.raw("UPDATE cairn_monitors SET last_run_time = \(bind: time) WHERE monitor_id = \(bind: monitorID)").run()
            let open = try await sql.raw(
                """
                SELECT * FROM cairn_alerts WHERE monitor_id = \(bind: monitorID) AND state = 'firing'
                """
            ).all().map(Self.alert)
            var openByCheck: [String: StoredAlert] = [:]
            for alert in open { openByCheck[alert.check] = alert }

            var changed: [StoredAlert] = []
            func resolve(_ alert: StoredAlert) async throws {
                var alert = alert
                alert.state = .resolved
                alert.resolvedAt = time
                try await sql.raw(
                    """
                    UPDATE cairn_alerts SET state = 'resolved', resolved_at = \(bind: time) WHERE alert_id = \(bind: alert.id)
                    """
                ).run()
                try await Self.queue(
                    sql, alert: alert, event: "alert.resolved", webhooks: webhooks, maxAttempts: maxAttempts, payload: payload, at: time)
                changed.append(alert)
            }
            for result in results {
                if result.firing, openByCheck[result.check] == nil {
                    let alert = StoredAlert(
                        id: CairnID.make(), monitorID: monitorID,
                        check: result.check, state: .firing, value: result.value.flatMap { $0.isFinite ? $0 : nil },
                        threshold: result.threshold, message: result.message, modelName: modelName, modelVersion: modelVersion,
                        firedAt: time, resolvedAt: nil)
                    try await sql.raw(
                        """
                        INSERT INTO cairn_alerts (alert_id, monitor_id, check_name, state, value, threshold, message, model_name, model_version, fired_at, resolved_at)
                        VALUES (\(bind: alert.id), \(bind: monitorID), \(bind: alert.check), 'firing', \(bind: alert.value), \(bind: alert.threshold),
                                \(bind: alert.message), \(bind: modelName), \(bind: modelVersion), \(bind: time), NULL)
                        """
                    ).run()
                    try await Self.queue(
                        sql, alert: alert, event: "alert.firing", webhooks: webhooks, maxAttempts: maxAttempts, payload: payload, at: time)
                    changed.append(alert)
                } else if !result.firing, let alert = openByCheck[result.check] {
                    try await resolve(alert)
                }
            }
            // A check taken out of the monitor no longer fires.
            let checked = Set(results.map(\.check))
            for alert in open where !checked.contains(alert.check) {
                try await resolve(alert)
            }
            return changed
        }
    }

    static func queue(
        _ sql: any SQLDatabase, alert: StoredAlert, event: String, webhooks: [String], maxAttempts: Int,
        payload: @Sendable (StoredAlert, String) -> String, at time: Int64
    ) async throws {
        let body = payload(alert, event)
        for url in Set(webhooks).sorted() {
            try await sql.raw(
                """
                INSERT INTO cairn_alert_deliveries (alert_id, event, url, state, attempts, max_attempts, next_attempt_time, last_error, payload)
                VALUES (\(bind: alert.id), \(bind: event), \(bind: url), 'pending', 0, \(bind: maxAttempts), \(bind: time), NULL, \(bind: body))
                """
            ).run()
        }
    }

    public func listAlerts(monitorID: String?, state: StoredAlert.State?, limit: Int) async throws -> [StoredAlert] {
        try await database.read { sql in
            var query = SQLQueryString("SELECT * FROM cairn_alerts WHERE 1 = 1")
            if let monitorID { query += " AND monitor_id = \(bind: monitorID)" }
            if let state { query += " AND state = \(bind: state.rawValue)" }
            query += " ORDER BY fired_at DESC, alert_id LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map(Self.alert)
        }
    }

    // MARK: - Deliveries

    public func dueDeliveries(at time: Int64, limit: Int) async throws -> [AlertDelivery] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_alert_deliveries WHERE state = 'pending' AND next_attempt_time <= \(bind: time)
                ORDER BY next_attempt_time, alert_id LIMIT \(bind: limit)
                """
            ).all().map(Self.delivery)
        }
    }

    public func claimDelivery(_ delivery: AlertDelivery, until: Int64) async throws -> Bool {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_alert_deliveries SET next_attempt_time = \(bind: until)
                WHERE alert_id = \(bind: delivery.alertID) AND event = \(bind: delivery.event) AND url = \(bind: delivery.url)
                    AND state = 'pending' AND attempts = \(bind: delivery.attempts) AND next_attempt_time = \(bind: delivery.nextAttemptTime)
                RETURNING alert_id
                """
            ).first() != nil
        }
    }

    public func listDeliveries(alertID: String) async throws -> [AlertDelivery] {
        try await database.read { sql in
            guard try await sql.raw("SELECT alert_id FROM cairn_alerts WHERE alert_id = \(bind: alertID)").first() != nil else {
                throw CairnError.notFound("Alert '\(alertID)' does not exist.")
            }
            return try await sql.raw(
                """
                SELECT * FROM cairn_alert_deliveries WHERE alert_id = \(bind: alertID) ORDER BY event, url
                """
            ).all().map(Self.delivery)
        }
    }

    public func updateDelivery(_ delivery: AlertDelivery) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_alert_deliveries SET state = \(bind: delivery.state.rawValue), attempts = \(bind: delivery.attempts),
                    next_attempt_time = \(bind: delivery.nextAttemptTime), last_error = \(bind: delivery.lastError)
                WHERE alert_id = \(bind: delivery.alertID) AND event = \(bind: delivery.event) AND url = \(bind: delivery.url)
                """
            ).run()
        }
    }

    // MARK: - Feedback

    public func putFeedback(_ feedback: [Feedback], at time: Int64) async throws {
        guard !feedback.isEmpty else { return }
        try await database.transaction { sql in
            for item in feedback {
                try await sql.raw(
                    """
                    INSERT INTO cairn_feedback (request_id, labels, creation_time) VALUES (\(bind: item.requestID), \(bind: item.labels), \(bind: time))
                    ON CONFLICT (request_id) DO UPDATE SET labels = excluded.labels, creation_time = excluded.creation_time
                    """
                ).run()
            }
        }
    }

    public func feedback(requestIDs: [String]) async throws -> [String: String] {
        guard !requestIDs.isEmpty else { return [:] }
        return try await database.read { sql in
            var result: [String: String] = [:]
            // A monitor's window of a million one-row requests asks for a million ids, most
            // with no feedback: when the table is much smaller than the list, reading it
            // whole and matching in memory beats a million index probes (2,000 statements).
            if requestIDs.count > 10_000 {
                let stored = try await sql.raw("SELECT COUNT(*) AS n FROM cairn_feedback").first()?.decode(column: "n", as: Int.self) ?? 0
                if stored * 4 <= requestIDs.count {
                    var labels: [String: String] = [:]
                    for row in try await sql.raw("SELECT request_id, labels FROM cairn_feedback").all() {
                        labels[try row.decode(column: "request_id", as: String.self)] = try row.decode(column: "labels", as: String.self)
                    }
                    guard !labels.isEmpty else { return result }
                    for id in requestIDs { if let found = labels[id] { result[id] = found } }
                    return result
                }
            }
            // Chunks keep each statement under SQLite's bound-parameter limit.
            var start = 0
            while start < requestIDs.count {
                let chunk = Array(requestIDs[start..<min(start + 500, requestIDs.count)])
                start += chunk.count
                let rows = try await sql.raw("SELECT request_id, labels FROM cairn_feedback WHERE request_id IN \(inList(chunk))").all()
                for row in rows {
                    result[try row.decode(column: "request_id", as: String.self)] = try row.decode(column: "labels", as: String.self)
                }
            }
            return result
        }
    }

    public func feedbackIDs(receivedFrom from: Int64, until: Int64, limit: Int) async throws -> [String] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT request_id FROM cairn_feedback WHERE creation_time >= \(bind: from) AND creation_time < \(bind: until)
                ORDER BY creation_time DESC, request_id LIMIT \(bind: limit)
                """
            ).all().map { try $0.decode(column: "request_id", as: String.self) }
        }
    }

    // MARK: - References

    public func putReference(_ reference: StoredReference) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO cairn_reference_profiles (model_name, version, profile, row_count, creation_time)
                VALUES (\(bind: reference.modelName), \(bind: reference.version), \(bind: reference.profile), \(bind: reference.rowCount), \(bind: reference.creationTime))
                ON CONFLICT (model_name, version) DO UPDATE SET profile = excluded.profile, row_count = excluded.row_count, creation_time = excluded.creation_time
                """
            ).run()
        }
    }

    public func getReference(modelName: String, version: String) async throws -> StoredReference? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT * FROM cairn_reference_profiles WHERE model_name = \(bind: modelName) AND version = \(bind: version)
                    """
                ).first()
            else { return nil }
            return StoredReference(
                modelName: try row.decode(column: "model_name", as: String.self),
                version: try row.decode(column: "version", as: String.self),
                profile: try row.decode(column: "profile", as: String.self),
                rowCount: try row.decode(column: "row_count", as: Int.self),
                creationTime: try row.decode(column: "creation_time", as: Int64.self))
        }
    }

    // MARK: - Rows

    static func monitor(_ row: any SQLRow) throws -> StoredMonitor {
        StoredMonitor(
            id: try row.decode(column: "monitor_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            modelName: try row.decode(column: "model_name", as: String.self),
            alias: try row.decode(column: "alias", as: String?.self),
            spec: try row.decode(column: "spec", as: String.self),
            creationTime: try row.decode(column: "creation_time", as: Int64.self),
            lastUpdateTime: try row.decode(column: "last_update_time", as: Int64.self),
            lastRunTime: try row.decode(column: "last_run_time", as: Int64?.self))
    }

    static func alert(_ row: any SQLRow) throws -> StoredAlert {
        StoredAlert(
            id: try row.decode(column: "alert_id", as: String.self),
            monitorID: try row.decode(column: "monitor_id", as: String.self),
            check: try row.decode(column: "check_name", as: String.self),
            state: StoredAlert.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .firing,
            value: try row.decode(column: "value", as: Double?.self),
            threshold: try row.decode(column: "threshold", as: Double.self),
            message: try row.decode(column: "message", as: String.self),
            modelName: try row.decode(column: "model_name", as: String.self),
            modelVersion: try row.decode(column: "model_version", as: String?.self),
            firedAt: try row.decode(column: "fired_at", as: Int64.self),
            resolvedAt: try row.decode(column: "resolved_at", as: Int64?.self))
    }

    static func delivery(_ row: any SQLRow) throws -> AlertDelivery {
        AlertDelivery(
            alertID: try row.decode(column: "alert_id", as: String.self),
            event: try row.decode(column: "event", as: String.self),
            url: try row.decode(column: "url", as: String.self),
            state: AlertDelivery.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .pending,
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            nextAttemptTime: try row.decode(column: "next_attempt_time", as: Int64.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            payload: try row.decode(column: "payload", as: String.self))
    }

    static func monitorNotFound(_ id: String) -> CairnError {
        .notFound("Monitor '\(id)' does not exist.")
    }
}
