import ArgumentParser
import CairnServing
import Foundation
import Logging
import Prometheus

struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score a CSV file with a model, streaming, into a CSV of predictions."
    )

    @Argument(help: "models:/name@alias, models:/name/version, models:/m-id, runs:/id/path, or a local model directory.")
    var modelURI: String

    @Option(help: "Input CSV with a header row.")
    var input: String

    @Option(help: "Output CSV.")
    var output: String

    @Option(help: "Tracking server that resolves models:/ and runs:/ URIs (default: $MLFLOW_TRACKING_URI).")
    var trackingUri: String?

    @Option(help: "Runtime: auto, native or python.")
    var runtime: RuntimePreference = .auto

    @Option(help: "Python interpreter for models that need Python.")
    var python = "python3"

    @Option(help: "Rows scored per chunk.")
    var chunkRows = 8192

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "cairn")
        let uri = try ModelURI(parsing: modelURI)
        let resolver = ModelResolver(
            trackingURI: trackingUri ?? ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"],
            cacheDirectory: NSTemporaryDirectory() + "cairn-models"
        )
        let model = try await resolver.fetch(uri)
        let mlmodel = try MLmodel(directory: model.directory)
        let loader = ModelLoader(preference: runtime, python: python, pythonWorkers: 1, metrics: ServingMetrics(registry: PrometheusCollectorRegistry()), logger: logger)
        let modelRuntime = try await loader.makeRuntime(mlmodel, directory: model.directory, name: uri.servedName)
        do {
            let rows = try await BatchPredictor(runtime: modelRuntime, signature: mlmodel.signature, chunkRows: chunkRows)
                .predict(inputPath: input, outputPath: output)
            await modelRuntime.shutdown()
            print("Scored \(rows) rows with \(uri) (\(modelRuntime.kind)) into \(output)")
        } catch {
            await modelRuntime.shutdown()
            throw error
        }
    }
}
