import CairnCore
import CairnStore
import Logging

/// Starts the pipelines whose spec says `triggers: [{model: NAME}]` when a version of NAME is
/// registered, and those with `{model: NAME, alias: A}` when A is set (moved) on NAME. The
/// dedupe key is model/version/alias, so a replayed registry event starts nothing twice.
public struct RegistryTriggerSource: RegistryEventListener {
    let recorder: TriggerRecorder
    let registry: any PipelineTriggerRegistry
    let logger: Logger

    public init(recorder: TriggerRecorder, registry: any PipelineTriggerRegistry, logger: Logger) {
        self.recorder = recorder
        self.registry = registry
        self.logger = logger
    }

    public func registryEvent(_ event: RegistryEvent) async {
        let target: (model: String, version: String, alias: String?)
        switch event {
        case .modelVersionCreated(let name, let created, _, _, _, _): target = (name, created, nil)
        case .modelVersionAliasCreated(let name, let moved, let version): target = (name, version, moved)
        default: return
        }
        let (model, version, alias) = target
        let pipelines: [PipelineTriggers]
        do {
            pipelines = try await registry.pipelineTriggers()
        } catch {
            logger.error("Could not list pipelines' triggers for a registry event", metadata: ["error": "\(error)"])
            return
        }
        for pipeline in pipelines {
            let wanted = pipeline.triggers.contains { trigger in
                guard case .modelVersion(let name, let wantedAlias) = trigger, name == model else { return false }
                return wantedAlias == alias
            }
            guard wanted else { continue }
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("model_name")
            writer.string(model)
            writer.key("version")
            writer.string(version)
            writer.key("alias")
            if let alias { writer.string(alias) } else { writer.null() }
            writer.endObject()
            do {
                try await recorder.fire(
                    pipeline: pipeline.pipeline, kind: .modelVersion, dedupeKey: "model:\(model)/\(version)/\(alias ?? "")",
                    payload: String(decoding: writer.bytes, as: UTF8.self))
            } catch {
                logger.error("Could not store a model trigger event", metadata: ["pipeline": "\(pipeline.pipeline)", "error": "\(error)"])
            }
        }
    }
}

/// Starts pipelines when a monitor's alert opens: those the monitor names (`pipelines:` in its
/// spec) and those whose spec says `triggers: [{monitor: NAME}]`. The dedupe key is the alert
/// id: one alert starts each pipeline once.
public struct AlertTriggerSource: Sendable {
    let recorder: TriggerRecorder
    let registry: any PipelineTriggerRegistry
    let logger: Logger

    public init(recorder: TriggerRecorder, registry: any PipelineTriggerRegistry, logger: Logger) {
        self.recorder = recorder
        self.registry = registry
        self.logger = logger
    }

    public struct Alert: Sendable, Equatable {
        public var id: String
        public var monitor: String
        public var check: String
        public var modelName: String
        public var modelVersion: String?
        public var message: String

        public init(id: String, monitor: String, check: String, modelName: String, modelVersion: String?, message: String) {
            self.id = id
            self.monitor = monitor
            self.check = check
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.message = message
        }
    }

    /// Returns the events stored (or found, for a repeated alert id).
    @discardableResult
    public func alertOpened(_ alert: Alert, pipelines named: [String]) async -> [TriggerEvent] {
        let known: [PipelineTriggers]
        do {
            known = try await registry.pipelineTriggers()
        } catch {
            logger.error("Could not list pipelines for an alert", metadata: ["alert_id": "\(alert.id)", "error": "\(error)"])
            return []
        }
        let knownNames = Set(known.map(\.pipeline))
        var targets: [String] = []
        for name in named where !targets.contains(name) {
            if knownNames.contains(name) {
                targets.append(name)
            } else {
                logger.warning(
                    "A monitor names a pipeline that is not registered", metadata: ["monitor": "\(alert.monitor)", "pipeline": "\(name)"])
            }
        }
        for pipeline in known where !targets.contains(pipeline.pipeline) {
            if pipeline.triggers.contains(.monitorAlert(monitor: alert.monitor)) { targets.append(pipeline.pipeline) }
        }
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in [
            ("alert_id", alert.id), ("monitor", alert.monitor), ("check", alert.check), ("model_name", alert.modelName),
            ("message", alert.message),
        ] {
            writer.key(key)
            writer.string(value)
        }
        writer.key("model_version")
        if let version = alert.modelVersion { writer.string(version) } else { writer.null() }
        writer.endObject()
        let payload = String(decoding: writer.bytes, as: UTF8.self)
        var events: [TriggerEvent] = []
        for pipeline in targets {
            do {
                events.append(
                    try await recorder.fire(pipeline: pipeline, kind: .monitorAlert, dedupeKey: "alert:\(alert.id)", payload: payload))
            } catch {
                logger.error("Could not store an alert trigger event", metadata: ["pipeline": "\(pipeline)", "error": "\(error)"])
            }
        }
        return events
    }
}
