import CairnCore

/// When and how long `CairnClient` waits before asking again, with MLflow's defaults
/// (`MLFLOW_HTTP_REQUEST_MAX_RETRIES` 7, `_BACKOFF_FACTOR` 2, `_BACKOFF_JITTER` 1.0,
/// urllib3's 120 s cap, `Retry-After` honoured) and its backoff: none before the first retry,
/// then factor × 2^(n-1) seconds plus up to `jitter` seconds.
///
/// Unlike MLflow, which retries every method, only calls that are safe to repeat (reads) are
/// retried: when the server never answered (a connection that failed or closed, or no answer
/// in time) or answered one of MLflow's transient statuses (`_TRANSIENT_FAILURE_RESPONSE_CODES`
/// in `mlflow/utils/request_utils.py`). Writes are never retried: one that failed may have
/// been applied.
public struct RetryPolicy: Sendable, Equatable {
    public var maxRetries: Int
    public var backoffFactor: Double
    public var backoffJitter: Double
    public var maxBackoff: Duration
    public var respectRetryAfter: Bool

    public static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    public init(
        maxRetries: Int = 7, backoffFactor: Double = 2, backoffJitter: Double = 1, maxBackoff: Duration = .seconds(120),
        respectRetryAfter: Bool = true
    ) {
        self.maxRetries = max(0, maxRetries)
        self.backoffFactor = max(0, backoffFactor)
        self.backoffJitter = max(0, backoffJitter)
        self.maxBackoff = maxBackoff
        self.respectRetryAfter = respectRetryAfter
    }

    /// No retries: each call is tried once.
    public static let none = RetryPolicy(maxRetries: 0)

    /// MLflow's variables, with its limits (at most 10 retries, a factor of at most 120).
    public init(environment: [String: String]) throws(CairnError) {
        let jitter: Double
        if let text = environment["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] {
            guard let value = Double(text), value.isFinite, value >= 0 else {
                throw CairnError.invalidParameter("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER must be a number of seconds, not '\(text)'.")
            }
            jitter = value
        } else {
            jitter = 1
        }
        self.init(
            maxRetries: try ClientConfiguration.integer("MLFLOW_HTTP_REQUEST_MAX_RETRIES", environment, in: 0...10) ?? 7,
            backoffFactor: Double(try ClientConfiguration.integer("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", environment, in: 0...120) ?? 2),
            backoffJitter: jitter,
            respectRetryAfter: try ClientConfiguration.boolean("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", environment) ?? true
        )
    }

    /// The wait before retry number `retry` (1-based), given the answer's `Retry-After`
    /// (seconds) when it had one.
    public func delay(beforeRetry retry: Int, retryAfter: Int? = nil, random: Double = Double.random(in: 0..<1)) -> Duration {
        if respectRetryAfter, let retryAfter, retryAfter >= 0 {
            return min(.seconds(retryAfter), maxBackoff)
        }
        guard retry > 1 else { return .zero }
        let seconds = backoffFactor * Double(1 << min(retry - 1, 30)) + random * backoffJitter
        return min(.milliseconds(Int64(seconds * 1000)), maxBackoff)
    }
}
