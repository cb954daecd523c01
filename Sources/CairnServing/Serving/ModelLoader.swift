import CairnCore
import CairnONNX
import CairnTabular
import Foundation
import Logging

/// How `cairn serve` should run a model.
public enum RuntimePreference: String, Sendable, CaseIterable {
    /// Native ONNX when the model has the onnx flavor and every operator is supported,
    /// else Python.
    case auto
    case native
    case python
}

/// Turns a downloaded model directory into a warmed-up deployment.
public struct ModelLoader: Sendable {
    public var preference: RuntimePreference
    public var python: String
    public var pythonWorkers: Int
    public var nativeConcurrency: Int
    public var batching: BatchingOptions
    public var metrics: ServingMetrics
    public var logger: Logger

    public init(
        preference: RuntimePreference = .auto, python: String = "python3", pythonWorkers: Int = 2,
        nativeConcurrency: Int = ProcessInfo.processInfo.activeProcessorCount, batching: BatchingOptions = BatchingOptions(),
        metrics: ServingMetrics, logger: Logger
    ) {
        self.preference = preference
        self.python = python
        self.pythonWorkers = pythonWorkers
        self.nativeConcurrency = nativeConcurrency
        self.batching = batching
        self.metrics = metrics
        self.logger = logger
    }

    public func load(_ model: ResolvedModel, name: String) async throws -> ModelDeployment {
        let mlmodel = try MLmodel(directory: model.directory)
        let runtime = try await makeRuntime(mlmodel, directory: model.directory, name: name)
        do {
            try await warmUp(runtime, directory: model.directory, signature: mlmodel.signature)
        } catch {
            await runtime.shutdown()
            throw error
        }
        return ModelDeployment(
            name: name, versionLabel: model.versionLabel, signature: mlmodel.signature, runtime: runtime,
            options: batching, metrics: metrics.deployment(model: name, version: model.versionLabel), cacheLease: model.cacheLease
        )
    }

    /// Loads just the runtime, for batch scoring (`cairn predict`).
    public func makeRuntime(_ mlmodel: MLmodel, directory: String, name: String) async throws -> any ModelRuntime {
        if preference != .python, let onnxPath = mlmodel.onnxPath {
            do {
                let model = try ONNXModel(contentsOf: (directory as NSString).appendingPathComponent(onnxPath))
                logger.info("Serving natively with Cairn's ONNX runtime", metadata: ["model": "\(name)", "producer": "\(model.producer)"])
                return try NativeONNXRuntime(model: model, signature: mlmodel.signature, concurrency: nativeConcurrency)
            } catch {
                guard preference == .auto, mlmodel.hasPythonFunction else {
                    throw CairnError(.invalidParameterValue, "Cannot run the model natively: \(error)")
                }
                logger.warning("Falling back to Python workers", metadata: ["model": "\(name)", "reason": "\(error)"])
            }
        } else if preference == .native {
            throw CairnError(
                .invalidParameterValue, "The model has no onnx flavor, so it cannot run natively; use --runtime python or auto.")
        }
        guard mlmodel.hasPythonFunction else {
            throw CairnError(
                .invalidParameterValue,
                "The model has neither an onnx nor a python_function flavor (flavors: \(mlmodel.flavors.sorted().joined(separator: ", ")))."
            )
        }
        logger.info("Serving with Python workers", metadata: ["model": "\(name)", "workers": "\(pythonWorkers)", "python": "\(python)"])
        let metrics = self.metrics
        return try await PythonRuntime(
            modelDirectory: directory, signature: mlmodel.signature, python: python, workers: pythonWorkers, logger: logger,
            onRestart: { metrics.workerRestarted(model: name) }, onWorkerCount: { metrics.setPythonWorkers(model: name, count: $0) }
        )
    }

    /// Scores the model's own serving example once before it takes traffic, so the first
    /// real request pays no lazy initialisation and a model that cannot score its own
    /// example never goes live.
    func warmUp(_ runtime: any ModelRuntime, directory: String, signature: ModelSignature?) async throws {
        let path = (directory as NSString).appendingPathComponent("serving_input_example.json")
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let request = try ScoringRequest.parseJSON(Array(data))
        // Conformed only: an example logged with a missing value still warms the model up.
        let frame = try signature?.conform(request.frame, positional: request.positional) ?? request.frame
        let results = await runtime.predict([.frame(frame)], params: request.params)
        if case .failure(let error)? = results.first {
            throw CairnError(.invalidParameterValue, "The model failed on its own serving example: \(error.message)")
        }
    }
}
