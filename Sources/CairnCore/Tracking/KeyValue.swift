/// A `{key, value}` pair: MLflow's params, run tags, experiment tags and input tags all share
/// this wire shape.
public struct KeyValue: Sendable, Equatable, Hashable, JSONWritable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("key")
        writer.string(key)
        writer.key("value")
        writer.string(value)
        writer.endObject()
    }
}
