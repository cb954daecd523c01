/// A bounds-checked cursor over protobuf wire-format bytes.
///
/// Every read checks the remaining length first, so truncated or hostile
/// input ends in `ONNXError.malformedModel` rather than a trap. Nested
/// messages share the underlying array (no copies) and carry a depth count
/// so recursive types cannot be used to exhaust the stack.
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    static let maxDepth = 48

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    let depth: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.depth = 0
    }

    private init(bytes: [UInt8], range: Range<Int>, depth: Int) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.depth = depth
    }

    var isAtEnd: Bool { position >= end }

    /// Reads the next field key. Field number 0 and the reserved wire types
    /// 6 and 7 cannot appear in valid protobuf.
    mutating func readTag() throws(ONNXError) -> (field: Int, wireType: WireType) {
        let at = position
        let key = try readVarint()
        let field = key >> 3
        guard field > 0, field <= 0x1FFF_FFFF else {
            throw .malformed("invalid protobuf field number \(field) at byte \(at)")
        }
        guard let wire = WireType(rawValue: key & 7) else {
            throw .malformed("invalid protobuf wire type \(key & 7) at byte \(at)")
        }
        return (Int(field), wire)
    }

    mutating func readVarint() throws(ONNXError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw .malformed("truncated varint at byte \(start)")
            }
            let byte = bytes[position]
            position += 1
            // The tenth byte may only carry the single top bit of a 64-bit value.
            if shift == 63 && byte > 1 {
                throw .malformed("varint overflows 64 bits at byte \(start)")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readInt64() throws(ONNXError) -> Int64 {
        Int64(bitPattern: try readVarint())
    }

    mutating func readFixed32() throws(ONNXError) -> UInt32 {
        guard end - position >= 4 else { throw .malformed("truncated fixed32 at byte \(position)") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    mutating func readFixed64() throws(ONNXError) -> UInt64 {
        guard end - position >= 8 else { throw .malformed("truncated fixed64 at byte \(position)") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    mutating func readFloat() throws(ONNXError) -> Float { Float(bitPattern: try readFixed32()) }
    mutating func readDouble() throws(ONNXError) -> Double { Double(bitPattern: try readFixed64()) }

    /// The byte range of a length-delimited field, checked against what is
    /// left of the enclosing message before any arithmetic on it.
    mutating func readLengthDelimited() throws(ONNXError) -> Range<Int> {
        let at = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw .malformed("length \(length) at byte \(at) runs past the end of its message")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func readMessage() throws(ONNXError) -> ProtobufReader {
        guard depth < Self.maxDepth else {
            throw .malformed("messages nested deeper than \(Self.maxDepth) levels at byte \(position)")
        }
        let range = try readLengthDelimited()
        return ProtobufReader(bytes: bytes, range: range, depth: depth + 1)
    }

    mutating func readBytes() throws(ONNXError) -> [UInt8] {
        Array(bytes[try readLengthDelimited()])
    }

    /// Invalid UTF-8 is repaired rather than rejected: names are only ever
    /// compared with each other and shown in messages.
    mutating func readString() throws(ONNXError) -> String {
        String(decoding: bytes[try readLengthDelimited()], as: UTF8.self)
    }

    /// Runs `body` over the raw bytes of a length-delimited field without copying.
    mutating func withBytes<R>(_ body: (ArraySlice<UInt8>) throws(ONNXError) -> R) throws(ONNXError) -> R {
        let range = try readLengthDelimited()
        return try body(bytes[range])
    }

    mutating func skip(_ wireType: WireType) throws(ONNXError) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup:
            // Groups are proto2 legacy that ONNX never uses.
            throw .malformed("unexpected protobuf group at byte \(position)")
        }
    }

    // MARK: Repeated scalars, packed or not

    // Encoders may write repeated scalars packed (one length-delimited run)
    // or one element per key, and parsers must accept both.

    mutating func appendVarints(_ wireType: WireType, to values: inout [Int64]) throws(ONNXError) {
        switch wireType {
        case .varint:
            values.append(try readInt64())
        case .lengthDelimited:
            var packed = try readMessage()
            while !packed.isAtEnd { values.append(try packed.readInt64()) }
        default:
            throw .malformed("wire type \(wireType.rawValue) where varints were expected at byte \(position)")
        }
    }

    mutating func appendFloats(_ wireType: WireType, to values: inout [Float]) throws(ONNXError) {
        switch wireType {
        case .fixed32:
            values.append(try readFloat())
        case .lengthDelimited:
            var packed = try readMessage()
            guard (packed.end - packed.position) % 4 == 0 else {
                throw .malformed("packed float field length is not a multiple of 4 at byte \(position)")
            }
            values.reserveCapacity(values.count + (packed.end - packed.position) / 4)
            while !packed.isAtEnd { values.append(try packed.readFloat()) }
        default:
            throw .malformed("wire type \(wireType.rawValue) where floats were expected at byte \(position)")
        }
    }

    mutating func appendDoubles(_ wireType: WireType, to values: inout [Double]) throws(ONNXError) {
        switch wireType {
        case .fixed64:
            values.append(try readDouble())
        case .lengthDelimited:
            var packed = try readMessage()
            guard (packed.end - packed.position) % 8 == 0 else {
                throw .malformed("packed double field length is not a multiple of 8 at byte \(position)")
            }
            values.reserveCapacity(values.count + (packed.end - packed.position) / 8)
            while !packed.isAtEnd { values.append(try packed.readDouble()) }
        default:
            throw .malformed("wire type \(wireType.rawValue) where doubles were expected at byte \(position)")
        }
    }

    /// Fails unless the field arrived with the one wire type its schema allows.
    func expect(_ wireType: WireType, _ actual: WireType, field: String) throws(ONNXError) {
        guard wireType == actual else {
            throw .malformed("field \(field) has wire type \(actual.rawValue), expected \(wireType.rawValue) (before byte \(position))")
        }
    }
}
