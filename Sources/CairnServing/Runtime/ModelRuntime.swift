import CairnCore
import CairnONNX
import CairnTabular

/// Rows to score for one request: a frame (already conformed to the model's signature), or
/// named tensors from an Open Inference Protocol request that match the model's own inputs.
public enum ModelInput: Sendable {
    case frame(DataFrame)
    case tensors([String: ONNXTensor], rows: Int)

    public var rowCount: Int {
        switch self {
        case .frame(let frame): frame.rowCount
        case .tensors(_, let rows): rows
        }
    }
}

/// One request's result.
public enum ModelOutput: Sendable {
    /// Named outputs of the native runtime, holding only this request's rows.
    case values([(name: String, value: ONNXValue)])
    /// A complete `{"predictions": …}` body, as a Python worker wrote it.
    case predictionsJSON([UInt8])
}

/// Describes a model's tensors for Open Inference Protocol metadata.
public struct TensorMetadata: Sendable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int]
}

/// Something that scores batches: the native ONNX runtime or a pool of Python workers.
///
/// `predict` receives several requests' inputs at once (a micro-batch) and returns one
/// result per input, in order; a failure that belongs to one request fails only that one.
public protocol ModelRuntime: Sendable {
    /// "onnx" or "python", for metadata and metric labels.
    var kind: String { get }
    var inputMetadata: [TensorMetadata] { get }
    var outputMetadata: [TensorMetadata] { get }
    /// How many batches may run at once (cores for native, workers for Python).
    var concurrency: Int { get }
    /// Whether a missing value (null, an absent key, an empty CSV cell) in a required column
    /// may reach the model. Python models get pandas' NaN, as behind `mlflow models serve`,
    /// and decide for themselves; the native runtime would compute a number from a NaN the
    /// client never sent, so it refuses the request instead.
    var acceptsMissingValues: Bool { get }
    func predict(_ batch: [ModelInput], params: [String: JSONValue]) async -> [Result<ModelOutput, CairnError>]
    /// Releases processes and memory once no batch will come.
    func shutdown() async
    /// Upkeep for as long as the runtime serves (the Python pool restarts crashed workers
    /// here); returns once `shutdown()` was called.
    func run() async
}

extension ModelRuntime {
    /// Most runtimes need no upkeep.
    public func run() async {}
}

extension ModelRuntime {
    /// Rows as this runtime takes them: conformed to `signature` when there is one (names,
    /// order, types), and refused when a value is missing that the runtime cannot take.
    /// `firstRow` numbers the rows of a frame that is one chunk of a file.
    public func prepare(_ frame: DataFrame, positional: Bool, signature: ModelSignature?, firstRow: Int = 0) throws(CairnError) -> DataFrame
    {
        let conformed = try signature?.conform(frame, positional: positional) ?? frame
        if !acceptsMissingValues { try conformed.refuseMissingValues(firstRow: firstRow) }
        return conformed
    }
}
