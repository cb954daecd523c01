import ArgumentParser
import CairnClient
import CairnCore
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

    @Option(help: "Output CSV ('-' for standard output).")
    var output: String

    @Option(help: "Tracking server that resolves models:/ and runs:/ URIs (default: $MLFLOW_TRACKING_URI).")
    var trackingUri: String?

    @Option(
        help:
            "Where downloaded models are cached (default: $CAIRN_CACHE_DIR/models, else $XDG_CACHE_HOME/cairn/models, else ~/.cache/cairn/models)."
    )
    var modelCacheDir: String?

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
        let uri = try ModelURI(loading: modelURI)
        let resolver = ModelResolver(
            tracking: try ClientConfiguration.fromEnvironment(trackingURI: trackingUri),
            cacheDirectory: modelCacheDir ?? ModelCache.defaultDirectory(), logger: logger
        )
        let model = try await resolver.fetch(uri)
        let mlmodel = try MLmodel(directory: model.directory)
        let loader = ModelLoader(
            preference: runtime, python: python, pythonWorkers: 1, metrics: ServingMetrics(registry: PrometheusCollectorRegistry()),
            logger: logger)
        let modelRuntime = try await loader.makeRuntime(mlmodel, directory: model.directory, name: uri.servedName)
        // The cache lease in `model` keeps the files from being pruned until scoring ends.
        defer { withExtendedLifetime(model) {} }
        do {
            let rows = try await BatchPredictor(runtime: modelRuntime, signature: mlmodel.signature, chunkRows: chunkRows)
                .predict(inputPath: input, outputPath: output)
            await modelRuntime.shutdown()
            // With the predictions on standard output, the summary goes to standard error.
            let summary =
                "Scored \(rows) rows with \(uri) (\(modelRuntime.kind)) into \(output == BatchPredictor.standardOutput ? "standard output" : output)\n"
            if output == BatchPredictor.standardOutput {
                FileHandle.standardError.write(Data(summary.utf8))
            } else {
                print(summary, terminator: "")
            }
        } catch {
            await modelRuntime.shutdown()
            if output == BatchPredictor.standardOutput { try exitQuietlyOnBrokenPipe(error) }
            throw error
        }
    }
}
