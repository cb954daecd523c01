import CairnCore
import CairnMonitor
import CairnPipelines
import CairnStore
import Logging

/// The trigger side of pipelines, wired: the recorder every source stores events through, the
/// scheduler Service (start-up replay, cron schedules, data paths), the registry listener
/// (model versions and alias moves) and the monitor-alert listener. The dispatcher and the
/// registry of pipelines' triggers are the engine's `PipelineService`.
public struct PipelineTriggering: Sendable {
    public let store: any TriggerEventStore
    public let recorder: TriggerRecorder
    public let scheduler: PipelineScheduler
    public let registrySource: RegistryTriggerSource
    public let alertSource: AlertTriggerSource

    public init(
        store: any TriggerEventStore, dispatcher: any PipelineDispatching, registry: any PipelineTriggerRegistry,
        options: PipelineScheduler.Options = PipelineScheduler.Options(), logger: Logger, now: @escaping WallClock = SystemClock.now,
        leadership: any Leadership = AlwaysLeader()
    ) {
        self.store = store
        recorder = TriggerRecorder(store: store, dispatcher: dispatcher, logger: logger, now: now)
        scheduler = PipelineScheduler(
            recorder: recorder, registry: registry, options: options, logger: logger, now: now, leadership: leadership)
        registrySource = RegistryTriggerSource(recorder: recorder, registry: registry, logger: logger)
        alertSource = AlertTriggerSource(recorder: recorder, registry: registry, logger: logger)
    }

    public var alertListener: PipelineAlertListener { PipelineAlertListener(source: alertSource) }
}

/// Turns an opened monitor alert into `monitor_alert` trigger events.
public struct PipelineAlertListener: MonitorAlertListener {
    let source: AlertTriggerSource

    public func alertOpened(_ alert: StoredAlert, monitorName: String, spec: MonitorSpec) async {
        await source.alertOpened(
            AlertTriggerSource.Alert(
                id: alert.id, monitor: monitorName, check: alert.check, modelName: alert.modelName, modelVersion: alert.modelVersion,
                message: alert.message),
            pipelines: spec.pipelines)
    }

    /// Offers every alert still firing again: the alert is stored before its trigger events, so
    /// one opened just before a crash gets its events now (the alert id de-duplicates the rest).
    public func replayFiringAlerts(store: any MonitorStore, logger: Logger) async {
        do {
            let monitors = Dictionary(try await store.listMonitors().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for alert in try await store.listAlerts(monitorID: nil, state: .firing, limit: 100_000) {
                guard let monitor = monitors[alert.monitorID], let spec = try? MonitorSpec.decode(Array(monitor.spec.utf8)) else {
                    continue
                }
                await alertOpened(alert, monitorName: monitor.name, spec: spec)
            }
        } catch {
            logger.error("Could not replay firing alerts to pipelines", metadata: ["error": "\(error)"])
        }
    }
}
