/// Decoding of TensorProto (initializers and tensor-valued attributes).
enum TensorProto {
    static func decode(_ reader: inout ProtobufReader) throws(ONNXError) -> (name: String, tensor: ONNXTensor) {
        var dims: [Int64] = []
        var dataType: Int64 = 0
        var name = ""
        var raw: [UInt8]?
        var floats: [Float] = []
        var doubles: [Double] = []
        var int32s: [Int64] = []
        var int64s: [Int64] = []
        var strings: [String] = []
        var external = false

        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: try reader.appendVarints(wire, to: &dims)
            case 2:
                try reader.expect(.varint, wire, field: "TensorProto.data_type")
                dataType = try reader.readInt64()
            case 4: try reader.appendFloats(wire, to: &floats)
            case 5: try reader.appendVarints(wire, to: &int32s)
            case 6:
                try reader.expect(.lengthDelimited, wire, field: "TensorProto.string_data")
                strings.append(try reader.readString())
            case 7: try reader.appendVarints(wire, to: &int64s)
            case 8:
                try reader.expect(.lengthDelimited, wire, field: "TensorProto.name")
                name = try reader.readString()
            case 9:
                try reader.expect(.lengthDelimited, wire, field: "TensorProto.raw_data")
                raw = try reader.readBytes()
            case 10: try reader.appendDoubles(wire, to: &doubles)
            case 14:
                try reader.expect(.varint, wire, field: "TensorProto.data_location")
                external = try reader.readInt64() == 1
            default:
                try reader.skip(wire)
            }
        }

        let label = name.isEmpty ? "tensor" : "tensor '\(name)'"
        if external {
            throw .unsupported("\(label) keeps its data in an external file, which Cairn's runtime does not load")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard d >= 0, let dim = Int(exactly: d) else { throw .malformed("\(label) has negative dimension \(d)") }
            shape.append(dim)
        }
        guard let expected = elementCount(shape) else {
            throw .malformed("\(label) has dimensions \(shape) whose product overflows")
        }

        let type = ONNXElementType(protoValue: dataType)
        let storage: ONNXTensor.Storage
        switch type {
        case .float:
            storage = .float(
                try raw.map { bytes throws(ONNXError) in
                    try decodeRaw(bytes, width: 4, label) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
                } ?? floats)
        case .double:
            storage = .double(
                try raw.map { bytes throws(ONNXError) in try decodeRaw(bytes, width: 8, label) { Double(bitPattern: $0) } } ?? doubles)
        case .int64:
            storage = .int64(
                try raw.map { bytes throws(ONNXError) in try decodeRaw(bytes, width: 8, label) { Int64(bitPattern: $0) } } ?? int64s)
        case .int32:
            storage = .int32(
                try raw.map { bytes throws(ONNXError) in try decodeRaw(bytes, width: 4, label) { Int32(truncatingIfNeeded: $0) } }
                    ?? int32s.map { Int32(truncatingIfNeeded: $0) })
        case .uint8:
            storage = .uint8(raw ?? int32s.map { UInt8(truncatingIfNeeded: $0) })
        case .bool:
            storage = .bool(raw.map { $0.map { $0 != 0 } } ?? int32s.map { $0 != 0 })
        case .string:
            storage = .string(strings)
        default:
            throw .unsupported(
                "\(label) has element type \(type) (TensorProto.DataType \(dataType)), which Cairn's runtime does not support")
        }
        guard storage.count == expected else {
            throw .malformed("\(label) has shape \(shape) (\(expected) elements) but holds \(storage.count) values")
        }
        return (name, ONNXTensor(shape: shape, storage: storage))
    }

    /// raw_data is always little-endian, whatever the host.
    private static func decodeRaw<T>(_ bytes: [UInt8], width: Int, _ label: String, _ make: (UInt64) -> T) throws(ONNXError) -> [T] {
        guard bytes.count % width == 0 else {
            throw .malformed("\(label) raw_data has \(bytes.count) bytes, not a multiple of \(width)")
        }
        var out: [T] = []
        out.reserveCapacity(bytes.count / width)
        var i = 0
        while i < bytes.count {
            var bits: UInt64 = 0
            for b in 0..<width { bits |= UInt64(bytes[i + b]) << (8 * UInt64(b)) }
            out.append(make(bits))
            i += width
        }
        return out
    }
}

/// Product of `shape`, or nil on negative dimensions or overflow.
func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}
