import CairnCore
import CairnStore

/// `cairn pipeline status [--why]`: each stage's state against the lock file, and with `why`
/// the first key component that differs from the stage's last successful run.
public struct StageStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case upToDate = "up to date"
        case stale
        case neverRun = "never run"
        case frozen
    }
    public var stage: String
    public var state: State
    /// Whether the outputs are stored in the cache (false for `cache: false`, `persist`,
    /// `always_changed` and gate stages, with the reason).
    public var cacheable: Bool
    public var uncacheableReason: String?
    /// The current key.
    public var key: String?
    /// With `why`: what changed (`deps: data/train.csv changed`, `params: lr 0.1 → 0.2`,
    /// `outs: model.pkl modified`, `always_changed`).
    public var why: String?

    public init(stage: String, state: State, cacheable: Bool, uncacheableReason: String?, key: String?, why: String?) {
        self.stage = stage
        self.state = state
        self.cacheable = cacheable
        self.uncacheableReason = uncacheableReason
        self.key = key
        self.why = why
    }
}

extension PipelineEngine {
    public func status(_ spec: PipelineSpec, why: Bool) async throws -> [StageStatus] {
        let workspace = try await workspaces.workspace(for: spec.projectDirectory)
        let hasher = await workspace.hasher(parallelism: configuration.hashingParallelism)
        let lock = try await workspace.lockEntries()
        let context = RunContext(
            run: StoredPipelineRun(
                id: "", pipeline: spec.name, status: .running, triggerKind: "status", triggerEventID: nil, options: "{}", reason: nil,
                startTime: 0, endTime: nil, resumedFrom: nil),
            spec: spec, options: PipelineRunOptions(), experimentID: "", workspace: workspace, hasher: hasher, origin: [:],
            order: spec.stages.map(\.name), cancel: CancelSignal())
        var result: [StageStatus] = []
        for stage in spec.stages {
            let state = try await computeKey(stage, context)
            let key = state.components.key
            var status = StageStatus(
                stage: stage.name, state: .stale, cacheable: state.cacheable, uncacheableReason: state.uncacheableReason, key: key,
                why: nil)
            if stage.frozen {
                status.state = .frozen
                result.append(status)
                continue
            }
            guard let entry = lock[stage.name] else {
                status.state = .neverRun
                result.append(status)
                continue
            }
            if let missing = stage.deps.first(where: { state.deps[$0] == .missing }) {
                status.why = "deps: \(missing) missing"
            } else if state.alwaysRuns {
                status.why = stage.alwaysChanged ? "always_changed" : "a gate stage always runs"
            } else if entry.key != key {
                status.why = "the key changed"
                if why {
                    let baseline = try await store.lastFinishedStageRun(pipeline: spec.name, stage: stage.name)
                    if let json = baseline?.keyComponents, let previous = CacheKeyComponents.decode(json),
                        let difference = state.components.firstDifference(from: previous)
                    {
                        status.why = difference
                    } else {
                        status.why = Self.lockDifference(state.components, entry) ?? status.why
                    }
                }
            } else {
                let wdir = Self.absolute(stage.workingDirectory, in: spec.projectDirectory)
                let outs = try await hasher.digests(of: stage.writtenPaths.map { Self.absolute($0, in: wdir) })
                for (path, digest) in zip(stage.writtenPaths, outs) {
                    let recorded = entry.outs.first { $0.path == path }?.digest
                    if digest == .missing {
                        status.why = "outs: \(path) missing"
                        break
                    }
                    if recorded != digest.digest {
                        status.why = "outs: \(path) modified"
                        break
                    }
                }
                if status.why == nil { status.state = .upToDate }
            }
            if !why, status.state == .stale { status.why = nil }
            result.append(status)
        }
        try? await workspace.saveFileState()
        return result
    }

    /// Without a stored baseline, what the lock entry alone can tell: a dep's digest, a
    /// param's value or the command.
    static func lockDifference(_ components: CacheKeyComponents, _ entry: LockEntry) -> String? {
        if components.command != entry.cmd { return "cmd changed" }
        for (name, value) in components.params.sorted(by: { $0.key < $1.key }) {
            guard let colon = name.firstIndex(of: ":") else { continue }
            let file = String(name[..<colon])
            let key = String(name[name.index(after: colon)...])
            let before = entry.params[file]?[key]
            if before != value { return "params: \(key) \(before ?? "(absent)") → \(value)" }
        }
        for dep in components.deps {
            let before = entry.deps.first { $0.path == dep.path }?.digest
            if before != dep.digest { return before == nil ? "deps: \(dep.path) added" : "deps: \(dep.path) changed" }
        }
        return nil
    }
}
