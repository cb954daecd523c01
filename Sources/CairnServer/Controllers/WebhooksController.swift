import CairnCore
import CairnStore
import Foundation
import Hummingbird

/// `/mlflow/webhooks`: MLflow 3's webhooks API (create, list, get, update, delete, test), with
/// MLflow's fields, validation order and messages, so `MlflowClient().create_webhook(...)` and
/// its siblings work unchanged.
struct WebhooksController<Context: CairnRequestContext>: Sendable {
    let store: any WebhookStore
    let service: WebhookService
    let now: WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("webhooks", use: mlflow(create))
        group.get("webhooks", use: mlflow(list))
        group.get("webhooks/{webhook_id}", use: mlflowWithPath(get))
        group.patch("webhooks/{webhook_id}", use: mlflowWithPath(update))
        group.delete("webhooks/{webhook_id}", use: mlflowWithPath(delete))
        group.post("webhooks/{webhook_id}/test", use: mlflowWithPath(test))
    }

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let name = try parameters.requiredString("name")
        let url = try parameters.requiredString("url")
        switch parameters.fields["events"] {
        case nil, .null?: throw CairnError.missingParameter("events")
        default: break
        }
        let events = try Self.events(parameters)
        let description = try parameters.string("description")
        let secret = try parameters.string("secret")
        let status = try parameters.enumValue("status", as: Webhook.Status.self)
        try Self.validateName(name)
        try await service.policy.validate(url)
        try Self.validateNotEmpty(events)
        let time = now()
        let webhook = Webhook(
            id: UUID().uuidString.lowercased(), name: name, description: description.flatMap { $0.isEmpty ? nil : $0 }, url: url,
            events: events, status: status ?? .active, secret: secret.flatMap { $0.isEmpty ? nil : $0 }, creationTimestamp: time,
            lastUpdatedTimestamp: time)
        try await store.createWebhook(webhook)
        return .object {
            $0.key("webhook")
            $0.write(webhook)
        }
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        // MLflow reads 0 (proto's default) as unset.
        let maxResults = try parameters.int("max_results").flatMap { $0 == 0 ? nil : $0 } ?? 100
        guard (1...1000).contains(maxResults) else { throw CairnError.invalidParameter("max_results must be between 1 and 1000.") }
        let page = try await store.listWebhooks(maxResults: maxResults, pageToken: try parameters.string("page_token"))
        return .object { writer in
            writer.list("webhooks", page.items)
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    @Sendable func get(_ parameters: RequestParameters, path: PathParameters, context: Context) async throws -> JSONBody {
        let id = try path.required("webhook_id")
        let webhook = try await store.getWebhook(id: id)
        return .object {
            $0.key("webhook")
            $0.write(webhook)
        }
    }

    @Sendable func update(_ parameters: RequestParameters, path: PathParameters, context: Context) async throws -> JSONBody {
        let id = try path.required("webhook_id")
        // As MLflow: an empty name, URL or event list leaves the field; a present description
        // or secret (even empty) replaces it; an unknown status name is ignored.
        let name = try parameters.string("name").flatMap { $0.isEmpty ? nil : $0 }
        let description = try parameters.string("description")
        let url = try parameters.string("url").flatMap { $0.isEmpty ? nil : $0 }
        let events = try Self.events(parameters)
        let secret = try parameters.string("secret")
        let status = try parameters.enumValue("status", as: Webhook.Status.self)
        _ = try await store.getWebhook(id: id)
        if let name { try Self.validateName(name) }
        if let url { try await service.policy.validate(url) }
        let webhook = try await store.updateWebhook(
            id: id,
            WebhookUpdate(
                name: name, description: description, url: url, events: events.isEmpty ? nil : events, secret: secret, status: status),
            at: now())
        return .object {
            $0.key("webhook")
            $0.write(webhook)
        }
    }

    @Sendable func delete(_ parameters: RequestParameters, path: PathParameters, context: Context) async throws -> JSONBody {
        let id = try path.required("webhook_id")
        try await store.deleteWebhook(id: id, at: now())
        return .empty
    }

    @Sendable func test(_ parameters: RequestParameters, path: PathParameters, context: Context) async throws -> JSONBody {
        let id = try path.required("webhook_id")
        let event = try parameters.object("event").map(Self.event)
        let webhook = try await store.getWebhook(id: id)
        let result = await service.test(webhook, event: event)
        return .object {
            $0.key("result")
            $0.write(result)
        }
    }

    // MARK: - Fields

    /// The `events` list; one listed twice is INVALID_PARAMETER_VALUE (MLflow's store refuses
    /// it too, through its (webhook, entity, action) key, as a 400 BAD_REQUEST with the SQL error).
    static func events(_ parameters: RequestParameters) throws -> [WebhookEvent] {
        let events = try parameters.objects("events").map(event)
        var seen = Set<WebhookEvent>()
        for event in events where !seen.insert(event).inserted {
            throw CairnError.invalidParameter("Webhook events must not repeat an event: \(event) is listed more than once.")
        }
        return events
    }

    /// One `{entity, action}`: proto enum names (or numbers), checked as MLflow's
    /// `WebhookEvent` checks the pair. A name the proto does not have (which MLflow's server
    /// answers with a bare 500) is an INVALID_PARAMETER_VALUE here.
    static func event(_ fields: RequestParameters) throws -> WebhookEvent {
        func resolve<T: CaseIterable & RawRepresentable>(_ name: String, _ type: T.Type, protoName: (T) -> String) throws -> T {
            let all = Array(T.allCases)
            switch fields.fields[name] {
            case .string(let text)?:
                if let found = all.first(where: { protoName($0) == text }) { return found }
            case .number(let value, _)? where value >= 1 && value <= Double(all.count) && value == value.rounded():
                return all[Int(value) - 1]
            default:
                break
            }
            let names = all.map(protoName).joined(separator: ", ")
            throw CairnError.invalidParameter("Invalid webhook event: '\(name)' must be one of \(names).")
        }
        let entity = try resolve("entity", WebhookEvent.Entity.self, protoName: \.protoName)
        let action = try resolve("action", WebhookEvent.Action.self, protoName: \.protoName)
        return try WebhookEvent.validated(entity, action)
    }

    /// MLflow's `_WEBHOOK_NAME_REGEX`: 1 to 63 letters, digits, `.`, `_` and `-`, starting and
    /// ending with a letter or digit.
    static func validateName(_ name: String) throws(CairnError) {
        let bytes = Array(name.utf8)
        func alnum(_ byte: UInt8) -> Bool { (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) }
        let valid =
            (1...63).contains(bytes.count) && name.count == bytes.count && alnum(bytes[0]) && alnum(bytes[bytes.count - 1])
            && bytes.allSatisfy { alnum($0) || $0 == 46 || $0 == 95 || $0 == 45 }
        guard valid else {
            throw CairnError.invalidParameter(
                "Webhook name '\(name)' is invalid. It must start and end with a letter or digit, be less than 63 characters long, "
                    + "and contain only letters, digits, dots (.), underscores (_), and hyphens (-).")
        }
    }

    static func validateNotEmpty(_ events: [WebhookEvent]) throws(CairnError) {
        guard !events.isEmpty else {
            throw CairnError.invalidParameter("Webhook events must be a non-empty list of WebhookEvent objects: [].")
        }
    }
}
