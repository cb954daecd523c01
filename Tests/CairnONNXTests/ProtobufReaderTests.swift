import Testing

@testable import CairnONNX

@Suite struct ProtobufReaderTests {
    @Test(
        arguments: [
            ([0x00], UInt64(0)),
            ([0x01], 1),
            ([0x96, 0x01], 150),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 0xFFFF_FFFF),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], UInt64.max),
        ] as [([UInt8], UInt64)])
    func decodesVarints(_ bytes: [UInt8], _ expected: UInt64) throws {
        var reader = ProtobufReader(bytes)
        #expect(try reader.readVarint() == expected)
        #expect(reader.isAtEnd)
    }

    @Test func negativeInt64UsesTenBytes() throws {
        var w = ProtoWriter()
        w.varint(UInt64(bitPattern: -2))
        #expect(w.bytes.count == 10)
        var reader = ProtobufReader(w.bytes)
        #expect(try reader.readInt64() == -2)
    }

    @Test(
        arguments: [
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], // 10th byte carries more than one bit
            [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 11 bytes
            [0x80], // truncated
            [],
        ] as [[UInt8]])
    func rejectsBadVarints(_ bytes: [UInt8]) {
        var reader = ProtobufReader(bytes)
        #expect(throws: ONNXError.self) { try reader.readVarint() }
    }

    @Test func rejectsLengthPastEnd() {
        var reader = ProtobufReader([0x0A, 0x05, 0x61, 0x62]) // field 1, length 5, 2 bytes left
        #expect(throws: ONNXError.self) {
            _ = try reader.readTag()
            _ = try reader.readLengthDelimited()
        }
        // A length near 2^64 must not overflow the bounds arithmetic.
        var huge = ProtoWriter()
        huge.tag(1, 2)
        huge.varint(UInt64.max)
        var reader2 = ProtobufReader(huge.bytes)
        #expect(throws: ONNXError.self) {
            _ = try reader2.readTag()
            _ = try reader2.readLengthDelimited()
        }
    }

    @Test(arguments: [[0x00], [0x0E], [0x0F], [0x0B]] as [[UInt8]])
    func rejectsInvalidKeys(_ bytes: [UInt8]) {
        // field 0; wire types 6 and 7; a start-group on skip.
        var reader = ProtobufReader(bytes)
        #expect(throws: ONNXError.self) {
            let (_, wire) = try reader.readTag()
            try reader.skip(wire)
        }
    }

    @Test func readsPackedAndUnpackedRepeatedFields() throws {
        var w = ProtoWriter()
        w.float(7, 1.5) // unpacked
        w.data(7, [0, 0, 0x20, 0x40, 0, 0, 0x80, 0xBF]) // packed 2.5, -1.0
        w.int(8, 3)
        w.data(8, [0x01, 0x7F])
        var reader = ProtobufReader(w.bytes)
        var floats: [Float] = []
        var ints: [Int64] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            if field == 7 { try reader.appendFloats(wire, to: &floats) } else { try reader.appendVarints(wire, to: &ints) }
        }
        #expect(floats == [1.5, 2.5, -1.0])
        #expect(ints == [3, 1, 127])
    }

    @Test func rejectsPackedFloatsOfOddLength() {
        var w = ProtoWriter()
        w.data(7, [0, 0, 0x20])
        var reader = ProtobufReader(w.bytes)
        #expect(throws: ONNXError.self) {
            let (_, wire) = try reader.readTag()
            var floats: [Float] = []
            try reader.appendFloats(wire, to: &floats)
        }
    }

    @Test func boundsNestingDepth() {
        var payload: [UInt8] = []
        for _ in 0..<(ProtobufReader.maxDepth + 5) {
            var w = ProtoWriter()
            w.data(1, payload)
            payload = w.bytes
        }
        var reader = ProtobufReader(payload)
        #expect(throws: ONNXError.self) {
            while true {
                _ = try reader.readTag()
                reader = try reader.readMessage()
            }
        }
    }

    @Test func skipsUnknownFields() throws {
        var w = ProtoWriter()
        w.int(900, 5)
        w.float(901, 1)
        w.tag(902, 1)
        w.bytes += [1, 2, 3, 4, 5, 6, 7, 8]
        w.string(903, "ignored")
        var reader = ProtobufReader(w.bytes)
        while !reader.isAtEnd {
            let (_, wire) = try reader.readTag()
            try reader.skip(wire)
        }
        #expect(reader.isAtEnd)
    }
}
