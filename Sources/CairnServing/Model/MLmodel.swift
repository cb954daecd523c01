import CairnCore
import Foundation
import Yams

/// The parts of an MLflow `MLmodel` file that serving needs: which flavors the model has,
/// where the ONNX graph is, and the input signature.
public struct MLmodel: Sendable {
    public var flavors: Set<String>
    /// The ONNX file relative to the model directory, when the model has the `onnx` flavor.
    public var onnxPath: String?
    public var signature: ModelSignature?
    /// The output side of the signature, for showing it (serving never checks outputs, so one
    /// that does not parse is left out rather than refusing the model).
    public var outputSignature: ModelSignature?
    /// The logged input example's file, relative to the model directory (inside it).
    public var inputExamplePath: String?
    public var runID: String?
    public var modelID: String?
    public var mlflowVersion: String?

    public var hasPythonFunction: Bool { flavors.contains("python_function") }

    public static let fileName = "MLmodel"

    public init(yaml: String) throws(CairnError) {
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: yaml) as? [String: Any] else {
                throw CairnError(.invalidParameterValue, "MLmodel is not a YAML mapping.")
            }
            root = loaded
        } catch let error as CairnError {
            throw error
        } catch {
            throw CairnError(.invalidParameterValue, "MLmodel is not valid YAML: \(error)")
        }
        let flavorTable = root["flavors"] as? [String: Any] ?? [:]
        flavors = Set(flavorTable.keys)
        if let onnx = flavorTable["onnx"] as? [String: Any] {
            let data = onnx["data"] as? String ?? "model.onnx"
            // The file must stay inside the model directory whatever the YAML says.
            guard !data.hasPrefix("/"), !data.split(separator: "/").contains("..") else {
                throw CairnError(.invalidParameterValue, "MLmodel names an ONNX file outside the model directory: \(data)")
            }
            onnxPath = data
        }
        if let signatureTable = root["signature"] as? [String: Any], let inputs = signatureTable["inputs"] as? String {
            signature = try ModelSignature.parse(inputsJSON: inputs)
        }
        if let signatureTable = root["signature"] as? [String: Any], let outputs = signatureTable["outputs"] as? String {
            outputSignature = try? ModelSignature.parse(inputsJSON: outputs)
        }
        if let example = root["saved_input_example_info"] as? [String: Any], let path = example["artifact_path"] as? String,
            !path.hasPrefix("/"), !path.split(separator: "/").contains("..")
        {
            inputExamplePath = path
        }
        runID = root["run_id"] as? String
        modelID = root["model_id"] as? String
        mlflowVersion = root["mlflow_version"] as? String
    }

    /// Reads `<directory>/MLmodel`.
    public init(directory: String) throws(CairnError) {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnError(.resourceDoesNotExist, "No MLmodel file in \(directory).")
        }
        try self.init(yaml: String(decoding: data, as: UTF8.self))
    }
}
