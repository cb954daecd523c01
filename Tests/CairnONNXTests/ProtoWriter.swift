@testable import CairnONNX

/// Just enough of a protobuf encoder to assemble models (and broken
/// models) byte by byte in tests.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: UInt64) { varint(UInt64(field) << 3 | wire) }

    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        let bits = value.bitPattern
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
    }

    mutating func data(_ field: Int, _ payload: [UInt8]) {
        tag(field, 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        data(field, inner.bytes)
    }
}

/// Models assembled field by field, following onnx.proto's numbering.
enum ModelBytes {
    struct Node {
        var op: String
        var domain = ""
        var inputs: [String]
        var outputs: [String]
        var attributes: [(inout ProtoWriter) -> Void] = []
    }

    static func valueInfo(_ w: inout ProtoWriter, field: Int, name: String, elementType: Int64, dims: [Int64?]) {
        w.message(field) { v in
            v.string(1, name)
            v.message(2) { t in
                t.message(1) { tensor in
                    tensor.int(1, elementType)
                    tensor.message(2) { shape in
                        for d in dims {
                            shape.message(1) { dim in
                                if let d { dim.int(1, d) } else { dim.string(2, "N") }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A float graph: input X [N, width], output Y, and the given nodes
    /// and initializers (written by the closures).
    static func model(
        nodes: [Node], width: Int64 = 2, outputType: Int64 = 1,
        opsets: [(String, Int64)] = [("", 17), ("ai.onnx.ml", 3)],
        initializers: [(inout ProtoWriter) -> Void] = []
    ) -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, 8)
        w.string(2, "cairn-tests")
        w.string(3, "1.0")
        w.message(7) { g in
            for node in nodes {
                g.message(1) { n in
                    for i in node.inputs { n.string(1, i) }
                    for o in node.outputs { n.string(2, o) }
                    n.string(3, node.op.lowercased())
                    n.string(4, node.op)
                    if !node.domain.isEmpty { n.string(7, node.domain) }
                    for attribute in node.attributes { n.message(5, attribute) }
                }
            }
            g.string(2, "graph")
            for initializer in initializers { g.message(5, initializer) }
            valueInfo(&g, field: 11, name: "X", elementType: 1, dims: [nil, width])
            valueInfo(&g, field: 12, name: "Y", elementType: outputType, dims: [nil, width])
        }
        for (domain, version) in opsets {
            w.message(8) { o in
                o.string(1, domain)
                o.int(2, version)
            }
        }
        return w.bytes
    }
}
