#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Float and Double, with the libm functions kernels need, so each numeric
/// kernel is written once and specialised for both.
protocol RealScalar: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func wrap(_ values: [Self]) -> ONNXTensor.Storage
    static var elementType: ONNXElementType { get }
}

extension Float: RealScalar {
    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
    static func wrap(_ values: [Float]) -> ONNXTensor.Storage { .float(values) }
    static var elementType: ONNXElementType { .float }
}

extension Double: RealScalar {
    @inline(__always) static func exp(_ x: Double) -> Double { libm_exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { libm_log(x) }
    @inline(__always) static func tanh(_ x: Double) -> Double { libm_tanh(x) }
    static func wrap(_ values: [Double]) -> ONNXTensor.Storage { .double(values) }
    static var elementType: ONNXElementType { .double }
}

// Module-level aliases: inside `extension Double` the bare names would
// resolve to the static requirements themselves.
@inline(__always) private func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) private func libm_tanh(_ x: Double) -> Double { tanh(x) }

extension ONNXTensor.Storage {
    /// The elements as reals, converting any numeric type the way a C cast
    /// would. Strings cannot be converted.
    func reals<T: RealScalar>(as _: T.Type = T.self) throws(ONNXError) -> [T] {
        switch self {
        case .float(let v): return T.self == Float.self ? v as! [T] : v.map { T($0) }
        case .double(let v): return T.self == Double.self ? v as! [T] : v.map { T($0) }
        case .int64(let v): return v.map { T($0) }
        case .int32(let v): return v.map { T($0) }
        case .uint8(let v): return v.map { T($0) }
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        case .string: throw .invalidInput("expected a numeric tensor, got strings")
        }
    }
}

/// Float-to-integer conversion that never traps: NaN and out-of-range values
/// become Int64.min, as x86's truncating conversion produces them.
@inline(__always) func truncatingInt64<T: BinaryFloatingPoint>(_ x: T) -> Int64 {
    guard x.isFinite, x > -9.223372036854775808e18, x < 9.223372036854775807e18 else { return .min }
    return Int64(x)
}
