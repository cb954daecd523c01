import Prometheus

/// The serving metrics, in the application's own Prometheus registry. Everything is counted
/// in rows as well as requests, and queue time is its own histogram, because those are what
/// tell whether batching helps (the observability BentoML's users ask for).
public struct ServingMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    static let latencyBuckets: [Duration] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ].map { .microseconds(Int64($0 * 1_000_000)) }
    static let rowBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
    static let byteBuckets: [Double] = [128, 512, 2048, 8192, 32768, 131_072, 524_288, 2_097_152, 8_388_608]

    /// The handles for one served model version, made once so the request path does no
    /// registry lookups for them.
    public struct Deployment: Sendable {
        let requestDuration: DurationHistogram
        let queueTime: DurationHistogram
        let batchRows: ValueHistogram
        let batchRequests: ValueHistogram
        let batchDuration: DurationHistogram
        let requestBytes: ValueHistogram
        let responseBytes: ValueHistogram
        let inFlight: Gauge
        let queueRows: Gauge
        let rows: Counter
        let dispatch: [BatchObserver.DispatchReason: Counter]
        let registry: PrometheusCollectorRegistry
        let labels: [(String, String)]

        public func recordRequest(status: Int, duration: Duration, requestBytes: Int, responseBytes: Int, rows: Int) {
            registry.makeCounter(
                name: "cairn_serving_requests_total", labels: labels + [("status", String(status))],
                help: "Scoring requests by model, version and HTTP status."
            ).increment()
            requestDuration.record(duration)
            self.requestBytes.record(Double(requestBytes))
            self.responseBytes.record(Double(responseBytes))
            if status < 300 { self.rows.increment(by: Int64(rows)) }
        }

        public func recordQueueTime(_ duration: Duration) { queueTime.record(duration) }
        public func enter() { inFlight.increment() }
        public func leave() { inFlight.decrement() }

        public var observer: BatchObserver {
            BatchObserver(
                batch: { rows, requests, duration, reason in
                    batchRows.record(Double(rows))
                    batchRequests.record(Double(requests))
                    batchDuration.record(duration)
                    dispatch[reason]?.increment()
                },
                queueDepth: { queueRows.set(Double($0)) }
            )
        }
    }

    public func deployment(model: String, version: String) -> Deployment {
        let labels = [("model", model), ("version", version)]
        return Deployment(
            requestDuration: registry.makeDurationHistogram(
                name: "cairn_serving_request_duration_seconds", labels: labels, buckets: Self.latencyBuckets,
                help: "Scoring latency, from request to response."),
            queueTime: registry.makeDurationHistogram(
                name: "cairn_serving_queue_seconds", labels: labels, buckets: Self.latencyBuckets,
                help: "Time a request waited in the batch queue."),
            batchRows: registry.makeValueHistogram(
                name: "cairn_serving_batch_rows", labels: labels, buckets: Self.rowBuckets, help: "Rows per executed batch."),
            batchRequests: registry.makeValueHistogram(
                name: "cairn_serving_batch_requests", labels: labels, buckets: Self.rowBuckets, help: "Requests per executed batch."),
            batchDuration: registry.makeDurationHistogram(
                name: "cairn_serving_batch_duration_seconds", labels: labels, buckets: Self.latencyBuckets,
                help: "Model execution time per batch."),
            requestBytes: registry.makeValueHistogram(
                name: "cairn_serving_request_bytes", labels: labels, buckets: Self.byteBuckets, help: "Request body sizes."),
            responseBytes: registry.makeValueHistogram(
                name: "cairn_serving_response_bytes", labels: labels, buckets: Self.byteBuckets, help: "Response body sizes."),
            inFlight: registry.makeGauge(name: "cairn_serving_in_flight_requests", labels: labels, help: "Requests being scored now."),
            queueRows: registry.makeGauge(name: "cairn_serving_queue_rows", labels: labels, help: "Rows waiting in the batch queue."),
            rows: registry.makeCounter(name: "cairn_serving_rows_total", labels: labels, help: "Rows scored."),
            dispatch: Dictionary(
                uniqueKeysWithValues: BatchObserver.DispatchReason.allCases.map {
                    (
                        $0,
                        registry.makeCounter(
                            name: "cairn_serving_batch_dispatch_total", labels: labels + [("reason", $0.rawValue)],
                            help: "Batches by why they were sent.")
                    )
                }),
            registry: registry,
            labels: labels
        )
    }

    public func workerRestarted(model: String) {
        registry.makeCounter(
            name: "cairn_serving_worker_restarts_total", labels: [("model", model)], help: "Python workers started again after a crash."
        ).increment()
    }

    public func setPythonWorkers(model: String, count: Int) {
        registry.makeGauge(
            name: "cairn_serving_python_workers", labels: [("model", model)], help: "Python worker processes alive and serving."
        ).set(Double(count))
    }

    public func modelLoad(model: String, result: String) {
        registry.makeCounter(
            name: "cairn_serving_model_loads_total", labels: [("model", model), ("result", result)],
            help: "Model loads by outcome (ok, failed)."
        ).increment()
    }

    public func setServedVersion(model: String, role: String, version: String) {
        registry.makeGauge(
            name: "cairn_serving_model_info", labels: [("model", model), ("role", role), ("version", version)],
            help: "1 for the version serving each role."
        ).set(Double(1))
    }

    public func clearServedVersion(model: String, role: String, version: String) {
        registry.makeGauge(
            name: "cairn_serving_model_info", labels: [("model", model), ("role", role), ("version", version)],
            help: "1 for the version serving each role."
        ).set(Double(0))
    }
}
