import Hummingbird
import Prometheus

/// Counts requests by route, method and status and records their latency, into the
/// application's own registry (no process-global metrics system, so several applications
/// can live in one test process).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    static var buckets: [Duration] {
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { .milliseconds(Int64($0 * 1000)) }
    }

    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cairn", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route, method and status."
        )
    }
    private static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cairn", metricName: "http_request_duration", unitName: "seconds",
            helpText: "HTTP request latency by route and method."
        )
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            record(request: request, context: context, status: status, start: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request: request, context: context, status: error.status.code, start: start)
            throw error
        } catch {
            record(request: request, context: context, status: 500, start: start)
            throw error
        }
    }

    private func record(request: Request, context: Context, status: Int, start: ContinuousClock.Instant) {
        // The matched route pattern, never the raw path: raw paths would give every
        // artifact or unknown URL its own time series.
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))])
            .increment()
        registry.makeDurationHistogram(descriptor: Self.latency, labels: [("route", route), ("method", method)], buckets: Self.buckets)
            .record(ContinuousClock.now - start)
    }
}
