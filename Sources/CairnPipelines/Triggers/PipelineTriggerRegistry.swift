/// What a registered pipeline asks to be started by, besides a person.
public struct PipelineTriggers: Sendable, Equatable {
    public var pipeline: String
    /// Absolute; `data:` paths are relative to it.
    public var projectDirectory: String
    /// Cron expression (five fields, UTC).
    public var schedule: String?
    public var triggers: [TriggerSpec]

    public init(pipeline: String, projectDirectory: String, schedule: String?, triggers: [TriggerSpec]) {
        self.pipeline = pipeline
        self.projectDirectory = projectDirectory
        self.schedule = schedule
        self.triggers = triggers
    }

    public init(_ spec: PipelineSpec) {
        self.init(pipeline: spec.name, projectDirectory: spec.projectDirectory, schedule: spec.schedule, triggers: spec.triggers)
    }
}

/// Which pipelines want which triggers: implemented by the engine's pipeline registry (the
/// pipelines table and each pipeline's loaded spec), read by the trigger sources each pass so
/// a pipeline registered or edited meanwhile is picked up.
public protocol PipelineTriggerRegistry: Sendable {
    func pipelineTriggers() async throws -> [PipelineTriggers]
}
