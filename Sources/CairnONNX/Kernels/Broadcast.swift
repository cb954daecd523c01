/// NumPy-style (multidirectional) broadcasting, shared by the arithmetic
/// kernels, Gemm's bias and MatMul's batch dimensions.
enum Broadcast {
    static func shape(_ a: [Int], _ b: [Int]) throws(ONNXError) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw .execution("shapes \(a) and \(b) cannot be broadcast together")
            }
        }
        return out
    }

    /// Element strides of `shape` viewed as `outShape`: zero along the
    /// dimensions it is broadcast over.
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let rank = outShape.count
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for i in stride(from: rank - 1, through: 0, by: -1) {
            let j = i - (rank - shape.count)
            guard j >= 0 else { break }
            strides[i] = shape[j] == 1 ? 0 : step
            step *= shape[j]
        }
        return strides
    }

    /// Calls `body` with the flat index into each operand for every element
    /// of `outShape`, in row-major order.
    @inline(__always)
    static func forEachIndexPair(
        _ outShape: [Int], _ aStrides: [Int], _ bStrides: [Int],
        _ body: (Int, Int) throws(ONNXError) -> Void
    ) throws(ONNXError) {
        guard let total = elementCount(outShape), total > 0 else { return }
        let rank = outShape.count
        var index = [Int](repeating: 0, count: rank)
        var ai = 0
        var bi = 0
        for _ in 0..<total {
            try body(ai, bi)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                ai += aStrides[d]
                bi += bStrides[d]
                if index[d] < outShape[d] { break }
                ai -= aStrides[d] * outShape[d]
                bi -= bStrides[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    static func apply<A, B, R>(
        _ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int],
        _ op: (A, B) throws(ONNXError) -> R
    ) throws(ONNXError) -> (values: [R], shape: [Int]) {
        let outShape = try shape(aShape, bShape)
        if aShape == bShape {
            var out: [R] = []
            out.reserveCapacity(a.count)
            for i in a.indices { out.append(try op(a[i], b[i])) }
            return (out, outShape)
        }
        if b.count == 1, a.count == elementCount(outShape) {
            let y = b[0]
            var out: [R] = []
            out.reserveCapacity(a.count)
            for x in a { out.append(try op(x, y)) }
            return (out, outShape)
        }
        if a.count == 1, b.count == elementCount(outShape) {
            let x = a[0]
            var out: [R] = []
            out.reserveCapacity(b.count)
            for y in b { out.append(try op(x, y)) }
            return (out, outShape)
        }
        var out: [R] = []
        out.reserveCapacity(elementCount(outShape) ?? 0)
        try forEachIndexPair(outShape, strides(of: aShape, in: outShape), strides(of: bShape, in: outShape)) {
            (i: Int, j: Int) throws(ONNXError) in
            out.append(try op(a[i], b[j]))
        }
        return (out, outShape)
    }

    /// `values` (of `shape`) repeated out to `target`, which it must
    /// broadcast to without `target` changing (unidirectional broadcasting).
    static func expand<T>(_ values: [T], _ shape: [Int], to target: [Int]) throws(ONNXError) -> [T] {
        guard try Self.shape(shape, target) == target else {
            throw .execution("shape \(shape) cannot be broadcast to \(target)")
        }
        if shape == target { return values }
        var out: [T] = []
        out.reserveCapacity(elementCount(target) ?? 0)
        try forEachIndexPair(target, strides(of: shape, in: target), strides(of: [], in: target)) { (i: Int, _: Int) throws(ONNXError) in
            out.append(values[i])
        }
        return out
    }
}
