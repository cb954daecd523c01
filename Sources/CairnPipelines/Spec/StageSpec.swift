/// One resolved stage. Paths are as written (relative to `workingDirectory`), normalised
/// (no `./`, no trailing `/`).
public struct StageSpec: Sendable, Equatable {
    /// `train`, or `build@uk` for a `foreach` item, `fit@lr-0.1` for a `matrix` item.
    public var name: String
    public var kind: Kind
    /// `wdir`, relative to the project directory ("" when absent).
    public var workingDirectory: String
    public var deps: [String]
    public var outs: [Output]
    public var metrics: [Output]
    public var plots: [Output]
    /// Params the stage reads, as file → keys (dotted); `params.yaml` when the entry names no file.
    /// An empty key list means every key of that file (DVC's `- file.yaml:` form).
    public var params: [ParamsReference]
    public var frozen: Bool
    public var alwaysChanged: Bool
    // Cairn's own keys.
    public var retries: Int
    public var backoff: Backoff
    /// Seconds; nil means no limit.
    public var timeout: Double?
    public var resources: Resources
    /// `local` (default) or `ray`.
    public var executor: String
    /// Where the stage's keys are in the file, for errors found after loading.
    public var location: SourceLocation

    public enum Kind: Sendable, Equatable {
        /// `cmd:` — one shell command, or several run in order with `&&` semantics.
        case command([String])
        /// `gate:` — the built-in evaluation gate.
        case gate(GateSpec)
    }

    public struct Output: Sendable, Equatable {
        public var path: String
        /// `cache: false`: not stored in the content-addressed cache, and so never restored.
        public var cache: Bool
        /// `persist: true`: not deleted before the command runs.
        public var persist: Bool
        public init(path: String, cache: Bool = true, persist: Bool = false) {
            self.path = path
            self.cache = cache
            self.persist = persist
        }
    }

    public struct ParamsReference: Sendable, Equatable {
        public var file: String
        public var keys: [String]
        public init(file: String, keys: [String]) {
            self.file = file
            self.keys = keys
        }
    }

    /// Delay before retry n (1-based): `min(initial * factor^(n-1), max)` seconds.
    /// Defaults are KFP's: 0 s, ×2, capped at 3600 s.
    public struct Backoff: Sendable, Equatable {
        public var initial: Double
        public var factor: Double
        public var maximum: Double
        public init(initial: Double = 0, factor: Double = 2, maximum: Double = 3600) {
            self.initial = initial
            self.factor = factor
            self.maximum = maximum
        }
        public func delay(beforeRetry attempt: Int) -> Double {
            guard attempt > 0 else { return 0 }
            var seconds = initial
            for _ in 1..<attempt { seconds *= factor }
            return min(seconds, maximum)
        }
    }

    public struct Resources: Sendable, Equatable {
        public var cpus: Double
        public var gpus: Double
        /// Bytes.
        public var memory: Int64?
        public init(cpus: Double = 1, gpus: Double = 0, memory: Int64? = nil) {
            self.cpus = cpus
            self.gpus = gpus
            self.memory = memory
        }
    }

    public init(
        name: String, kind: Kind, workingDirectory: String = "", deps: [String] = [], outs: [Output] = [],
        metrics: [Output] = [], plots: [Output] = [], params: [ParamsReference] = [], frozen: Bool = false,
        alwaysChanged: Bool = false, retries: Int = 0, backoff: Backoff = Backoff(), timeout: Double? = nil,
        resources: Resources = Resources(), executor: String = "local", location: SourceLocation
    ) {
        self.name = name
        self.kind = kind
        self.workingDirectory = workingDirectory
        self.deps = deps
        self.outs = outs
        self.metrics = metrics
        self.plots = plots
        self.params = params
        self.frozen = frozen
        self.alwaysChanged = alwaysChanged
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.resources = resources
        self.executor = executor
        self.location = location
    }

    /// Every path the stage writes (outs, metrics and plots), which no other stage may write.
    public var writtenPaths: [String] { (outs + metrics + plots).map(\.path) }
}
