/// A node's attributes by name, with typed accessors that fail with a clear
/// message when an attribute has the wrong type. Used only while building the
/// execution plan; kernels keep the decoded values, never this table.
struct NodeAttributes {
    private let byName: [String: AttributeProto]

    init(_ attributes: [AttributeProto]) throws(ONNXError) {
        var table: [String: AttributeProto] = [:]
        for attribute in attributes {
            if attribute.refAttrName != nil {
                throw .unsupported(
                    "attribute '\(attribute.name)' refers to a function attribute (ref_attr_name), which only appears inside functions")
            }
            guard table.updateValue(attribute, forKey: attribute.name) == nil else {
                throw .invalidModel("attribute '\(attribute.name)' appears twice")
            }
        }
        byName = table
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    private func attribute(_ name: String, _ kind: AttributeProto.Kind) throws(ONNXError) -> AttributeProto? {
        guard let attribute = byName[name] else { return nil }
        guard attribute.kind == kind else {
            throw .invalidModel("attribute '\(name)' has type \(attribute.kind), expected \(kind)")
        }
        return attribute
    }

    func int(_ name: String) throws(ONNXError) -> Int64? { try attribute(name, .int)?.int ?? (has(name) ? 0 : nil) }
    func int(_ name: String, default value: Int64) throws(ONNXError) -> Int64 { try int(name) ?? value }

    func float(_ name: String) throws(ONNXError) -> Float? { try attribute(name, .float)?.float ?? (has(name) ? 0 : nil) }
    func float(_ name: String, default value: Float) throws(ONNXError) -> Float { try float(name) ?? value }

    func string(_ name: String) throws(ONNXError) -> String? {
        guard let attribute = try attribute(name, .string) else { return nil }
        return String(decoding: attribute.bytes ?? [], as: UTF8.self)
    }
    func string(_ name: String, default value: String) throws(ONNXError) -> String { try string(name) ?? value }

    func ints(_ name: String) throws(ONNXError) -> [Int64]? { try attribute(name, .ints)?.ints }
    func floats(_ name: String) throws(ONNXError) -> [Float]? { try attribute(name, .floats)?.floats }
    func strings(_ name: String) throws(ONNXError) -> [String]? {
        try attribute(name, .strings)?.strings.map { String(decoding: $0, as: UTF8.self) }
    }
    func tensor(_ name: String) throws(ONNXError) -> ONNXTensor? { try attribute(name, .tensor)?.tensor }

    /// Attributes that ai.onnx.ml lets a model give either as a float list
    /// or, for double precision, as `<name>_as_tensor`.
    func floatsOrTensor(_ name: String) throws(ONNXError) -> FloatList? {
        if let tensor = try tensor(name + "_as_tensor") {
            switch tensor.storage {
            case .double(let values): return .double(values)
            case .float(let values): return .float(values)
            default: throw .invalidModel("attribute '\(name)_as_tensor' holds \(tensor.elementType), expected double or float")
            }
        }
        return try floats(name).map(FloatList.float)
    }

    func requireInts(_ name: String) throws(ONNXError) -> [Int64] {
        guard let values = try ints(name) else { throw .invalidModel("required attribute '\(name)' is missing") }
        return values
    }
}

/// A list of reals that keeps the precision the model stored it in.
enum FloatList {
    case float([Float])
    case double([Double])

    var count: Int {
        switch self {
        case .float(let v): v.count
        case .double(let v): v.count
        }
    }

    var isDouble: Bool {
        if case .double = self { return true }
        return false
    }

    func values<T: RealScalar>(as _: T.Type = T.self) -> [T] {
        switch self {
        case .float(let v): v.map { T($0) }
        case .double(let v): v.map { T($0) }
        }
    }
}
