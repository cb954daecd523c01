import Testing

@testable import CairnONNX

@Suite struct ONNXTensorRowsTests {
    @Test func concatenatingThenCuttingRowsRoundTrips() throws {
        let a = ONNXTensor(shape: [1, 3], floats: [1, 2, 3])
        let b = ONNXTensor(shape: [2, 3], floats: [4, 5, 6, 7, 8, 9])
        let joined = try ONNXTensor.concatenatingRows([a, b])
        #expect(joined.shape == [3, 3])
        #expect(joined.rowStride == 3)
        #expect(joined.rows(0..<1) == a)
        #expect(joined.rows(1..<3) == b)
    }

    @Test func mismatchedRowsAreRefused() {
        #expect(throws: ONNXError.self) {
            try ONNXTensor.concatenatingRows([ONNXTensor(shape: [1, 2], floats: [1, 2]), ONNXTensor(shape: [1, 3], floats: [1, 2, 3])])
        }
        #expect(throws: ONNXError.self) {
            try ONNXTensor.concatenatingRows([ONNXTensor(shape: [1], floats: [1]), ONNXTensor(shape: [1], int64s: [1])])
        }
        #expect(throws: ONNXError.self) { try ONNXTensor.concatenatingRows([]) }
    }
}
