/// A pipeline after loading: `dvc.yaml`'s stage schema (or `cairn.yaml`, the same schema plus
/// Cairn's keys) with every template resolved and every `foreach`/`matrix` expanded, so the
/// engine never sees `${…}`. Produced only by `PipelineSpecLoader`, which refuses at load time
/// (with file, line and reason) anything the engine could not run: cycles, two stages writing
/// one path, a dep nobody makes that does not exist, unknown keys, bad templates.
public struct PipelineSpec: Sendable, Equatable {
    /// The pipeline's name: `name:` in the file, else the project directory's name.
    public var name: String
    /// The project directory (absolute); stage `wdir`s and paths are relative to it.
    public var projectDirectory: String
    /// The spec file, absolute (`cairn.yaml` wins over `dvc.yaml` when both exist).
    public var file: String
    /// Stages in file order, `foreach`/`matrix` items in expansion order (`build@uk`).
    public var stages: [StageSpec]
    /// Cron expression (five fields, UTC) for scheduled runs; no catch-up.
    public var schedule: String?
    public var triggers: [TriggerSpec]
    /// How many runs of this pipeline may be active at once (default 1).
    public var concurrency: Int

    public init(
        name: String, projectDirectory: String, file: String, stages: [StageSpec], schedule: String? = nil,
        triggers: [TriggerSpec] = [], concurrency: Int = 1
    ) {
        self.name = name
        self.projectDirectory = projectDirectory
        self.file = file
        self.stages = stages
        self.schedule = schedule
        self.triggers = triggers
        self.concurrency = concurrency
    }

    public func stage(named name: String) -> StageSpec? { stages.first { $0.name == name } }
}

/// What starts a run besides a person or the schedule (`triggers:` at the top level).
public enum TriggerSpec: Sendable, Equatable {
    /// A monitor's alert opened (`monitor: NAME`).
    case monitorAlert(monitor: String)
    /// A new version of a registered model, or an alias moved (`model: NAME`, optional `alias:`).
    case modelVersion(model: String, alias: String?)
    /// A dataset a stage depends on changed: a new file hash under `path` (`data: PATH`).
    case dataChanged(path: String)
}
