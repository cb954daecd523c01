/// An MLflow 3 webhook: a URL called with a signed JSON body when a subscribed registry event
/// happens. The secret is stored to sign deliveries and is never written to an answer.
public struct Webhook: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case active = "ACTIVE"
        case disabled = "DISABLED"
    }

    public var id: String
    public var name: String
    public var description: String?
    public var url: String
    public var events: [WebhookEvent]
    public var status: Status
    public var secret: String?
    public var creationTimestamp: Int64
    public var lastUpdatedTimestamp: Int64

    public init(
        id: String, name: String, description: String?, url: String, events: [WebhookEvent], status: Status, secret: String?,
        creationTimestamp: Int64, lastUpdatedTimestamp: Int64
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.url = url
        self.events = events
        self.status = status
        self.secret = secret
        self.creationTimestamp = creationTimestamp
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
    }
}

extension Webhook: JSONWritable {
    /// MLflow's `Webhook` proto as JSON: enum names, no secret,
    /// no description when it is empty.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("webhook_id")
        writer.string(id)
        writer.key("name")
        writer.string(name)
        if let description, !description.isEmpty {
            writer.key("description")
            writer.string(description)
        }
        writer.key("url")
        writer.string(url)
        writer.key("events")
        writer.beginArray()
        for event in events {
            writer.beginObject()
            writer.key("entity")
            writer.string(event.entity.protoName)
            writer.key("action")
            writer.string(event.action.protoName)
            writer.endObject()
        }
        writer.endArray()
        writer.key("status")
        writer.string(status.rawValue)
        writer.key("creation_timestamp")
        writer.int(creationTimestamp)
        writer.key("last_updated_timestamp")
        writer.int(lastUpdatedTimestamp)
        writer.endObject()
    }
}

/// What `test_webhook` answers: MLflow's `WebhookTestResult`.
public struct WebhookTestResult: Sendable, Equatable {
    public var success: Bool
    public var responseStatus: Int?
    public var responseBody: String?
    public var errorMessage: String?

    public init(success: Bool, responseStatus: Int? = nil, responseBody: String? = nil, errorMessage: String? = nil) {
        self.success = success
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.errorMessage = errorMessage
    }
}

extension WebhookTestResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("success")
        writer.bool(success)
        if let responseStatus {
            writer.key("response_status")
            writer.int(Int64(responseStatus))
        }
        if let responseBody {
            writer.key("response_body")
            writer.string(responseBody)
        }
        if let errorMessage {
            writer.key("error_message")
            writer.string(errorMessage)
        }
        writer.endObject()
    }
}
