import CairnCore
import CairnTabular
import Synchronization

/// One loaded model version with its batcher: what a request is scored by.
///
/// Requests hold a lease while they use it, so a hot swap can wait for the old version's
/// in-flight requests before stopping it.
public final class ModelDeployment: Sendable {
    public let name: String
    public let versionLabel: String
    public let signature: ModelSignature?
    public let runtime: any ModelRuntime
    public let batcher: MicroBatcher
    public let metrics: ServingMetrics.Deployment
    private let leases = Atomic<Int>(0)
    /// Keeps the model's cached files while this version serves: a Python worker that
    /// restarts reads them again.
    let cacheLease: ModelCache.Lease?

    init(
        name: String, versionLabel: String, signature: ModelSignature?, runtime: any ModelRuntime, options: BatchingOptions,
        metrics: ServingMetrics.Deployment, cacheLease: ModelCache.Lease? = nil
    ) {
        self.name = name
        self.cacheLease = cacheLease
        self.versionLabel = versionLabel
        self.signature = signature
        self.runtime = runtime
        self.metrics = metrics
        self.batcher = MicroBatcher(runtime: runtime, options: options, observer: metrics.observer)
    }

    /// No rows is a client mistake, as `mlflow models serve` answers it (its model fails on an
    /// empty frame), not an empty success: both runtimes refuse it the same way.
    static func refuseEmpty(_ rows: Int) throws(CairnError) {
        guard rows > 0 else { throw CairnError(.badRequest, "The input has no rows; send at least one row to score.") }
    }

    /// Serves until `batcher.stop()` and the queue drains, keeping the runtime up meanwhile,
    /// then releases the runtime.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runtime.run() }
            await batcher.run()
            await runtime.shutdown()
        }
    }

    func acquire() { leases.wrappingAdd(1, ordering: .acquiring) }
    public func release() { leases.wrappingSubtract(1, ordering: .releasing) }
    var activeLeases: Int { leases.load(ordering: .acquiring) }

    /// Checks a parsed request against the signature and scores it through the batcher.
    public func score(_ request: ScoringRequest) async throws(CairnError) -> MicroBatcher.Answer {
        try Self.refuseEmpty(request.frame.rowCount)
        let frame = try runtime.prepare(request.frame, positional: request.positional, signature: signature)
        return try await submit(.frame(frame), params: request.params)
    }

    /// Scores rows already conformed to the signature (or tensors matching the graph's inputs).
    public func score(_ input: ModelInput, params: [String: JSONValue]) async throws(CairnError) -> MicroBatcher.Answer {
        try Self.refuseEmpty(input.rowCount)
        if case .frame(let frame) = input, !runtime.acceptsMissingValues { try frame.refuseMissingValues() }
        return try await submit(input, params: params)
    }

    /// Through the batcher, its queue time recorded.
    private func submit(_ input: ModelInput, params: [String: JSONValue]) async throws(CairnError) -> MicroBatcher.Answer {
        let answer = try await batcher.submit(input, params: params)
        metrics.recordQueueTime(answer.queueTime)
        return answer
    }
}
