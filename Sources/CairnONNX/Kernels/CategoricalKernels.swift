// ai.onnx.ml operators over categories: OneHotEncoder, LabelEncoder,
// ArrayFeatureExtractor, ZipMap.

/// A lookup key for category tables. Reals compare by value through their
/// Double form, with every NaN one key and -0 equal to +0, so a NaN key can
/// be matched (LabelEncoder 4 allows it).
enum CategoryKey: Hashable, Sendable {
    case int(Int64)
    case string(String)
    case real(UInt64)

    static func real<T: BinaryFloatingPoint>(_ x: T) -> CategoryKey {
        let d = Double(x)
        if d.isNaN { return .real(Double.nan.bitPattern) }
        return .real((d == 0 ? 0 : d).bitPattern)
    }

    enum Family: String, Sendable {
        case int = "int64"
        case string = "string"
        case float = "float"
        case double = "double"
    }

    /// Keys for each element of `storage`, which must be of `family`.
    static func keys(_ storage: ONNXTensor.Storage, family: Family) throws(ONNXError) -> [CategoryKey] {
        switch (storage, family) {
        case (.int64(let v), .int): return v.map { .int($0) }
        case (.int32(let v), .int): return v.map { .int(Int64($0)) }
        case (.string(let v), .string): return v.map { .string($0) }
        case (.float(let v), .float): return v.map { .real($0) }
        case (.double(let v), .double): return v.map { .real($0) }
        default: throw .execution("input of type \(storage.elementType) does not match \(family.rawValue) keys")
        }
    }
}

struct OneHotEncoderKernel: Kernel {
    let categories: [CategoryKey: Int]
    let categoryCount: Int
    let usesStrings: Bool
    let zeros: Bool

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        let a = context.attributes
        let keys: [CategoryKey]
        if let strings = try a.strings("cats_strings"), !strings.isEmpty {
            keys = strings.map { .string($0) }
            usesStrings = true
        } else if let ints = try a.ints("cats_int64s"), !ints.isEmpty {
            keys = ints.map { .int($0) }
            usesStrings = false
        } else {
            throw .invalidModel("OneHotEncoder needs cats_int64s or cats_strings")
        }
        var table: [CategoryKey: Int] = [:]
        for (i, key) in keys.enumerated() where table[key] == nil { table[key] = i }
        categories = table
        categoryCount = keys.count
        zeros = try a.int("zeros", default: 1) != 0
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let keys: [CategoryKey]
        switch x.storage {
        case .string(let v) where usesStrings: keys = v.map { .string($0) }
        case .int64(let v) where !usesStrings: keys = v.map { .int($0) }
        case .int32(let v) where !usesStrings: keys = v.map { .int(Int64($0)) }
        case .float(let v) where !usesStrings: keys = v.map { .int(truncatingInt64($0)) }
        case .double(let v) where !usesStrings: keys = v.map { .int(truncatingInt64($0)) }
        default: throw .execution("input of type \(x.elementType) does not match the \(usesStrings ? "string" : "int64") categories")
        }
        var out = [Float](repeating: 0, count: keys.count * categoryCount)
        for (i, key) in keys.enumerated() {
            if let c = categories[key] {
                out[i * categoryCount + c] = 1
            } else if !zeros {
                throw .execution("value \(key) is not one of the categories (and zeros=0)")
            }
        }
        frame.set(io, 0, ONNXTensor(shape: x.shape + [categoryCount], storage: .float(out)))
    }
}

/// Maps keys to values through a table, with a default for unknown keys.
/// The default is stored as the table's last element so the lookup result
/// is just a list of indices into it.
struct LabelEncoderKernel: Kernel {
    struct Mapping: Sendable {
        let family: CategoryKey.Family
        let index: [CategoryKey: Int]
        /// Values, then the default.
        let table: ONNXTensor.Storage
    }

    /// Version 1 maps both ways between strings and their positions; later
    /// versions have one direction.
    let mappings: [Mapping]

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        let a = context.attributes
        if context.opset < 2 {
            guard let classes = try a.strings("classes_strings") else { throw .invalidModel("LabelEncoder 1 needs classes_strings") }
            let positions = (0..<classes.count).map { Int64($0) }
            mappings = [
                try Self.mapping(.string(classes), .int64(positions + [try a.int("default_int64", default: -1)])),
                try Self.mapping(.int64(positions), .string(classes + [try a.string("default_string", default: "_Unused")])),
            ]
            return
        }
        let keys: ONNXTensor.Storage
        if let t = try a.tensor("keys_tensor") {
            keys = t.storage
        } else if let v = try a.strings("keys_strings") {
            keys = .string(v)
        } else if let v = try a.ints("keys_int64s") {
            keys = .int64(v)
        } else if let v = try a.floats("keys_floats") {
            keys = .float(v)
        } else {
            throw .invalidModel("LabelEncoder needs keys")
        }
        let values: ONNXTensor.Storage
        if let t = try a.tensor("values_tensor") {
            values = t.storage
        } else if let v = try a.strings("values_strings") {
            values = .string(v)
        } else if let v = try a.ints("values_int64s") {
            values = .int64(v)
        } else if let v = try a.floats("values_floats") {
            values = .float(v)
        } else {
            throw .invalidModel("LabelEncoder needs values")
        }
        guard keys.count == values.count else {
            throw .invalidModel("LabelEncoder has \(keys.count) keys but \(values.count) values")
        }
        let fallback: ONNXTensor.Storage
        if let t = try a.tensor("default_tensor") {
            guard t.count == 1, t.elementType == values.elementType else {
                throw .invalidModel("default_tensor must hold one \(values.elementType) value")
            }
            fallback = t.storage
        } else {
            switch values {
            case .string: fallback = .string([try a.string("default_string", default: "_Unused")])
            case .int64: fallback = .int64([try a.int("default_int64", default: -1)])
            case .float: fallback = .float([try a.float("default_float", default: -0.0)])
            case .double: fallback = .double([-0.0])
            case .int32: fallback = .int32([-1])
            default: throw .unsupported("LabelEncoder values of type \(values.elementType) are not supported")
            }
        }
        mappings = [try Self.mapping(keys, try .concatenating([values, fallback]))]
    }

    private static func mapping(_ keys: ONNXTensor.Storage, _ table: ONNXTensor.Storage) throws(ONNXError) -> Mapping {
        let family: CategoryKey.Family
        switch keys {
        case .int64, .int32: family = .int
        case .string: family = .string
        case .float: family = .float
        case .double: family = .double
        default: throw .unsupported("LabelEncoder keys of type \(keys.elementType) are not supported")
        }
        var index: [CategoryKey: Int] = [:]
        for (i, key) in try CategoryKey.keys(keys, family: family).enumerated() where index[key] == nil { index[key] = i }
        return Mapping(family: family, index: index, table: table)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        var lastError: ONNXError?
        for mapping in mappings {
            do {
                let keys = try CategoryKey.keys(x.storage, family: mapping.family)
                let fallback = mapping.table.count - 1
                let picks = keys.map { mapping.index[$0] ?? fallback }
                frame.set(io, 0, ONNXTensor(shape: x.shape, storage: mapping.table.gathering(picks)))
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? .execution("LabelEncoder has no mapping")
    }
}

/// Selects columns (last-axis positions) of X by the indices in Y.
struct ArrayFeatureExtractorKernel: Kernel {
    init(_ context: NodeContext) throws(ONNXError) { try context.requireInputs(2...2) }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let picks = try frame.tensor(io, 1).storage.indices()
        guard let extent = x.shape.last else { throw .execution("X must have at least one dimension") }
        for p in picks where p < 0 || p >= extent {
            throw .execution("index \(p) is out of range for \(extent) columns")
        }
        let rows = extent == 0 ? 0 : x.count / extent
        var order: [Int] = []
        order.reserveCapacity(rows * picks.count)
        for r in 0..<rows { for p in picks { order.append(r * extent + p) } }
        let shape = x.shape.count == 1 ? [1, picks.count] : Array(x.shape.dropLast()) + [picks.count]
        frame.set(io, 0, ONNXTensor(shape: shape, storage: x.storage.gathering(order)))
    }
}

/// Turns [N, C] probabilities into N maps from class label to probability.
struct ZipMapKernel: Kernel {
    let labels: ClassLabels

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        labels = try ClassLabels(context.attributes)
        guard labels.count > 0 else { throw .invalidModel("ZipMap needs classlabels_int64s or classlabels_strings") }
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let tensor = try frame.tensor(io, 0)
        guard case .float(let values) = tensor.storage else {
            throw .execution("ZipMap takes float scores, got \(tensor.elementType)")
        }
        let x = FeatureMatrix(values, shape: tensor.shape)
        guard x.columns == labels.count else {
            throw .execution("\(x.columns) score columns for \(labels.count) class labels")
        }
        switch labels {
        case .ints(let keys):
            var maps: [[Int64: Float]] = []
            maps.reserveCapacity(x.rows)
            for r in 0..<x.rows {
                var map: [Int64: Float] = [:]
                map.reserveCapacity(keys.count)
                for (c, key) in keys.enumerated() { map[key] = values[r * x.columns + c] }
                maps.append(map)
            }
            frame.set(io, 0, .sequenceOfMaps(.int64Keys(maps)))
        case .strings(let keys):
            var maps: [[String: Float]] = []
            maps.reserveCapacity(x.rows)
            for r in 0..<x.rows {
                var map: [String: Float] = [:]
                map.reserveCapacity(keys.count)
                for (c, key) in keys.enumerated() { map[key] = values[r * x.columns + c] }
                maps.append(map)
            }
            frame.set(io, 0, .sequenceOfMaps(.stringKeys(maps)))
        }
    }
}
