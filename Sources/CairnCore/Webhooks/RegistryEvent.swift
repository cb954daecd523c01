/// Something that happened in the model registry, emitted after its write committed: what
/// MLflow 3 webhooks announce and what model triggers of pipelines listen for.
public enum RegistryEvent: Sendable, Equatable {
    case registeredModelCreated(name: String, tags: [KeyValue], description: String?)
    case modelVersionCreated(name: String, version: String, source: String, runID: String?, tags: [KeyValue], description: String?)
    case modelVersionTagSet(name: String, version: String, key: String, value: String)
    case modelVersionTagDeleted(name: String, version: String, key: String)
    case modelVersionAliasCreated(name: String, alias: String, version: String)
    case modelVersionAliasDeleted(name: String, alias: String)

    public var modelName: String {
        switch self {
        case .registeredModelCreated(let name, _, _), .modelVersionCreated(let name, _, _, _, _, _),
            .modelVersionTagSet(let name, _, _, _), .modelVersionTagDeleted(let name, _, _),
            .modelVersionAliasCreated(let name, _, _), .modelVersionAliasDeleted(let name, _):
            name
        }
    }

    public var webhookEvent: WebhookEvent {
        switch self {
        case .registeredModelCreated: WebhookEvent(.registeredModel, .created)
        case .modelVersionCreated: WebhookEvent(.modelVersion, .created)
        case .modelVersionTagSet: WebhookEvent(.modelVersionTag, .set)
        case .modelVersionTagDeleted: WebhookEvent(.modelVersionTag, .deleted)
        case .modelVersionAliasCreated: WebhookEvent(.modelVersionAlias, .created)
        case .modelVersionAliasDeleted: WebhookEvent(.modelVersionAlias, .deleted)
        }
    }

    /// The `data` of MLflow's webhook body, field for field as its handlers fill the payload
    /// types of `mlflow/webhooks/types.py` (a registered model's absent description is "", a
    /// version's is null, as there).
    public var payload: String {
        var writer = JSONWriter()
        writer.beginObject()
        func field(_ name: String, _ value: String?) {
            writer.key(name)
            if let value { writer.string(value) } else { writer.null() }
        }
        func tags(_ tags: [KeyValue]) {
            writer.key("tags")
            writer.beginObject()
            // A repeated key keeps its first place and its last value, as a Python dict does.
            var order: [String] = []
            var values: [String: String] = [:]
            for tag in tags {
                if values.updateValue(tag.value, forKey: tag.key) == nil { order.append(tag.key) }
            }
            for key in order {
                writer.key(key)
                writer.string(values[key] ?? "")
            }
            writer.endObject()
        }
        switch self {
        case .registeredModelCreated(let name, let tagList, let description):
            field("name", name)
            tags(tagList)
            field("description", description ?? "")
        case .modelVersionCreated(let name, let version, let source, let runID, let tagList, let description):
            field("name", name)
            field("version", version)
            field("source", source)
            field("run_id", runID.flatMap { $0.isEmpty ? nil : $0 })
            tags(tagList)
            field("description", description.flatMap { $0.isEmpty ? nil : $0 })
        case .modelVersionTagSet(let name, let version, let key, let value):
            field("name", name)
            field("version", version)
            field("key", key)
            field("value", value)
        case .modelVersionTagDeleted(let name, let version, let key):
            field("name", name)
            field("version", version)
            field("key", key)
        case .modelVersionAliasCreated(let name, let alias, let version):
            field("name", name)
            field("alias", alias)
            field("version", version)
        case .modelVersionAliasDeleted(let name, let alias):
            field("name", name)
            field("alias", alias)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// MLflow's `example()` payload for the event, which `test_webhook` sends.
    public static func example(for event: WebhookEvent) -> RegistryEvent? {
        let tags = [KeyValue(key: "example_key", value: "example_value")]
        switch (event.entity, event.action) {
        case (.registeredModel, .created):
            return .registeredModelCreated(name: "example_model", tags: tags, description: "An example registered model")
        case (.modelVersion, .created):
            return .modelVersionCreated(
                name: "example_model", version: "1", source: "models:/123", runID: "abcd1234abcd5678", tags: tags,
                description: "An example model version")
        case (.modelVersionTag, .set):
            return .modelVersionTagSet(name: "example_model", version: "1", key: "example_key", value: "example_value")
        case (.modelVersionTag, .deleted):
            return .modelVersionTagDeleted(name: "example_model", version: "1", key: "example_key")
        case (.modelVersionAlias, .created):
            return .modelVersionAliasCreated(name: "example_model", alias: "example_alias", version: "1")
        case (.modelVersionAlias, .deleted):
            return .modelVersionAliasDeleted(name: "example_model", alias: "example_alias")
        default:
            return nil
        }
    }
}
