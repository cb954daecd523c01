import AsyncHTTPClient
import CairnClient
import CairnCore
import CairnStatistics
import CairnStore
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// Runs monitors on their schedules, turns check verdicts into stored alerts, delivers those
/// alerts to webhooks from a persistent outbox, and shows alert states as Prometheus gauges.
///
/// Alerts are events: an alert opens when a check starts firing and resolves when it stops,
/// each transition queued once per webhook. Deliveries live in the store, so a receiver that
/// is down is retried with exponential backoff, across restarts, until `webhook_max_attempts`.
/// Hears each alert that opens, after it is stored (the pipelines trigger: a monitor can name
/// pipelines to run when a check fires).
public protocol MonitorAlertListener: Sendable {
    func alertOpened(_ alert: StoredAlert, monitorName: String, spec: MonitorSpec) async
}

public final class MonitorService: Service, Sendable {
    public struct Options: Sendable {
        /// How often due monitors and due deliveries are looked for.
        public var tick: Duration
        /// The first retry's delay; each further retry doubles it, up to `maxBackoff`.
        public var backoff: Duration
        public var maxBackoff: Duration
        public var webhookTimeout: Duration

        public init(
            tick: Duration = .seconds(1), backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(300),
            webhookTimeout: Duration = .seconds(10)
        ) {
            self.tick = tick
            self.backoff = backoff
            self.maxBackoff = maxBackoff
            self.webhookTimeout = webhookTimeout
        }
    }

    let store: any MonitorStore
    public let evaluator: MonitorEvaluator
    let registry: PrometheusCollectorRegistry
    let client: HTTPClient
    let options: Options
    let logger: Logger
    let now: WallClock
    let alertListener: (any MonitorAlertListener)?
    /// Schedules and deliveries run on the leader only (replicas on one database).
    let leadership: any Leadership
    /// Opened by `start()`: the store's tables exist only once migrations have run, which
    /// happens after services start.
    private let started: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) = AsyncStream.makeStream()
    /// The series each monitor has published, by monitor id, so that a deleted monitor, a
    /// renamed one or a removed check takes its series out of `/metrics` with it.
    private let published = Mutex<[String: Set<Series>]>([:])
    /// Monitors whose stored spec does not decode, by id, with the update time of the spec that
    /// failed: each such spec is logged once, not at every tick.
    private let unreadableSpecs = Mutex<[String: Int64]>([:])

    struct Series: Hashable {
        var name: String
        var labels: [String]

        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }

        var labelPairs: [(String, String)] {
            stride(from: 0, to: labels.count, by: 2).map { (labels[$0], labels[$0 + 1]) }
        }
    }

    public init(
        store: any MonitorStore, evaluator: MonitorEvaluator, registry: PrometheusCollectorRegistry, client: HTTPClient = .shared,
        options: Options = Options(), logger: Logger, now: @escaping WallClock, alertListener: (any MonitorAlertListener)? = nil,
        leadership: any Leadership = AlwaysLeader()
    ) {
        self.leadership = leadership
        self.alertListener = alertListener
        self.store = store
        self.evaluator = evaluator
        self.registry = registry
        self.client = client
        self.options = options
        self.logger = logger
        self.now = now
    }

    /// Lets `run()` begin its passes; call once the store is migrated.
    public func start() {
        started.continuation.yield()
        started.continuation.finish()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in self.started.stream { break }
            do {
                try await self.restoreGauges()
            } catch {
                self.logger.error("Could not restore the alert gauges", metadata: ["error": "\(error)"])
            }
            await self.leadership.whileLeading {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.loop { try await self.runDueMonitors() } }
                    group.addTask { try await self.loop { try await self.deliverDue() } }
                    try await group.waitForAll()
                }
            }
        }
    }

    private func loop(_ body: @Sendable () async throws -> Void) async throws {
        while !Task.isCancelled {
            do {
                try await body()
            } catch is CancellationError {
                return
            } catch {
                logger.error("Monitoring pass failed", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: options.tick)
        }
    }

    // MARK: - Evaluation

    func runDueMonitors() async throws {
        let time = now()
        for monitor in try await store.listMonitors() {
            let spec: MonitorSpec
            do {
                spec = try MonitorSpec.decode(Array(monitor.spec.utf8))
            } catch {
                reportUnreadableSpec(monitor, error)
                continue
            }
            // Each interval-long slot of the clock is one scheduled evaluation, keyed by the
            // slot's start, so the leader that replaces a dead one neither repeats a slot the
            // other recorded nor records one twice with it.
            let slot = Self.slot(containing: time, intervalSeconds: spec.intervalSeconds)
            if let last = monitor.lastRunTime, last >= slot { continue }
            do {
                _ = try await run(monitor, scheduledTime: slot)
            } catch let error as CairnError where error.code == .resourceAlreadyExists {
                logger.debug("Monitor slot already evaluated", metadata: ["monitor": "\(monitor.name)", "slot": "\(slot)"])
            } catch {
                logger.warning("Monitor evaluation failed", metadata: ["monitor": "\(monitor.name)", "error": "\(error)"])
            }
        }
    }

    /// A stored spec that no longer decodes (written by another version of Cairn, or edited in
    /// the database) keeps its monitor from running: said once per spec, with the monitor's
    /// id, rather than skipped in silence.
    private func reportUnreadableSpec(_ monitor: StoredMonitor, _ error: any Error) {
        let isNew = unreadableSpecs.withLock { $0.updateValue(monitor.lastUpdateTime, forKey: monitor.id) != monitor.lastUpdateTime }
        guard isNew else { return }
        logger.error(
            "Monitor spec cannot be read; the monitor does not run until it is updated",
            metadata: [
                "monitor_id": "\(monitor.id)", "monitor": "\(monitor.name)", "error": "\(error)",
            ])
    }

    /// The start of the interval-long slot (since the epoch) that `time` falls in.
    static func slot(containing time: Int64, intervalSeconds: Int) -> Int64 {
        let interval = max(Int64(intervalSeconds), 1) * 1000
        return (time >= 0 ? time / interval : (time - interval + 1) / interval) * interval
    }

    /// Evaluates the monitor now, records alert transitions and queues their webhooks. A
    /// scheduled evaluation names its slot; one whose slot is already recorded throws
    /// `resourceAlreadyExists` and changes nothing.
    public func run(_ monitor: StoredMonitor, scheduledTime: Int64? = nil) async throws -> (report: MonitorReport, changed: [StoredAlert]) {
        let spec = try MonitorSpec.decode(Array(monitor.spec.utf8))
        let report = try await evaluator.evaluate(monitor)
        let transitions = report.checks.map {
            AlertTransition(check: $0.check, firing: $0.firing, value: $0.value, threshold: $0.threshold, message: $0.message)
        }
        let name = monitor.name
        let changed = try await store.recordEvaluation(
            monitorID: monitor.id, modelName: spec.modelName, modelVersion: report.version, results: transitions,
            webhooks: spec.webhooks, maxAttempts: spec.webhookMaxAttempts,
            payload: { alert, event in Self.payload(alert, event: event, monitorName: name) }, scheduledTime: scheduledTime, at: now())
        updateGauges(monitorID: monitor.id, monitor: name, report: report)
        for alert in changed {
            logger.notice(
                "Alert \(alert.state.rawValue)", metadata: ["monitor": "\(name)", "check": "\(alert.check)", "message": "\(alert.message)"])
            if alert.state == .firing, let alertListener { await alertListener.alertOpened(alert, monitorName: name, spec: spec) }
        }
        return (report, changed)
    }

    static let help: [String: String] = [
        "cairn_monitor_alert_firing": "1 while the monitor's check fires, else 0.",
        "cairn_monitor_drifted_feature_share": "Share of features drifted in the last window.",
        "cairn_monitor_quality": "Live quality from feedback in the last window.",
        "cairn_monitor_last_evaluation_timestamp_seconds": "When the monitor last ran.",
    ]

    func updateGauges(monitorID: String, monitor: String, report: MonitorReport) {
        var values: [Series: Double] = [:]
        for check in report.checks {
            values[Series("cairn_monitor_alert_firing", [("monitor", monitor), ("check", check.check)])] = check.firing ? 1 : 0
        }
        if let drift = report.dataDrift {
            values[Series("cairn_monitor_drifted_feature_share", [("monitor", monitor)])] = drift.driftedShare
        }
        if let quality = report.quality {
            for metric in QualityMetrics.metricNames {
                guard let value = quality.value(of: metric) else { continue }
                values[Series("cairn_monitor_quality", [("monitor", monitor), ("metric", metric)])] = value
            }
        }
        values[Series("cairn_monitor_last_evaluation_timestamp_seconds", [("monitor", monitor)])] = Double(report.generatedAt) / 1000
        publish(values, for: monitorID, replacing: true)
    }

    /// Sets the series' values and, when `replacing`, removes the monitor's other series.
    private func publish(_ values: [Series: Double], for monitorID: String, replacing: Bool) {
        published.withLock { published in
            let previous = published[monitorID] ?? []
            for (series, value) in values {
                gauge(series).set(value)
            }
            if replacing {
                for stale in previous.subtracting(values.keys) { registry.unregisterGauge(gauge(stale)) }
                published[monitorID] = Set(values.keys)
            } else {
                published[monitorID] = previous.union(values.keys)
            }
        }
    }

    private func gauge(_ series: Series) -> Gauge {
        registry.makeGauge(name: series.name, labels: series.labelPairs, help: Self.help[series.name] ?? "")
    }

    /// Takes a deleted monitor's series out of `/metrics`.
    public func forget(monitorID: String) {
        unreadableSpecs.withLock { _ = $0.removeValue(forKey: monitorID) }
        published.withLock { published in
            for series in published.removeValue(forKey: monitorID) ?? [] { registry.unregisterGauge(gauge(series)) }
        }
    }

    /// After a restart the alerts still firing show again at once, not at their monitor's
    /// next run, which may be an hour away.
    func restoreGauges() async throws {
        let names = Dictionary(try await store.listMonitors().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        var firing: [String: [Series: Double]] = [:]
        for alert in try await store.listAlerts(monitorID: nil, state: .firing, limit: 1_000_000) {
            guard let name = names[alert.monitorID] else { continue }
            firing[alert.monitorID, default: [:]][Series("cairn_monitor_alert_firing", [("monitor", name), ("check", alert.check)])] = 1
        }
        for (monitorID, values) in firing { publish(values, for: monitorID, replacing: false) }
    }

    /// The webhook body: the event and the alert, with enough to act on it (a retraining
    /// pipeline keys on `model_name` and `check`).
    static func payload(_ alert: StoredAlert, event: String, monitorName: String) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("event")
        writer.string(event)
        writer.key("alert")
        writer.beginObject()
        writer.key("alert_id")
        writer.string(alert.id)
        writer.key("monitor_id")
        writer.string(alert.monitorID)
        writer.key("monitor_name")
        writer.string(monitorName)
        writer.key("check")
        writer.string(alert.check)
        writer.key("state")
        writer.string(alert.state.rawValue)
        writer.key("value")
        if let value = alert.value, value.isFinite { writer.double(value) } else { writer.null() }
        writer.key("threshold")
        writer.double(alert.threshold)
        writer.key("message")
        writer.string(alert.message)
        writer.key("model_name")
        writer.string(alert.modelName)
        writer.key("model_version")
        if let version = alert.modelVersion { writer.string(version) } else { writer.null() }
        writer.key("fired_at")
        writer.int(alert.firedAt)
        writer.key("resolved_at")
        if let resolved = alert.resolvedAt { writer.int(resolved) } else { writer.null() }
        writer.endObject()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    // MARK: - Webhook delivery

    func deliverDue() async throws {
        let due = try await store.dueDeliveries(at: now(), limit: 100)
        await withTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask {
                    // Claimed for one attempt's length and a margin: never posted twice at
                    // once, and due again if this process dies mid-post.
                    let until = self.now() + WebhookPost.milliseconds(self.options.webhookTimeout) + 5_000
                    do {
                        guard try await self.store.claimDelivery(delivery, until: until) else { return }
                    } catch {
                        self.logger.error("Could not claim a webhook delivery", metadata: ["url": "\(delivery.url)", "error": "\(error)"])
                        return
                    }
                    await self.attempt(delivery)
                }
            }
        }
    }

    func attempt(_ delivery: AlertDelivery) async {
        var delivery = delivery
        delivery.attempts += 1
        let outcome = await WebhookPost.send(
            client: client, url: delivery.url,
            headers: [("Content-Type", "application/json"), ("User-Agent", "cairn-monitor"), ("X-Cairn-Event", delivery.event)],
            body: Array(delivery.payload.utf8), timeout: options.webhookTimeout)
        if outcome.delivered {
            delivery.state = .delivered
            delivery.lastError = nil
        } else {
            fail(&delivery, outcome.failure)
        }
        do {
            try await store.updateDelivery(delivery)
        } catch {
            logger.error("Could not record a webhook delivery", metadata: ["url": "\(delivery.url)", "error": "\(error)"])
        }
        registry.makeCounter(
            name: "cairn_monitor_webhook_attempts_total", labels: [("result", delivery.state == .delivered ? "delivered" : "failed")],
            help: "Webhook calls by outcome."
        )
        .increment()
    }

    private func fail(_ delivery: inout AlertDelivery, _ error: String) {
        delivery.lastError = String(error.prefix(500))
        if delivery.attempts >= delivery.maxAttempts {
            delivery.state = .failed
            logger.warning(
                "Webhook delivery gave up", metadata: ["url": "\(delivery.url)", "attempts": "\(delivery.attempts)", "error": "\(error)"])
            return
        }
        delivery.nextAttemptTime =
            now() + WebhookPost.retryDelay(afterAttempts: delivery.attempts, backoff: options.backoff, maxBackoff: options.maxBackoff)
    }
}
