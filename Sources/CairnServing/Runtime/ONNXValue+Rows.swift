import CairnCore
import CairnONNX

extension ONNXValue {
    /// Rows `range` of an output whose first dimension is the batch's `total` rows.
    func rows(_ range: Range<Int>, of total: Int) throws(CairnError) -> ONNXValue {
        if range.count == total { return self }
        switch self {
        case .tensor(let tensor):
            guard tensor.shape.first == total else {
                throw CairnError(.internalError, "An output's first dimension is not the batch's rows.")
            }
            return .tensor(tensor.rows(range))
        case .sequenceOfMaps(let maps):
            guard maps.count == total else { throw CairnError(.internalError, "An output's length is not the batch's rows.") }
            switch maps {
            case .int64Keys(let rows): return .sequenceOfMaps(.int64Keys(Array(rows[range])))
            case .stringKeys(let rows): return .sequenceOfMaps(.stringKeys(Array(rows[range])))
            }
        }
    }
}
