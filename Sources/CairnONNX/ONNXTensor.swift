/// Tensor element types, numbered as TensorProto.DataType numbers them.
public enum ONNXElementType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case undefined = 0
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16

    public var description: String {
        switch self {
        case .undefined: "undefined"
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "double"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .bfloat16: "bfloat16"
        }
    }

    /// Types decoded from dtype numbers outside the enum (newer ONNX releases
    /// keep adding float8 and int4 variants) read as `.undefined`.
    init(protoValue: Int64) {
        self = Int32(exactly: protoValue).flatMap(ONNXElementType.init(rawValue:)) ?? .undefined
    }
}

/// A dense tensor in row-major order. `storage` holds exactly
/// `shape.reduce(1, *)` elements; `ONNXModel.run` checks that before use.
public struct ONNXTensor: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case double([Double])
        case int64([Int64])
        case int32([Int32])
        case uint8([UInt8])
        case bool([Bool])
        case string([String])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float(floats)) }
    public init(shape: [Int], doubles: [Double]) { self.init(shape: shape, storage: .double(doubles)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    public init(shape: [Int], int32s: [Int32]) { self.init(shape: shape, storage: .int32(int32s)) }
    public init(shape: [Int], strings: [String]) { self.init(shape: shape, storage: .string(strings)) }
    public init(shape: [Int], bools: [Bool]) { self.init(shape: shape, storage: .bool(bools)) }

    public var elementType: ONNXElementType { storage.elementType }

    /// Number of stored elements (which a valid tensor keeps equal to the
    /// product of `shape`).
    public var count: Int { storage.count }
}

extension ONNXTensor.Storage {
    public var elementType: ONNXElementType {
        switch self {
        case .float: .float
        case .double: .double
        case .int64: .int64
        case .int32: .int32
        case .uint8: .uint8
        case .bool: .bool
        case .string: .string
        }
    }

    public var count: Int {
        switch self {
        case .float(let v): v.count
        case .double(let v): v.count
        case .int64(let v): v.count
        case .int32(let v): v.count
        case .uint8(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        }
    }
}

/// A ZipMap result: one map from class label to probability per input row.
public enum ONNXMapSequence: Sendable, Equatable {
    case int64Keys([[Int64: Float]])
    case stringKeys([[String: Float]])

    public var count: Int {
        switch self {
        case .int64Keys(let maps): maps.count
        case .stringKeys(let maps): maps.count
        }
    }
}

/// What a graph value can be: a tensor, or the sequence of maps ZipMap makes.
public enum ONNXValue: Sendable, Equatable {
    case tensor(ONNXTensor)
    case sequenceOfMaps(ONNXMapSequence)

    public var tensor: ONNXTensor? {
        if case .tensor(let t) = self { return t }
        return nil
    }
}

/// Declared type of a graph input or output.
public struct ONNXValueInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case tensor
        /// `seq(map(key, value))`; `elementType` is the value type.
        case sequenceOfMaps(keyType: ONNXElementType)
        /// Sequences of tensors, optionals, sparse tensors: declared, not run.
        case other
    }

    public let name: String
    public let kind: Kind
    public let elementType: ONNXElementType
    /// One entry per dimension; nil marks a symbolic or unknown dimension.
    /// Empty for scalars and for values whose rank is not declared
    /// (`hasShape` tells the two apart).
    public let shape: [Int?]
    public let hasShape: Bool

    public var isSequenceOfMaps: Bool {
        if case .sequenceOfMaps = kind { return true }
        return false
    }
}
