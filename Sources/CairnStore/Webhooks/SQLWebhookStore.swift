import CairnCore
import Foundation
import SQLKit

/// `WebhookStore` on any `MetadataDatabase`. Deleting a webhook is soft, as in MLflow: the
/// row keeps its `deleted_timestamp` and its undelivered calls are given up.
public struct SQLWebhookStore: WebhookStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    public func createWebhook(_ webhook: Webhook) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO cairn_webhooks (webhook_id, name, description, url, secret, status, creation_timestamp, last_updated_timestamp, deleted_timestamp)
                VALUES (\(bind: webhook.id), \(bind: webhook.name), \(bind: webhook.description), \(bind: webhook.url), \(bind: webhook.secret),
                        \(bind: webhook.status.rawValue), \(bind: webhook.creationTimestamp), \(bind: webhook.lastUpdatedTimestamp), NULL)
                """
            ).run()
            try await Self.insertEvents(sql, webhookID: webhook.id, events: webhook.events)
        }
    }

    static func insertEvents(_ sql: any SQLDatabase, webhookID: String, events: [WebhookEvent]) async throws {
        var seen = Set<WebhookEvent>()
        for (position, event) in events.enumerated() where seen.insert(event).inserted {
            try await sql.raw(
                """
                INSERT INTO cairn_webhook_events (webhook_id, entity, action, position)
                VALUES (\(bind: webhookID), \(bind: event.entity.rawValue), \(bind: event.action.rawValue), \(bind: position))
                """
            ).run()
        }
    }

    public func getWebhook(id: String) async throws -> Webhook {
        try await database.read { sql in try await Self.webhook(sql, id: id) }
    }

    static func webhook(_ sql: any SQLDatabase, id: String) async throws -> Webhook {
        guard
            let row = try await sql.raw(
                "SELECT * FROM cairn_webhooks WHERE webhook_id = \(bind: id) AND deleted_timestamp IS NULL"
            ).first()
        else {
            throw CairnError.notFound("Webhook with ID \(id) not found.")
        }
        return try await webhooks(sql, rows: [row])[0]
    }

    /// The webhooks of `rows`, with their events (one query for all of them).
    static func webhooks(_ sql: any SQLDatabase, rows: [any SQLRow]) async throws -> [Webhook] {
        var result: [Webhook] = []
        for row in rows {
            result.append(
                Webhook(
                    id: try row.decode(column: "webhook_id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    description: try row.decode(column: "description", as: String?.self),
                    url: try row.decode(column: "url", as: String.self),
                    events: [],
                    status: Webhook.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .disabled,
                    secret: try row.decode(column: "secret", as: String?.self),
                    creationTimestamp: try row.decode(column: "creation_timestamp", as: Int64.self),
                    lastUpdatedTimestamp: try row.decode(column: "last_updated_timestamp", as: Int64.self)))
        }
        guard !result.isEmpty else { return result }
        let events = try await sql.raw(
            """
            SELECT webhook_id, entity, action FROM cairn_webhook_events WHERE webhook_id IN \(inList(result.map(\.id)))
            ORDER BY webhook_id, position
            """
        ).all()
        var byWebhook: [String: [WebhookEvent]] = [:]
        for row in events {
            guard let entity = WebhookEvent.Entity(rawValue: try row.decode(column: "entity", as: String.self)),
                let action = WebhookEvent.Action(rawValue: try row.decode(column: "action", as: String.self))
            else { continue }
            byWebhook[try row.decode(column: "webhook_id", as: String.self), default: []].append(WebhookEvent(entity, action))
        }
        for index in result.indices { result[index].events = byWebhook[result[index].id] ?? [] }
        return result
    }

    public func listWebhooks(maxResults: Int, pageToken: String?) async throws -> Page<Webhook> {
        let offset = try PageToken.decodeOffset(pageToken)
        return try await database.read { sql in
            let rows = try await sql.raw(
                """
                SELECT * FROM cairn_webhooks WHERE deleted_timestamp IS NULL ORDER BY creation_timestamp DESC, webhook_id
                """ + PageToken.limitClause(limit: maxResults, offset: offset)
            ).all()
            return PageToken.page(try await Self.webhooks(sql, rows: rows), limit: maxResults, offset: offset)
        }
    }

    public func updateWebhook(id: String, _ update: WebhookUpdate, at time: Int64) async throws -> Webhook {
        try await database.transaction { sql in
            var webhook = try await Self.webhook(sql, id: id)
            if let name = update.name { webhook.name = name }
            if let description = update.description { webhook.description = description }
            if let url = update.url { webhook.url = url }
            if let secret = update.secret { webhook.secret = secret }
            if let status = update.status { webhook.status = status }
            webhook.lastUpdatedTimestamp = time
            try await sql.raw(
                """
                UPDATE cairn_webhooks SET name = \(bind: webhook.name), description = \(bind: webhook.description), url = \(bind: webhook.url),
                    secret = \(bind: webhook.secret), status = \(bind: webhook.status.rawValue), last_updated_timestamp = \(bind: time)
                WHERE webhook_id = \(bind: id)
                """
            ).run()
            if let events = update.events {
                try await sql.raw("DELETE FROM cairn_webhook_events WHERE webhook_id = \(bind: id)").run()
                try await Self.insertEvents(sql, webhookID: id, events: events)
                webhook.events = events.reduce(into: [WebhookEvent]()) { if !$0.contains($1) { $0.append($1) } }
            }
            return webhook
        }
    }

    public func deleteWebhook(id: String, at time: Int64) async throws {
        try await database.transaction { sql in
            _ = try await Self.webhook(sql, id: id)
            try await sql.raw(
                """
                UPDATE cairn_webhooks SET deleted_timestamp = \(bind: time), last_updated_timestamp = \(bind: time) WHERE webhook_id = \(bind: id)
                """
            ).run()
            try await sql.raw(
                """
                UPDATE cairn_webhook_deliveries SET state = 'failed', last_error = 'webhook deleted'
                WHERE webhook_id = \(bind: id) AND state = 'pending'
                """
            ).run()
        }
    }

    public func enqueue(event: WebhookEvent, payload: String, maxAttempts: Int, at time: Int64) async throws -> Int {
        try await database.transaction { sql in
            let targets = try await sql.raw(
                """
                SELECT w.webhook_id FROM cairn_webhooks w JOIN cairn_webhook_events e ON e.webhook_id = w.webhook_id
                WHERE w.deleted_timestamp IS NULL AND w.status = 'ACTIVE'
                  AND e.entity = \(bind: event.entity.rawValue) AND e.action = \(bind: event.action.rawValue)
                ORDER BY w.creation_timestamp
                """
            ).all().map { try $0.decode(column: "webhook_id", as: String.self) }
            for webhookID in targets {
                try await sql.raw(
                    """
                    INSERT INTO cairn_webhook_deliveries (delivery_id, webhook_id, entity, action, payload, state, attempts, max_attempts,
                        next_attempt_time, last_error, creation_time)
                    VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: webhookID), \(bind: event.entity.rawValue), \(bind: event.action.rawValue),
                        \(bind: payload), 'pending', 0, \(bind: maxAttempts), \(bind: time), NULL, \(bind: time))
                    """
                ).run()
            }
            return targets.count
        }
    }

    public func dueDeliveries(at time: Int64, limit: Int) async throws -> [(delivery: WebhookDelivery, webhook: Webhook)] {
        try await database.read { sql in
            let deliveries = try await sql.raw(
                """
                SELECT * FROM cairn_webhook_deliveries WHERE state = 'pending' AND next_attempt_time <= \(bind: time)
                ORDER BY next_attempt_time, creation_time, delivery_id LIMIT \(bind: limit)
                """
            ).all().map(Self.delivery)
            guard !deliveries.isEmpty else { return [] }
            // Deleted webhooks are included: their calls are then given up, not left pending.
            let rows = try await sql.raw(
                "SELECT * FROM cairn_webhooks WHERE webhook_id IN \(inList(Array(Set(deliveries.map(\.webhookID)))))"
            ).all()
            var byID: [String: Webhook] = [:]
            for webhook in try await Self.webhooks(sql, rows: rows) { byID[webhook.id] = webhook }
            return deliveries.compactMap { delivery in byID[delivery.webhookID].map { (delivery, $0) } }
        }
    }

    public func claimDelivery(_ delivery: WebhookDelivery, until: Int64) async throws -> Bool {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_webhook_deliveries SET next_attempt_time = \(bind: until)
                WHERE delivery_id = \(bind: delivery.id) AND state = 'pending' AND attempts = \(bind: delivery.attempts)
                    AND next_attempt_time = \(bind: delivery.nextAttemptTime)
                RETURNING delivery_id
                """
            ).first() != nil
        }
    }

    public func updateDelivery(_ delivery: WebhookDelivery) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_webhook_deliveries SET state = \(bind: delivery.state.rawValue), attempts = \(bind: delivery.attempts),
                    next_attempt_time = \(bind: delivery.nextAttemptTime), last_error = \(bind: delivery.lastError)
                WHERE delivery_id = \(bind: delivery.id)
                """
            ).run()
        }
    }

    public func listDeliveries(webhookID: String) async throws -> [WebhookDelivery] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_webhook_deliveries WHERE webhook_id = \(bind: webhookID) ORDER BY creation_time, delivery_id
                """
            ).all().map(Self.delivery)
        }
    }

    static func delivery(_ row: any SQLRow) throws -> WebhookDelivery {
        let entity = try row.decode(column: "entity", as: String.self)
        let action = try row.decode(column: "action", as: String.self)
        guard let entityValue = WebhookEvent.Entity(rawValue: entity), let actionValue = WebhookEvent.Action(rawValue: action) else {
            throw CairnError(.internalError, "Stored webhook delivery has an unknown event \(entity).\(action).")
        }
        return WebhookDelivery(
            id: try row.decode(column: "delivery_id", as: String.self),
            webhookID: try row.decode(column: "webhook_id", as: String.self),
            event: WebhookEvent(entityValue, actionValue),
            payload: try row.decode(column: "payload", as: String.self),
            state: WebhookDelivery.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .pending,
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            nextAttemptTime: try row.decode(column: "next_attempt_time", as: Int64.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            creationTime: try row.decode(column: "creation_time", as: Int64.self))
    }
}
