/// MLflow's tracking limits (`mlflow/utils/validation.py`), enforced the same way so a
/// request MLflow accepts is accepted here and one it refuses is refused here.
public enum TrackingLimits {
    public static let maxMetricsPerBatch = 1000
    public static let maxParamsTagsPerBatch = 100
    public static let maxEntitiesPerBatch = 1000
    public static let maxEntityKeyLength = 250
    public static let maxParamValueLength = 6000
    public static let maxTagValueLength = 8000
    public static let maxExperimentNameLength = 500
    public static let maxExperimentTagValueLength = 20_000
    public static let maxDatasetNameLength = 500
    public static let maxDatasetDigestLength = 36
    public static let maxDatasetSchemaLength = 1_048_575
    public static let maxDatasetSourceLength = 65_535
    public static let maxDatasetProfileLength = 16_777_215
    public static let maxInputTagKeyLength = 255
    public static let maxInputTagValueLength = 500
    public static let maxResultsThreshold = 50_000
    public static let defaultRunSearchMaxResults = 1000
    public static let maxRunIdsForBulkInterval = 100
}

/// Validation rules shared by every store and transport.
public enum TrackingValidation {
    /// Metric, param and tag keys: `^[/\w.\- :]*$`, at most 250 characters, and "path-unique"
    /// (they may become file names, so they must not resolve to another name).
    public static func validateKey(_ key: String, kind: String) throws(CairnError) {
        guard !key.isEmpty else {
            throw .invalidParameter("Invalid value \"\" for parameter '\(kind)' supplied: \(kind) must be a non-empty string.")
        }
        for character in key {
            let allowed =
                character == "/" || character == "." || character == "-" || character == " "
                || character == ":" || character == "_" || character.isLetter || character.isNumber
            guard allowed else {
                throw .invalidParameter(
                    "Invalid value \"\(key)\" for parameter '\(kind)' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
                )
            }
        }
        guard key.count <= TrackingLimits.maxEntityKeyLength else {
            throw .invalidParameter("'\(kind)' exceeds the maximum length of \(TrackingLimits.maxEntityKeyLength) characters")
        }
        let normalized = normalizePosixPath(key)
        if normalized != key || normalized == "." || normalized.hasPrefix("..") || normalized.hasPrefix("/") {
            throw .invalidParameter(
                "Invalid value \"\(key)\" for parameter '\(kind)' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '\(normalized)'"
            )
        }
    }

    /// Python's `posixpath.normpath`, which MLflow uses to define path-unique names.
    public static func normalizePosixPath(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let absolute = path.hasPrefix("/")
        // POSIX keeps exactly two leading slashes; three or more collapse to one.
        let leading = absolute && path.hasPrefix("//") && !path.hasPrefix("///") ? "//" : (absolute ? "/" : "")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !absolute {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = leading + parts.joined(separator: "/")
        return joined.isEmpty ? "." : joined
    }

    /// Text that reaches the database may not contain NUL: SQLite would cut the text at it and
    /// PostgreSQL's text type refuses it, so a name with one would be stored truncated or fail
    /// as a server error. Every name, key and value a client sends is checked here.
    public static func validateText(_ value: String, name: String) throws(CairnError) {
        if value.utf8.contains(0) {
            throw .invalidParameter("Invalid value for parameter '\(name)': NUL characters are not allowed.")
        }
    }

    /// Run names (`run_name`, the `mlflow.runName` tag): any text but NUL, as MLflow sets no other bound.
    public static func validateRunName(_ name: String) throws(CairnError) {
        try validateText(name, name: "run_name")
    }

    /// A run tag or param: a valid key and a value without NUL (length is MLflow's truncation, elsewhere).
    public static func validateKeyValue(_ pair: KeyValue) throws(CairnError) {
        try validateKey(pair.key, kind: "key")
        try validateText(pair.value, name: "value")
    }

    public static func validateLength(_ value: String, limit: Int, name: String) throws(CairnError) {
        guard value.count <= limit else {
            throw .invalidParameter("'\(name)' exceeds the maximum length of \(limit) characters")
        }
    }

    /// MLflow truncates over-long param and tag values (MLFLOW_TRUNCATE_LONG_VALUES, on by default).
    public static func truncated(_ value: String, limit: Int) -> String {
        value.count <= limit ? value : String(value.prefix(limit))
    }

    public static func validateRunID(_ runID: String) throws(CairnError) {
        guard isIdentifier(runID, maxLength: 256) else {
            throw .invalidParameter("Invalid run ID: '\(runID)'")
        }
    }

    public static func validateExperimentID(_ experimentID: String) throws(CairnError) {
        guard isIdentifier(experimentID, maxLength: 64) else {
            throw .invalidParameter("Invalid experiment ID: '\(experimentID)'")
        }
    }

    /// `^[a-zA-Z0-9][\w\-]{0,N-1}$` with ASCII word characters.
    private static func isIdentifier(_ id: String, maxLength: Int) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    public static func validateExperimentName(_ name: String?) throws(CairnError) -> String {
        guard let name, !name.trimmingWhitespace.isEmpty else { throw .missingParameter("name") }
        guard name.count <= TrackingLimits.maxExperimentNameLength else {
            throw .invalidParameter("Experiment name exceeds the maximum length of \(TrackingLimits.maxExperimentNameLength) characters")
        }
        try validateText(name, name: "name")
        return name
    }

    public static func validateMetricTimestamp(_ timestamp: Int64) throws(CairnError) {
        guard timestamp >= 0 else {
            throw .invalidParameter("Invalid value \(timestamp) for parameter 'timestamp' supplied: Timestamp must be a nonnegative long.")
        }
    }

    public static func validateDataset(_ dataset: Dataset) throws(CairnError) {
        for (value, name) in [
            (dataset.name, "name"), (dataset.digest, "digest"), (dataset.sourceType, "source_type"), (dataset.source, "source"),
            (dataset.schema ?? "", "schema"), (dataset.profile ?? "", "profile"),
        ] {
            try validateText(value, name: name)
        }
        try validateLength(dataset.name, limit: TrackingLimits.maxDatasetNameLength, name: "name")
        try validateLength(dataset.digest, limit: TrackingLimits.maxDatasetDigestLength, name: "digest")
        try validateLength(dataset.source, limit: TrackingLimits.maxDatasetSourceLength, name: "source")
        try validateLength(dataset.schema ?? "", limit: TrackingLimits.maxDatasetSchemaLength, name: "schema")
        try validateLength(dataset.profile ?? "", limit: TrackingLimits.maxDatasetProfileLength, name: "profile")
    }

    public static func validateInputTag(_ tag: KeyValue) throws(CairnError) {
        try validateLength(tag.key, limit: TrackingLimits.maxInputTagKeyLength, name: "key")
        try validateLength(tag.value, limit: TrackingLimits.maxInputTagValueLength, name: "value")
        try validateText(tag.key, name: "key")
        try validateText(tag.value, name: "value")
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var view = self[...]
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return view
    }
}
