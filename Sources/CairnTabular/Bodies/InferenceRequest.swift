import CairnCore

/// An Open Inference Protocol (KServe V2) `infer` request, as decoded from its JSON body. What
/// a model makes of it (tensors or a frame, and the answer) is `CairnServing`'s.
public struct InferenceRequest: Sendable {
    public struct Input: Sendable {
        public var name: String
        public var shape: [Int]
        public var datatype: String
        public var data: [JSONValue]

        /// A `[rows, features]` input as positional columns named "0", "1", …
        public func positionalFrame() throws(CairnError) -> DataFrame {
            guard shape.count == 2, shape[0] >= 0, shape[1] >= 1, data.count == shape[0] * shape[1] else {
                throw CairnError(.badRequest, "Input '\(name)' must have shape [rows, features] matching its data.")
            }
            let (rows, width) = (shape[0], shape[1])
            var columns: [Column] = []
            for c in 0..<width {
                var builder = ColumnBuilder(name: String(c), capacity: rows)
                for r in 0..<rows { try builder.append(data[r * width + c]) }
                columns.append(builder.build())
            }
            return DataFrame(columns: columns, rowCount: rows)
        }
    }

    public var id: String?
    public var inputs: [Input]
    /// Output names asked for; empty means all.
    public var requestedOutputs: [String]

    /// Largest tensor accepted, in elements, so a crafted shape cannot ask for a huge allocation.
    public static let maximumElements = 50_000_000

    public static func parse(_ bytes: some Collection<UInt8>) throws(CairnError) -> InferenceRequest {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CairnError(.badRequest, "Invalid JSON: \(error)")
        }
        guard case .object = document else { throw CairnError(.badRequest, "The inference request must be a JSON object.") }
        var id: String? = nil
        switch document["id"] {
        case .string(let text)?: id = text
        case .number(_, let raw)?: id = raw
        default: break
        }
        guard case .array(let entries)? = document["inputs"], !entries.isEmpty else {
            throw CairnError(.badRequest, "The inference request needs a non-empty 'inputs' list.")
        }
        var inputs: [Input] = []
        for entry in entries {
            guard case .string(let name)? = entry["name"] else { throw CairnError(.badRequest, "Every input needs a 'name'.") }
            guard case .string(let datatype)? = entry["datatype"] else {
                throw CairnError(.badRequest, "Input '\(name)' needs a 'datatype'.")
            }
            guard case .array(let dims)? = entry["shape"] else { throw CairnError(.badRequest, "Input '\(name)' needs a 'shape'.") }
            var shape: [Int] = []
            var elements = 1
            for dim in dims {
                guard case .number(let value, _) = dim, value >= 0, value == value.rounded(), value <= Double(maximumElements) else {
                    throw CairnError(.badRequest, "Input '\(name)' has an invalid shape.")
                }
                shape.append(Int(value))
                elements *= Int(value)
                guard elements <= maximumElements else { throw CairnError(.badRequest, "Input '\(name)' is too large.") }
            }
            guard let data = entry["data"] else { throw CairnError(.badRequest, "Input '\(name)' needs 'data'.") }
            var flat: [JSONValue] = []
            flat.reserveCapacity(elements)
            try flatten(data, into: &flat, depth: 0)
            guard flat.count == elements else {
                throw CairnError(.badRequest, "Input '\(name)' has \(flat.count) values but its shape \(shape) holds \(elements).")
            }
            guard !inputs.contains(where: { $0.name == name }) else {
                throw CairnError(.badRequest, "Input '\(name)' is sent twice; send each input once.")
            }
            inputs.append(Input(name: name, shape: shape, datatype: datatype, data: flat))
        }
        var requested: [String] = []
        if case .array(let outputs)? = document["outputs"] {
            for output in outputs { if case .string(let name)? = output["name"] { requested.append(name) } }
        }
        return InferenceRequest(id: id, inputs: inputs, requestedOutputs: requested)
    }

    static func flatten(_ value: JSONValue, into flat: inout [JSONValue], depth: Int) throws(CairnError) {
        if case .array(let items) = value {
            guard depth < 32 else { throw CairnError(.badRequest, "Input data is nested too deeply.") }
            for item in items { try flatten(item, into: &flat, depth: depth + 1) }
        } else {
            flat.append(value)
        }
    }
}
