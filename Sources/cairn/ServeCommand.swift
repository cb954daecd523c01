import ArgumentParser
import CairnClient
import CairnCore
import CairnMonitor
import CairnServer
import CairnServing
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over MLflow's scoring protocol and the Open Inference Protocol."
    )

    @Argument(help: "models:/name@alias, models:/name/version, models:/m-id, runs:/id/path, or a local model directory.")
    var modelURI: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Tracking server that resolves models:/ and runs:/ URIs (default: $MLFLOW_TRACKING_URI).")
    var trackingUri: String?

    @Option(
        help:
            "Where downloaded models are cached (default: $CAIRN_CACHE_DIR/models, else $XDG_CACHE_HOME/cairn/models, else ~/.cache/cairn/models)."
    )
    var modelCacheDir: String?

    @Option(help: "Runtime: auto (native ONNX when possible, else Python), native or python.")
    var runtime: RuntimePreference = .auto

    @Option(help: "Python interpreter for models that need Python.")
    var python = "python3"

    @Option(help: "Python worker processes.")
    var workers = 2

    @Option(help: "Most rows in one batch.")
    var maxBatchRows = 64

    @Option(help: "Longest a request may wait for a batch to fill, in milliseconds.")
    var maxLatencyMs = 2.0

    @Option(
        help:
            "Longest expected wait in the queue, in milliseconds, estimated from measured throughput; a request that would wait longer gets 503 with Retry-After."
    )
    var maxQueueWaitMs = BatchingOptions.defaultMaxQueueWaitMilliseconds

    @Option(help: "Most rows waiting, a memory bound; beyond it requests get 503 with Retry-After.")
    var maxQueueRows = BatchingOptions.defaultMaxQueueRows

    @Option(help: "Largest request body in bytes (default 64 MiB); a larger one gets 413.")
    var maxRequestBytes = 64 << 20

    @Option(help: "A second model that answers --canary-percent of requests.")
    var canary: String?

    @Option(help: "Share of requests the canary answers (0-100).")
    var canaryPercent = 0.0

    @Option(help: "A model that scores a copy of every request; its answers go to the server log at debug level, never to the client.")
    var shadow: String?

    @Option(help: "Seconds between checks for a moved alias.")
    var pollInterval = 10.0

    @Option(help: "Directory for the inference log (JSON Lines segments); off when not given.")
    var inferenceLog: String?

    @Option(help: "Share of requests the inference log records (0-1).")
    var inferenceLogSampleRate = 1.0

    @Option(help: "Days an inference log segment is kept after its last write (at least an hour, 0.0417).")
    var inferenceLogRetentionDays = 7.0

    @Option(help: "Records the inference log buffers in memory; beyond it records are dropped and counted.")
    var inferenceLogCapacity = 65_536

    @Option(
        help:
            "Most payload bytes one inference log record keeps; a larger request is logged with a uniform sample of its rows (at least 1024)."
    )
    var inferenceLogMaxRecordBytes = InferenceLogWriter.Options.defaultMaxRecordBytes

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    func validate() throws {
        try validateListenAddress(host: host, port: port)
        guard canaryPercent.isFinite, (0...100).contains(canaryPercent) else {
            throw ValidationError("--canary-percent must be between 0 and 100.")
        }
        guard canaryPercent == 0 || canary != nil else {
            throw ValidationError("--canary-percent needs --canary, the model that answers that share.")
        }
        guard maxBatchRows >= 1 else { throw ValidationError("--max-batch-rows must be at least 1.") }
        guard maxLatencyMs.isFinite, maxLatencyMs >= 0 else { throw ValidationError("--max-latency-ms must be 0 or more.") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1.") }
    }

    func run() async throws {
        AllocatorPolicy.apply()
        bootstrapLogging(logLevel)
        guard (0...1).contains(inferenceLogSampleRate) else {
            throw ValidationError("--inference-log-sample-rate must be between 0 and 1.")
        }
        guard maxRequestBytes >= 1, maxQueueRows >= 1, maxQueueWaitMs.isFinite, maxQueueWaitMs > 0 else {
            throw ValidationError("--max-request-bytes, --max-queue-rows and --max-queue-wait-ms must be positive.")
        }
        guard inferenceLogCapacity >= 1 else {
            throw ValidationError("--inference-log-capacity must be at least 1.")
        }
        guard inferenceLogMaxRecordBytes >= 1024 else {
            throw ValidationError("--inference-log-max-record-bytes must be at least 1024.")
        }
        // Under an hour a segment could be deleted while still being written.
        guard inferenceLogRetentionDays.isFinite, inferenceLogRetentionDays >= 1.0 / 24, inferenceLogRetentionDays <= 36_500 else {
            throw ValidationError("--inference-log-retention-days must be between 0.0417 (an hour) and 36500.")
        }
        var configuration = ServeConfiguration(modelURI: try ModelURI(loading: modelURI))
        configuration.host = host
        configuration.port = port
        configuration.tracking = try ClientConfiguration.fromEnvironment(trackingURI: trackingUri)
        configuration.runtime = runtime
        if let modelCacheDir { configuration.cacheDirectory = modelCacheDir }
        configuration.python = python
        configuration.pythonWorkers = workers
        configuration.batching = BatchingOptions(
            maxBatchRows: maxBatchRows, maxLatency: .microseconds(Int64(maxLatencyMs * 1000)), maxQueueRows: maxQueueRows,
            maxQueueWait: .microseconds(Int64(min(maxQueueWaitMs, 86_400_000) * 1000))
        )
        configuration.maxBodyBytes = maxRequestBytes
        configuration.canaryURI = try canary.map { try ModelURI(loading: $0) }
        configuration.canaryPercent = canaryPercent
        configuration.shadowURI = try shadow.map { try ModelURI(loading: $0) }
        configuration.pollInterval = .milliseconds(Int64(max(0.05, pollInterval) * 1000))
        configuration.inferenceLog = inferenceLog.map {
            InferenceLogWriter.Options(
                directory: $0, capacity: inferenceLogCapacity, sampleRate: inferenceLogSampleRate,
                retention: .seconds(Int64(inferenceLogRetentionDays * 86_400)), maxRecordBytes: inferenceLogMaxRecordBytes
            )
        }
        guard configuration.canaryURI == nil || (0...100).contains(canaryPercent) else {
            throw ValidationError("--canary-percent must be between 0 and 100.")
        }
        let app = try await buildServingApplication(configuration, logger: Logger(label: "cairn"))
        try await app.runService()
    }
}

extension RuntimePreference: ExpressibleByArgument {}
