import CairnCore

/// Ground truth for one logged request, as a client sends it: `{"request_id", "label"}` for a
/// one-row request, `"labels"` (one per row, in order) for a multi-row one, or `"row"` with
/// one `"label"` for one row of it. What makes an item well-formed lives here, beside the
/// type; whether it matches what the inference log holds is the monitor API's question.
public struct FeedbackItem: Sendable, Equatable {
    public var requestID: String
    public var labels: [JSONValue]
    /// The row of a logged request that the one label is for.
    public var row: Int?

    /// Labels one item may carry: a request with more rows is labelled row by row.
    public static var maximumLabels: Int { 100_000 }

    public init(requestID: String, labels: [JSONValue], row: Int? = nil) {
        self.requestID = requestID
        self.labels = labels
        self.row = row
    }

    /// Validates one item of a request body.
    /// - Throws: INVALID_PARAMETER_VALUE naming what is wrong (and the request id, once known).
    public init(fields: [String: JSONValue]) throws(CairnError) {
        let id: String
        switch fields["request_id"] {
        case nil, .null?, .string("")?: throw .missingParameter("request_id")
        case .string(let text)?: id = text
        case let other?:
            var writer = JSONWriter()
            writer.value(other)
            throw .invalidParameter(
                "Invalid value \(String(decoding: writer.bytes.prefix(200), as: UTF8.self)) for parameter 'request_id' supplied")
        }
        guard id.utf8.count <= 128, !id.utf8.contains(0) else {
            throw .invalidParameter("'request_id' must be 1 to 128 characters.")
        }
        let labels: [JSONValue]
        switch (fields["label"], fields["labels"]) {
        case (let label?, nil): labels = [label]
        case (nil, .array(let values)?): labels = values
        default: throw .invalidParameter("Feedback for '\(id)' needs exactly one of 'label' or 'labels' (an array, one per row).")
        }
        guard !labels.isEmpty, labels.count <= Self.maximumLabels else {
            throw .invalidParameter("Feedback for '\(id)' must carry 1 to \(Self.maximumLabels) labels.")
        }
        var row: Int?
        if let value = fields["row"] {
            guard case .number(let number, _) = value, number.rounded() == number, number >= 0, number < 1e9 else {
                throw .invalidParameter("'row' must be a row index, a whole number ≥ 0 (feedback for '\(id)').")
            }
            guard fields["labels"] == nil else {
                throw .invalidParameter("'row' takes one 'label', not 'labels' (feedback for '\(id)').")
            }
            row = Int(number)
        }
        for label in labels {
            switch label {
            case .number(let value, _) where !value.isFinite:
                throw .invalidParameter("A label must be a finite number (feedback for '\(id)').")
            case .number, .string, .bool, .null: continue
            default: throw .invalidParameter("A label must be a number, a string, a boolean or null (feedback for '\(id)').")
            }
        }
        self.init(requestID: id, labels: labels, row: row)
    }
}
