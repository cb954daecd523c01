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

    public init(requestID: String, timestamp: Int64, model: String, version: String, inputs: [UInt8], outputs: [UInt8], latencyMicroseconds: Int64, status: Int) {
        self.requestID = requestID
        self.timestamp = timestamp
        self.model = model
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.latencyMicroseconds = latencyMicroseconds
        self.status = status
    }

    /// One JSON Lines line. `inputs` and `outputs` are spliced in as they are (they are JSON
    /// already), so logging a request costs no re-serialisation of its payload.
    func appendLine(to buffer: inout [UInt8]) {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.key("request_id"); writer.string(requestID)
        writer.key("timestamp_ms"); writer.int(timestamp)
        writer.key("model"); writer.string(model)
        writer.key("version"); writer.string(version)
        writer.key("status"); writer.int(Int64(status))
        writer.key("latency_us"); writer.int(latencyMicroseconds)
        writer.key("inputs")
        writer.raw(inputs.isEmpty ? "null" : String(decoding: inputs, as: UTF8.self))
        writer.key("outputs")
        writer.raw(outputs.isEmpty ? "null" : String(decoding: outputs, as: UTF8.self))
        writer.endObject()
        buffer.append(contentsOf: writer.bytes)
        buffer.append(UInt8(ascii: "\n"))
    }
}
