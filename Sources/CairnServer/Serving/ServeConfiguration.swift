import CairnClient
import CairnCore
import CairnMonitor
import CairnServing
import Foundation

/// Everything `cairn serve` can be told on its command line.
public struct ServeConfiguration: Sendable {
    public var modelURI: ModelURI
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The tracking server that resolves `models:/` and `runs:/` URIs, and how to reach it.
    public var tracking = ClientConfiguration(trackingURI: nil)
    public var canaryURI: ModelURI?
    public var canaryPercent: Double = 0
    public var shadowURI: ModelURI?
    public var runtime: RuntimePreference = .auto
    public var python: String = "python3"
    public var pythonWorkers: Int = 2
    public var batching = BatchingOptions()
    /// How often an alias (or `latest`) is checked for a new version.
    public var pollInterval: Duration = .seconds(10)
    /// Where downloaded models are kept (see `ModelCache`).
    public var cacheDirectory: String = ModelCache.defaultDirectory()
    /// Where and how scored requests are logged; nil turns the inference log off.
    public var inferenceLog: InferenceLogWriter.Options?
    /// Largest request body accepted (`--max-request-bytes`).
    public var maxBodyBytes: Int = 64 << 20

    /// The body limit as `cairn serve` enforces and names it.
    public var bodyLimit: RequestBodyLimit { RequestBodyLimit(bytes: maxBodyBytes, flag: "--max-request-bytes") }

    public init(modelURI: ModelURI) {
        self.modelURI = modelURI
    }
}
