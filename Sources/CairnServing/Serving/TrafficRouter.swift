import CairnCore
import CairnTabular
import Logging
import ServiceLifecycle

/// Splits traffic between the primary model and an optional canary, and mirrors it to an
/// optional shadow whose answers are scored and logged but never returned.
public struct TrafficRouter: Sendable {
    public let primary: ModelHost
    public let canary: ModelHost?
    /// Share of requests the canary answers, 0–100.
    public let canaryPercent: Double
    public let shadow: ShadowScorer?

    public init(primary: ModelHost, canary: ModelHost? = nil, canaryPercent: Double = 0, shadow: ShadowScorer? = nil) {
        self.primary = primary
        self.canary = canary
        self.canaryPercent = min(100, max(0, canaryPercent))
        self.shadow = shadow
    }

    /// The host for one request.
    public func pick() -> ModelHost {
        if let canary, canaryPercent > 0, Double.random(in: 0..<100) < canaryPercent { return canary }
        return primary
    }

    public var hosts: [ModelHost] { [primary] + (canary.map { [$0] } ?? []) + (shadow.map { [$0.host] } ?? []) }
}

/// Scores copies of live requests on the shadow model, off the request path. The queue is
/// bounded: when the shadow falls behind, copies are dropped (and counted) rather than
/// slowing or growing the primary path.
public final class ShadowScorer: Service, Sendable {
    public let host: ModelHost
    private let logger: Logger
    private let onDrop: @Sendable () -> Void
    private let (queue, queueContinuation): (AsyncStream<ScoringRequest>, AsyncStream<ScoringRequest>.Continuation)

    public init(host: ModelHost, capacity: Int = 1024, logger: Logger, onDrop: @escaping @Sendable () -> Void = {}) {
        self.host = host
        self.logger = logger
        self.onDrop = onDrop
        (queue, queueContinuation) = AsyncStream.makeStream(of: ScoringRequest.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Hands a copy of a request to the shadow; never waits. The shadow checks it against
    /// its own signature, which may differ from the primary's.
    public func offer(_ request: ScoringRequest) {
        if case .dropped = queueContinuation.yield(request) { onDrop() }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                try? await gracefulShutdown()
                queueContinuation.finish()
            }
            for await request in queue {
                group.addTask { [self] in
                    guard let deployment = host.lease() else { return }
                    defer { deployment.release() }
                    let start = ContinuousClock.now
                    let status: Int
                    do throws(CairnError) {
                        let answer = try await deployment.score(request)
                        switch answer.result {
                        case .success: status = 200
                        case .failure(let error): status = error.code.httpStatus
                        }
                    } catch {
                        status = error.code.httpStatus
                    }
                    deployment.metrics.recordRequest(
                        status: status, duration: ContinuousClock.now - start, requestBytes: 0, responseBytes: 0,
                        rows: request.frame.rowCount)
                    logger.debug(
                        "Shadow scored", metadata: ["model": "\(host.uri)", "version": "\(deployment.versionLabel)", "status": "\(status)"])
                }
            }
        }
    }
}
