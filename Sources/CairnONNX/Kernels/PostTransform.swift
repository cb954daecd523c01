/// Score post-processing shared by the linear and tree kernels of ai.onnx.ml.
///
/// The single-score cases follow onnxruntime's behaviour, which the spec
/// leaves open: a binary tree model that stores one score column emits two,
/// `[1 - p, p]` when its weights are probabilities and `[-s, s]` (or the
/// logistic of each under LOGISTIC) when they are margins.
enum PostTransform: Sendable {
    case none, softmax, logistic, softmaxZero, probit

    init(name: String) throws(ONNXError) {
        switch name {
        case "NONE": self = .none
        case "SOFTMAX": self = .softmax
        case "LOGISTIC": self = .logistic
        case "SOFTMAX_ZERO": self = .softmaxZero
        case "PROBIT": self = .probit
        default: throw .invalidModel("unknown post_transform '\(name)'")
        }
    }

    /// ai.onnx.ml opset 5 (TreeEnsemble) numbers the transforms as its spec
    /// does: 1 is SOFTMAX, 2 LOGISTIC. (onnxruntime 1.32 swaps those two;
    /// Cairn follows the spec.)
    init(code: Int64) throws(ONNXError) {
        switch code {
        case 0: self = .none
        case 1: self = .softmax
        case 2: self = .logistic
        case 3: self = .softmaxZero
        case 4: self = .probit
        default: throw .invalidModel("unknown post_transform \(code)")
        }
    }

    /// How to widen a lone score to two columns.
    enum SecondClass {
        /// Leave a single score alone.
        case none
        /// Scores are probabilities of the positive class: emit [1 - p, p].
        case complement
        /// Scores are signed margins: emit [-s, s] (logistic of each under LOGISTIC).
        case mirror
    }

    /// Transforms one row of scores in place, appending the second column
    /// when a lone binary score is widened.
    func apply<T: RealScalar>(_ scores: inout [T], secondClass: SecondClass) {
        if scores.count >= 2 {
            switch self {
            case .none: break
            case .logistic: for i in scores.indices { scores[i] = Self.logistic(scores[i]) }
            case .probit: for i in scores.indices { scores[i] = Self.probit(scores[i]) }
            case .softmax: Self.softmax(&scores)
            case .softmaxZero: Self.softmaxZero(&scores)
            }
            return
        }
        guard scores.count == 1 else { return }
        if self == .probit {
            scores[0] = Self.probit(scores[0])
            return
        }
        let s = scores[0]
        switch secondClass {
        case .none: break
        case .complement: scores = [1 - s, s]
        case .mirror: scores = self == .logistic ? [Self.logistic(-s), Self.logistic(s)] : [-s, s]
        }
    }

    /// 1 / (1 + e^-x), evaluated on |x| so large magnitudes do not overflow.
    @inline(__always)
    static func logistic<T: RealScalar>(_ x: T) -> T {
        let v = 1 / (1 + T.exp(-abs(x)))
        return x < 0 ? 1 - v : v
    }

    /// √2 · erf⁻¹(2p − 1), with erf⁻¹ from Winitzki's closed-form
    /// approximation (a = 0.147) — the one onnxruntime uses, so PROBIT
    /// scores agree with it to float precision rather than to ~1e-3.
    static func probit<T: RealScalar>(_ p: T) -> T {
        let x = Float(2 * p - 1)
        let sign: Float = x < 0 ? -1 : 1
        let ln = Float.log((1 - x) * (1 + x))
        let v = 2 / (3.14159 * 0.147) + 0.5 * ln
        let v2 = 1 / 0.147 * ln
        let v3 = -v + (v * v - v2).squareRoot()
        return T(1.41421356 * sign * v3.squareRoot())
    }

    static func softmax<T: RealScalar>(_ scores: inout [T]) {
        var peak = -T.greatestFiniteMagnitude
        for s in scores where s > peak { peak = s }
        var sum: T = 0
        for i in scores.indices {
            scores[i] = T.exp(scores[i] - peak)
            sum += scores[i]
        }
        for i in scores.indices { scores[i] /= sum }
    }

    /// Softmax that leaves (near-)zero scores at zero: absent classes stay absent.
    static func softmaxZero<T: RealScalar>(_ scores: inout [T]) {
        var peak = -T.greatestFiniteMagnitude
        for s in scores where s > peak { peak = s }
        let scale = T.exp(-peak)
        var sum: T = 0
        for i in scores.indices {
            let s = scores[i]
            if s > T(0.0000001) || s < T(-0.0000001) {
                scores[i] = T.exp(s - peak)
                sum += scores[i]
            } else {
                scores[i] = s * scale
            }
        }
        for i in scores.indices { scores[i] /= sum }
    }
}
