// Decoded form of the parts of onnx.proto that Cairn's runtime reads. Field
// numbers follow the published ONNX schema; fields the runtime does not need
// (doc strings, metadata, training info, functions) are skipped unread.

struct ModelProto {
    var irVersion: Int64 = 0
    var opsetImports: [(domain: String, version: Int64)] = []
    var producerName = ""
    var producerVersion = ""
    var graph: GraphProto?

    init(bytes: [UInt8]) throws(ONNXError) {
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(.varint, wire, field: "ModelProto.ir_version")
                irVersion = try reader.readInt64()
            case 2:
                try reader.expect(.lengthDelimited, wire, field: "ModelProto.producer_name")
                producerName = try reader.readString()
            case 3:
                try reader.expect(.lengthDelimited, wire, field: "ModelProto.producer_version")
                producerVersion = try reader.readString()
            case 7:
                try reader.expect(.lengthDelimited, wire, field: "ModelProto.graph")
                var sub = try reader.readMessage()
                graph = try GraphProto(&sub)
            case 8:
                try reader.expect(.lengthDelimited, wire, field: "ModelProto.opset_import")
                var sub = try reader.readMessage()
                var domain = ""
                var version: Int64 = 0
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch f {
                    case 1:
                        try sub.expect(.lengthDelimited, w, field: "OperatorSetIdProto.domain")
                        domain = try sub.readString()
                    case 2:
                        try sub.expect(.varint, w, field: "OperatorSetIdProto.version")
                        version = try sub.readInt64()
                    default: try sub.skip(w)
                    }
                }
                opsetImports.append((domain, version))
            default:
                try reader.skip(wire)
            }
        }
    }
}

struct GraphProto {
    var name = ""
    var nodes: [NodeProto] = []
    var initializers: [(name: String, tensor: ONNXTensor)] = []
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []
    var hasSparseInitializers = false

    init(_ reader: inout ProtobufReader) throws(ONNXError) {
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(.lengthDelimited, wire, field: "GraphProto.node")
                var sub = try reader.readMessage()
                nodes.append(try NodeProto(&sub))
            case 2:
                try reader.expect(.lengthDelimited, wire, field: "GraphProto.name")
                name = try reader.readString()
            case 5:
                try reader.expect(.lengthDelimited, wire, field: "GraphProto.initializer")
                var sub = try reader.readMessage()
                let (name, tensor) = try TensorProto.decode(&sub)
                initializers.append((name, tensor))
            case 11, 12:
                try reader.expect(.lengthDelimited, wire, field: "GraphProto.input/output")
                var sub = try reader.readMessage()
                let info = try ValueInfoProto.decode(&sub)
                if field == 11 { inputs.append(info) } else { outputs.append(info) }
            case 15:
                try reader.skip(wire)
                hasSparseInitializers = true
            default:
                try reader.skip(wire)
            }
        }
    }
}

struct NodeProto {
    var inputs: [String] = []
    var outputs: [String] = []
    var name = ""
    var opType = ""
    var domain = ""
    var attributes: [AttributeProto] = []

    init(_ reader: inout ProtobufReader) throws(ONNXError) {
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1, 2, 3, 4, 7:
                try reader.expect(.lengthDelimited, wire, field: "NodeProto string field \(field)")
                let value = try reader.readString()
                switch field {
                case 1: inputs.append(value)
                case 2: outputs.append(value)
                case 3: name = value
                case 4: opType = value
                default: domain = value
                }
            case 5:
                try reader.expect(.lengthDelimited, wire, field: "NodeProto.attribute")
                var sub = try reader.readMessage()
                attributes.append(try AttributeProto(&sub))
            default:
                try reader.skip(wire)
            }
        }
    }
}

struct AttributeProto {
    /// AttributeProto.AttributeType numbering.
    enum Kind: Int64 {
        case undefined = 0
        case float = 1
        case int = 2
        case string = 3
        case tensor = 4
        case graph = 5
        case floats = 6
        case ints = 7
        case strings = 8
        case tensors = 9
        case graphs = 10
        case sparseTensor = 11
        case sparseTensors = 12
        case typeProto = 13
        case typeProtos = 14
    }

    var name = ""
    var kind: Kind = .undefined
    var float: Float?
    var int: Int64?
    var bytes: [UInt8]?
    var tensor: ONNXTensor?
    var floats: [Float] = []
    var ints: [Int64] = []
    var strings: [[UInt8]] = []
    var tensors: [ONNXTensor] = []
    var refAttrName: String?

    init(_ reader: inout ProtobufReader) throws(ONNXError) {
        var declared: Int64?
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.name")
                name = try reader.readString()
            case 2:
                try reader.expect(.fixed32, wire, field: "AttributeProto.f")
                float = try reader.readFloat()
            case 3:
                try reader.expect(.varint, wire, field: "AttributeProto.i")
                int = try reader.readInt64()
            case 4:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.s")
                bytes = try reader.readBytes()
            case 5:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.t")
                var sub = try reader.readMessage()
                tensor = try TensorProto.decode(&sub).tensor
            case 7:
                try reader.appendFloats(wire, to: &floats)
            case 8:
                try reader.appendVarints(wire, to: &ints)
            case 9:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.strings")
                strings.append(try reader.readBytes())
            case 10:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.tensors")
                var sub = try reader.readMessage()
                tensors.append(try TensorProto.decode(&sub).tensor)
            case 20:
                try reader.expect(.varint, wire, field: "AttributeProto.type")
                declared = try reader.readInt64()
            case 21:
                try reader.expect(.lengthDelimited, wire, field: "AttributeProto.ref_attr_name")
                refAttrName = try reader.readString()
            default:
                // Subgraphs (6, 11), sparse tensors and type protos: no
                // supported operator takes them, so they are skipped unparsed.
                try reader.skip(wire)
            }
        }
        if let declared {
            kind = Kind(rawValue: declared) ?? .undefined
        } else {
            // Very old exporters left `type` unset; infer it from the payload.
            if float != nil {
                kind = .float
            } else if int != nil {
                kind = .int
            } else if bytes != nil {
                kind = .string
            } else if tensor != nil {
                kind = .tensor
            } else if !floats.isEmpty {
                kind = .floats
            } else if !ints.isEmpty {
                kind = .ints
            } else if !strings.isEmpty {
                kind = .strings
            } else if !tensors.isEmpty {
                kind = .tensors
            }
        }
    }
}

enum ValueInfoProto {
    static func decode(_ reader: inout ProtobufReader) throws(ONNXError) -> ONNXValueInfo {
        var name = ""
        var type = TypeDescription()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(.lengthDelimited, wire, field: "ValueInfoProto.name")
                name = try reader.readString()
            case 2:
                try reader.expect(.lengthDelimited, wire, field: "ValueInfoProto.type")
                var sub = try reader.readMessage()
                type = try TypeDescription(&sub)
            default:
                try reader.skip(wire)
            }
        }
        let kind: ONNXValueInfo.Kind
        var elementType = type.elementType
        switch type.kind {
        case .tensor:
            kind = .tensor
        case .sequence(let inner):
            if case .map(let key, let value) = inner.kind, case .tensor = value.kind {
                kind = .sequenceOfMaps(keyType: key)
                elementType = value.elementType
            } else {
                kind = .other
            }
        case .map, .other:
            kind = .other
        }
        return ONNXValueInfo(
            name: name, kind: kind, elementType: elementType,
            shape: type.shape ?? [], hasShape: type.shape != nil)
    }

    /// TypeProto, which nests through sequence and map types.
    struct TypeDescription {
        indirect enum Kind {
            case tensor
            case sequence(TypeDescription)
            case map(key: ONNXElementType, value: TypeDescription)
            case other
        }

        var kind: Kind = .other
        var elementType: ONNXElementType = .undefined
        var shape: [Int?]?

        init() {}

        init(_ reader: inout ProtobufReader) throws(ONNXError) {
            while !reader.isAtEnd {
                let (field, wire) = try reader.readTag()
                switch field {
                case 1: // tensor_type
                    try reader.expect(.lengthDelimited, wire, field: "TypeProto.tensor_type")
                    var sub = try reader.readMessage()
                    kind = .tensor
                    try readTensorType(&sub)
                case 4: // sequence_type
                    try reader.expect(.lengthDelimited, wire, field: "TypeProto.sequence_type")
                    var sub = try reader.readMessage()
                    var element = TypeDescription()
                    while !sub.isAtEnd {
                        let (f, w) = try sub.readTag()
                        if f == 1 {
                            try sub.expect(.lengthDelimited, w, field: "TypeProto.Sequence.elem_type")
                            var inner = try sub.readMessage()
                            element = try TypeDescription(&inner)
                        } else {
                            try sub.skip(w)
                        }
                    }
                    kind = .sequence(element)
                case 5: // map_type
                    try reader.expect(.lengthDelimited, wire, field: "TypeProto.map_type")
                    var sub = try reader.readMessage()
                    var key = ONNXElementType.undefined
                    var value = TypeDescription()
                    while !sub.isAtEnd {
                        let (f, w) = try sub.readTag()
                        switch f {
                        case 1:
                            try sub.expect(.varint, w, field: "TypeProto.Map.key_type")
                            key = ONNXElementType(protoValue: try sub.readInt64())
                        case 2:
                            try sub.expect(.lengthDelimited, w, field: "TypeProto.Map.value_type")
                            var inner = try sub.readMessage()
                            value = try TypeDescription(&inner)
                        default:
                            try sub.skip(w)
                        }
                    }
                    kind = .map(key: key, value: value)
                default:
                    try reader.skip(wire)
                }
            }
        }

        private mutating func readTensorType(_ reader: inout ProtobufReader) throws(ONNXError) {
            while !reader.isAtEnd {
                let (field, wire) = try reader.readTag()
                switch field {
                case 1:
                    try reader.expect(.varint, wire, field: "TypeProto.Tensor.elem_type")
                    elementType = ONNXElementType(protoValue: try reader.readInt64())
                case 2:
                    try reader.expect(.lengthDelimited, wire, field: "TypeProto.Tensor.shape")
                    var sub = try reader.readMessage()
                    var dims: [Int?] = []
                    while !sub.isAtEnd {
                        let (f, w) = try sub.readTag()
                        guard f == 1 else {
                            try sub.skip(w)
                            continue
                        }
                        try sub.expect(.lengthDelimited, w, field: "TensorShapeProto.dim")
                        var dim = try sub.readMessage()
                        var value: Int?
                        while !dim.isAtEnd {
                            let (df, dw) = try dim.readTag()
                            if df == 1 {
                                try dim.expect(.varint, dw, field: "Dimension.dim_value")
                                let v = try dim.readInt64()
                                value = v >= 0 ? Int(exactly: v) : nil
                            } else {
                                try dim.skip(dw) // dim_param: symbolic, stays nil
                            }
                        }
                        dims.append(value)
                    }
                    shape = dims
                default:
                    try reader.skip(wire)
                }
            }
        }
    }
}
