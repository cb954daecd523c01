/// MLflow's model-registry limits (`mlflow/utils/validation.py`, the registry stores and
/// handlers), enforced the same way.
public enum RegistryLimits {
    public static let maxTagKeyLength = 250
    public static let maxTagValueLength = 100_000
    public static let maxAliasLength = 255
    /// `registered-models/search`: proto default and handler bound.
    public static let defaultRegisteredModelSearchMaxResults = 100
    public static let maxRegisteredModelSearchResults = 1000
    /// `model-versions/search`: proto default and handler bound.
    public static let defaultModelVersionSearchMaxResults = 200_000
    public static let maxModelVersionSearchResults = 200_000
    /// `logged-models/search`: store default when the request has none.
    public static let defaultLoggedModelSearchMaxResults = 50
    /// Not bounded by MLflow; bounded here so one request cannot ask for every model at once.
    public static let maxLoggedModelSearchResults = 50_000
    /// Params per `logged-models/{id}/params` or create request, as the client batches them.
    public static let maxLoggedModelParamsPerRequest = 100
}

/// Validation of registry and logged-model input, with MLflow's messages.
public enum RegistryValidation {
    /// Registered models tagged with this (value `true`) are MLflow prompts, which the model
    /// searches leave out unless asked for.
    public static let promptTagKey = "mlflow.prompt.is_prompt"
    /// Whether `tags` mark an MLflow prompt (`mlflow.prompt.is_prompt`, any case of `true`).
    public static func isPrompt(_ tags: [KeyValue]) -> Bool {
        tags.contains { $0.key == promptTagKey && $0.value.lowercased() == "true" }
    }

    /// The logged-model tag listing the registered versions made from it.
    public static let modelVersionsTagKey = "mlflow.modelVersions"

    /// Registered model names: non-empty, no `/` or `:`, and path-unique.
    public static func validateModelName(_ name: String?, parameter: String = "name") throws(CairnError) -> String {
        guard let name, !name.trimmingWhitespace.isEmpty else { throw .missingParameter(parameter) }
        try TrackingValidation.validateText(name, name: parameter)
        if name.contains("/") || name.contains(":") {
            throw .invalidParameter("Invalid model name '\(name)'. Names cannot contain '/' or ':'.")
        }
        let normalized = TrackingValidation.normalizePosixPath(name)
        if normalized != name || normalized == "." || normalized.hasPrefix("..") || normalized.hasPrefix("/") {
            throw .invalidParameter(
                "Invalid value \"\(name)\" for parameter '\(parameter)' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '\(normalized)'"
            )
        }
        return name
    }

    /// Registered-model and model-version tags: key like a run tag key (≤ 250), value ≤ 100 000.
    public static func validateTag(_ tag: KeyValue) throws(CairnError) {
        try TrackingValidation.validateKey(tag.key, kind: "key")
        try TrackingValidation.validateLength(tag.value, limit: RegistryLimits.maxTagValueLength, name: "value")
        try TrackingValidation.validateText(tag.value, name: "value")
    }

    /// Versions are integers sent as strings (`"3"`); anything else is refused.
    public static func validateVersion(_ version: String) throws(CairnError) -> Int64 {
        let trimmed = version.trimmingWhitespace
        let digits = trimmed.hasPrefix("+") ? trimmed.dropFirst() : trimmed
        guard !digits.isEmpty, let value = Int64(digits) else {
            throw .invalidParameter("Parameter 'version' must be an integer, got '\(version)'.")
        }
        return value
    }

    /// Alias names: `^[\w\-]*$`, non-empty, at most 255 characters.
    public static func validateAlias(_ alias: String) throws(CairnError) {
        guard !alias.isEmpty else {
            throw .invalidParameter("Registered model alias name cannot be empty.")
        }
        let valid = alias.unicodeScalars.allSatisfy { scalar in
            scalar == "_" || scalar == "-" || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
        }
        guard valid else {
            throw .invalidParameter(
                "Invalid alias name: '\(alias)'. Names may only contain alphanumerics, underscores (_), and dashes (-).")
        }
        guard alias.count <= RegistryLimits.maxAliasLength else {
            throw .invalidParameter(
                "'Registered model alias name' exceeds the maximum length of \(RegistryLimits.maxAliasLength) characters")
        }
    }

    /// Aliases that would be ambiguous in `models:/name@alias` URIs cannot be assigned:
    /// `latest` (any case) and `v<digits>`.
    public static func validateAliasNotReserved(_ alias: String) throws(CairnError) {
        if alias.lowercased() == "latest" {
            throw .invalidParameter("'latest' alias name (case insensitive) is reserved.")
        }
        if let first = alias.unicodeScalars.first, first == "v" || first == "V", alias.unicodeScalars.count > 1,
            alias.unicodeScalars.dropFirst().allSatisfy({ $0.properties.numericType == .decimal })
        {
            throw .invalidParameter("Version alias name '\(alias)' is reserved.")
        }
    }

    /// Logged model names, when given: non-empty and free of characters that would break
    /// `models:/` URIs and filters.
    public static func validateLoggedModelName(_ name: String?) throws(CairnError) {
        guard let name else { return }
        let bad: [Character] = ["/", ":", ".", "%", "\"", "'"]
        guard !name.isEmpty, !name.contains(where: bad.contains) else {
            throw .invalidParameter(
                "Invalid model name ('\(name)') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")"
            )
        }
        try TrackingValidation.validateText(name, name: "name")
    }
}
