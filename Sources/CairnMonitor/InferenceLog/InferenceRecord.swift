import CairnCore

/// One scored request, as the inference log keeps it.
public struct InferenceRecord: Sendable {
    public var requestID: String
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var model: String
    public var version: String
    /// The request's inputs as JSON (the scoring body itself when it was JSON).
    public var inputs: [UInt8]
    /// The response body as JSON (predictions, or the error).
    public var outputs: [UInt8]
    public var latencyMicroseconds: Int64
    public var status: Int
    /// Set when the record holds a sample of its request's rows (it was over the per-record
    /// cap): the rows the request carried, and the original index of each row kept, so
    /// per-row feedback still lines up.
    public var rowCount: Int?
    public var rowIndexes: [Int]?
    /// Payload bytes left out when even a sample would not fit (a refused body, a format
    /// whose rows cannot be read back): `inputs`, and `outputs` when large, are null.
    public var omittedBytes: Int?

    public init(
        requestID: String, timestamp: Int64, model: String, version: String, inputs: [UInt8], outputs: [UInt8], latencyMicroseconds: Int64,
        status: Int
    ) {
        self.requestID = requestID
        self.timestamp = timestamp
        self.model = model
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.latencyMicroseconds = latencyMicroseconds
        self.status = status
    }

    /// The record as one JSON Lines line, newline included. `inputs` and `outputs` are
    /// spliced in as they are (they are JSON already), so logging a request costs no
    /// re-serialisation of its payload.
    func line() -> [UInt8] {
        var writer = JSONWriter(capacity: inputs.count + outputs.count + 192)
        writer.beginObject()
        writer.key("request_id")
        writer.string(requestID)
        writer.key("timestamp_ms")
        writer.int(timestamp)
        writer.key("model")
        writer.string(model)
        writer.key("version")
        writer.string(version)
        writer.key("status")
        writer.int(Int64(status))
        writer.key("latency_us")
        writer.int(latencyMicroseconds)
        writer.key("inputs")
        Self.splice(inputs, into: &writer)
        writer.key("outputs")
        Self.splice(outputs, into: &writer)
        if let rowCount, let rowIndexes {
            writer.key("row_count")
            writer.int(Int64(rowCount))
            writer.key("row_indexes")
            writer.beginArray()
            for index in rowIndexes { writer.int(Int64(index)) }
            writer.endArray()
        }
        if let omittedBytes {
            writer.key("omitted_bytes")
            writer.int(Int64(omittedBytes))
        }
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// A raw line break in valid JSON can only be whitespace between tokens (inside a string
    /// it must be escaped), so a pretty-printed body becomes one line by turning them into
    /// spaces.
    private static func splice(_ json: [UInt8], into writer: inout JSONWriter) {
        if json.isEmpty {
            writer.null()
        } else if json.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            writer.raw(json.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
        } else {
            writer.raw(json)
        }
    }
}
