/// An MLflow 3 webhook event: an entity and what happened to it (`model_version.created`).
/// The pairs MLflow accepts are its `VALID_ENTITY_ACTIONS`; Cairn delivers the model
/// registry's, and refuses the prompt and budget events it never emits rather than accept a
/// subscription that would never fire.
public struct WebhookEvent: Hashable, Sendable, CustomStringConvertible {
    public enum Entity: String, Sendable, CaseIterable {
        case registeredModel = "registered_model"
        case modelVersion = "model_version"
        case modelVersionTag = "model_version_tag"
        case modelVersionAlias = "model_version_alias"
        case prompt
        case promptVersion = "prompt_version"
        case promptTag = "prompt_tag"
        case promptVersionTag = "prompt_version_tag"
        case promptAlias = "prompt_alias"
        case budgetPolicy = "budget_policy"

        /// The proto enum name (`MODEL_VERSION`), as MLflow's JSON writes it.
        public var protoName: String { rawValue.uppercased() }
    }

    public enum Action: String, Sendable, CaseIterable {
        case created, updated, deleted, set, exceeded

        public var protoName: String { rawValue.uppercased() }
    }

    public var entity: Entity
    public var action: Action

    public init(_ entity: Entity, _ action: Action) {
        self.entity = entity
        self.action = action
    }

    public var description: String { "\(entity.rawValue).\(action.rawValue)" }

    /// MLflow's `VALID_ENTITY_ACTIONS`.
    public static let validActions: [Entity: [Action]] = [
        .registeredModel: [.created],
        .modelVersion: [.created],
        .modelVersionTag: [.set, .deleted],
        .modelVersionAlias: [.created, .deleted],
        .prompt: [.created],
        .promptVersion: [.created],
        .promptTag: [.set, .deleted],
        .promptVersionTag: [.set, .deleted],
        .promptAlias: [.created, .deleted],
        .budgetPolicy: [.exceeded],
    ]

    /// The events Cairn's registry emits.
    public static let supported: [WebhookEvent] = [
        WebhookEvent(.registeredModel, .created), WebhookEvent(.modelVersion, .created),
        WebhookEvent(.modelVersionTag, .set), WebhookEvent(.modelVersionTag, .deleted),
        WebhookEvent(.modelVersionAlias, .created), WebhookEvent(.modelVersionAlias, .deleted),
    ]

    /// Checks the pair as MLflow does (same message), then that Cairn delivers it.
    public static func validated(_ entity: Entity, _ action: Action) throws(CairnError) -> WebhookEvent {
        let valid = validActions[entity] ?? []
        guard valid.contains(action) else {
            let names = valid.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            throw CairnError.invalidParameter(
                "Invalid action '\(action.rawValue)' for entity '\(entity.rawValue)'. Valid actions are: [\(names)]")
        }
        let event = WebhookEvent(entity, action)
        guard supported.contains(event) else {
            throw CairnError.invalidParameter(
                "Webhook event '\(event)' is not supported by Cairn, which has no prompt registry or budget policies; "
                    + "the supported events are \(supported.map(\.description).joined(separator: ", ")).")
        }
        return event
    }
}
