/// C[m, n] = Σ_k A[m, k]·B[k, n] over strided views, so transposed operands
/// need no copy. Loops run m-k-n to stream B's rows when B is not transposed.
@inline(__always)
func multiplyMatrices<T: RealScalar>(
    _ a: UnsafeBufferPointer<T>, _ aOffset: Int, rowStrideA: Int, colStrideA: Int,
    _ b: UnsafeBufferPointer<T>, _ bOffset: Int, rowStrideB: Int, colStrideB: Int,
    m: Int, k: Int, n: Int,
    into c: UnsafeMutableBufferPointer<T>, _ cOffset: Int
) {
    for i in 0..<m {
        let row = cOffset + i * n
        for j in 0..<n { c[row + j] = 0 }
        for p in 0..<k {
            let x = a[aOffset + i * rowStrideA + p * colStrideA]
            let bRow = bOffset + p * rowStrideB
            for j in 0..<n { c[row + j] += x * b[bRow + j * colStrideB] }
        }
    }
}

struct MatMulKernel: Kernel {
    init(_ context: NodeContext) throws(ONNXError) { try context.requireInputs(2...2) }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let a = try frame.tensor(io, 0)
        let b = try frame.tensor(io, 1)
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): frame.set(io, 0, try matmul(x, a.shape, y, b.shape))
        case (.double(let x), .double(let y)): frame.set(io, 0, try matmul(x, a.shape, y, b.shape))
        default: throw .execution("MatMul needs two float or two double tensors, got \(a.elementType) and \(b.elementType)")
        }
    }

    private func matmul<T: RealScalar>(_ x: [T], _ xShape: [Int], _ y: [T], _ yShape: [Int]) throws(ONNXError) -> ONNXTensor {
        guard !xShape.isEmpty, !yShape.isEmpty else { throw .execution("MatMul does not accept scalars") }
        // 1-D operands are promoted to matrices and the extra axis dropped after.
        let aShape = xShape.count == 1 ? [1, xShape[0]] : xShape
        let bShape = yShape.count == 1 ? [yShape[0], 1] : yShape
        let m = aShape[aShape.count - 2]
        let k = aShape[aShape.count - 1]
        let k2 = bShape[bShape.count - 2]
        let n = bShape[bShape.count - 1]
        guard k == k2 else { throw .execution("MatMul shapes \(xShape) and \(yShape) do not align") }
        let aBatch = Array(aShape.dropLast(2))
        let bBatch = Array(bShape.dropLast(2))
        let batch = try Broadcast.shape(aBatch, bBatch)
        let batches = batch.reduce(1, *)
        var out = [T](repeating: 0, count: batches * m * n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                out.withUnsafeMutableBufferPointer { op in
                    var target = 0
                    try? Broadcast.forEachIndexPair(
                        batch, Broadcast.strides(of: aBatch, in: batch), Broadcast.strides(of: bBatch, in: batch)
                    ) { (ai: Int, bi: Int) throws(ONNXError) in
                        multiplyMatrices(
                            xp, ai * m * k, rowStrideA: k, colStrideA: 1,
                            yp, bi * k * n, rowStrideB: n, colStrideB: 1,
                            m: m, k: k, n: n, into: op, target * m * n)
                        target += 1
                    }
                }
            }
        }
        var shape = batch
        if xShape.count > 1 { shape.append(m) }
        if yShape.count > 1 { shape.append(n) }
        return ONNXTensor(shape: shape, storage: T.wrap(out))
    }
}

struct GemmKernel: Kernel {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(2...3)
        alpha = try context.attributes.float("alpha", default: 1)
        beta = try context.attributes.float("beta", default: 1)
        transA = try context.attributes.int("transA", default: 0) != 0
        transB = try context.attributes.int("transB", default: 0) != 0
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let a = try frame.tensor(io, 0)
        let b = try frame.tensor(io, 1)
        let c = try frame.optionalTensor(io, 2)
        switch (a.storage, b.storage, c?.storage) {
        case (.float(let x), .float(let y), .none): frame.set(io, 0, try gemm(x, a.shape, y, b.shape, nil, []))
        case (.float(let x), .float(let y), .float(let z)?): frame.set(io, 0, try gemm(x, a.shape, y, b.shape, z, c!.shape))
        case (.double(let x), .double(let y), .none): frame.set(io, 0, try gemm(x, a.shape, y, b.shape, nil, []))
        case (.double(let x), .double(let y), .double(let z)?): frame.set(io, 0, try gemm(x, a.shape, y, b.shape, z, c!.shape))
        default: throw .execution("Gemm needs float or double tensors of one type")
        }
    }

    private func gemm<T: RealScalar>(_ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ z: [T]?, _ zs: [Int]) throws(ONNXError) -> ONNXTensor {
        guard xs.count == 2, ys.count == 2 else { throw .execution("Gemm needs 2-D A and B, got \(xs) and \(ys)") }
        let (m, k) = transA ? (xs[1], xs[0]) : (xs[0], xs[1])
        let (k2, n) = transB ? (ys[1], ys[0]) : (ys[0], ys[1])
        guard k == k2 else { throw .execution("Gemm shapes \(xs) and \(ys) do not align (transA=\(transA), transB=\(transB))") }
        var out = [T](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                out.withUnsafeMutableBufferPointer { op in
                    multiplyMatrices(
                        xp, 0, rowStrideA: transA ? 1 : k, colStrideA: transA ? m : 1,
                        yp, 0, rowStrideB: transB ? 1 : n, colStrideB: transB ? k : 1,
                        m: m, k: k, n: n, into: op, 0)
                }
            }
        }
        let alpha = T(self.alpha)
        let beta = T(self.beta)
        if let z, beta != 0 {
            let bias = try Broadcast.expand(z, zs, to: [m, n])
            for i in out.indices { out[i] = alpha * out[i] + beta * bias[i] }
        } else if alpha != 1 {
            for i in out.indices { out[i] *= alpha }
        }
        return ONNXTensor(shape: [m, n], storage: T.wrap(out))
    }
}
