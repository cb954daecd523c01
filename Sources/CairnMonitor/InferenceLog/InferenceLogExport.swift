import CairnCore

/// The formats the inference log is exported in.
public enum InferenceLogExportFormat: String, Sendable, CaseIterable {
    /// The log's own lines, as written.
    case jsonl
    /// A table: one row per scored row, a column per feature and per output (see `InferenceLogTable`).
    case csv

    public var contentType: String {
        switch self {
        case .jsonl: "application/x-ndjson"
        case .csv: "text/csv; charset=utf-8"
        }
    }

    /// The export of `entries`. CSV rows carry the feedback labels in `labels` (request id →
    /// one label per row) and name a positional request's columns by `positionalNames`
    /// (model, version → the reference's feature order) when it has that many columns.
    public func render(
        _ entries: [InferenceLogEntry], labels: [String: [JSONValue]] = [:], positionalNames: [String: [String]] = [:]
    ) -> [UInt8] {
        switch self {
        case .jsonl:
            var out: [UInt8] = []
            for entry in entries {
                out.append(contentsOf: entry.line)
                out.append(UInt8(ascii: "\n"))
            }
            return out
        case .csv:
            return InferenceLogTable(entries, labels: labels, positionalNames: positionalNames).csv()
        }
    }

    /// The key `positionalNames` is looked up by.
    public static func referenceKey(model: String, version: String) -> String { "\(model)\u{0}\(version)" }
}
