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
            await fire(pipeline.pipeline, model: model, version: version, alias: alias)
        }
    }

    private func fire(_ pipeline: String, model: String, version: String, alias: String?) async {
        do {
            try await recorder.fire(
                pipeline: pipeline, kind: .modelVersion, dedupeKey: Self.dedupeKey(model: model, version: version, alias: alias),
                payload: Self.payload(model: model, version: version, alias: alias))
        } catch {
            logger.error("Could not store a model trigger event", metadata: ["pipeline": "\(pipeline)", "error": "\(error)"])
        }
    }

    static func dedupeKey(model: String, version: String, alias: String?) -> String { "model:\(model)/\(version)/\(alias ?? "")" }

    static func payload(model: String, version: String, alias: String?) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("model_name")
        writer.string(model)
        writer.key("version")
        writer.string(version)
        writer.key("alias")
        if let alias { writer.string(alias) } else { writer.null() }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Catches up with the registry at start-up: registry events reach this source after their
    /// write committed, so a version registered (or an alias moved) just before a crash may
    /// have no trigger event yet. For each model trigger, the newest version (or the alias's
    /// version) gets its event now, de-duplicated against the one it may already have. A
    /// pipeline that has never had an event for the model takes what it finds as its baseline
    /// instead of starting a run for a version that predates it.
    public func reconcile(with store: any RegistryStore) async {
        let pipelines: [PipelineTriggers]
        do {
            pipelines = try await registry.pipelineTriggers()
        } catch {
            logger.error("Could not list pipelines' triggers to reconcile", metadata: ["error": "\(error)"])
            return
        }
        for pipeline in pipelines {
            for case .modelVersion(let model, let alias) in pipeline.triggers {
                do {
                    let version: String
                    if let alias {
                        guard let found = try? await store.getModelVersion(name: model, alias: alias) else { continue }
                        version = found.version
                    } else {
                        let latest = (try? await store.getLatestVersions(name: model, stages: [])) ?? []
                        guard let newest = latest.max(by: { (Int($0.version) ?? 0) < (Int($1.version) ?? 0) }) else { continue }
                        version = newest.version
                    }
                    if try await recorder.hasEvents(pipeline: pipeline.pipeline, dedupePrefix: "model:\(model)/", kind: .modelVersion) {
                        await fire(pipeline.pipeline, model: model, version: version, alias: alias)
                    } else {
                        try await recorder.recordBaseline(
                            pipeline: pipeline.pipeline, kind: .modelVersion,
                            dedupeKey: Self.dedupeKey(model: model, version: version, alias: alias),
                            payload: Self.payload(model: model, version: version, alias: alias),
                            reason: "the registry's state when the trigger was first seen; later versions trigger runs")
                    }
                } catch {
                    logger.warning(
                        "Could not reconcile a model trigger",
                        metadata: ["pipeline": "\(pipeline.pipeline)", "model": "\(model)", "error": "\(error)"])
                }
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
