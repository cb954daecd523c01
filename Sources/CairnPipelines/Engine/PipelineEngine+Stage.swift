import CairnCore
import CairnStore
import Foundation
import Logging
import NIOPosix

/// One stage of a run: its key, then the cheapest way to have its outputs (up to date, reused
/// by `resume`, restored from the cache, or run), then the records.
extension PipelineEngine {
    /// Never throws: every problem ends as the stage's FAILED (or KILLED) state with its reason.
    func runStage(_ stage: StageSpec, _ context: RunContext) async -> StageOutcome {
        var row = StoredStageRun(runID: context.run.id, stage: stage.name, status: .running, startTime: now())
        var mlflowRun: Run?
        var record = RunRecorder.StageRecord(status: .failed, params: [:], metrics: [:], tags: [:], files: [:], texts: [:])
        let outcome: StageOutcome
        do {
            let started = try await recorder.startStageRun(
                experimentID: context.experimentID, parent: context.run.id, pipeline: context.spec.name, stage: stage.name)
            mlflowRun = started
            row.mlflowRunID = started.info.runID
            try await store.putStageRun(row)
            outcome = try await perform(stage, context, row: &row, record: &record)
        } catch is CancellationError {
            row.reason = "cancelled"
            outcome = .cancelled
        } catch {
            row.reason = "\(error)"
            outcome = .failed("\(error)")
        }
        switch outcome {
        case .finished: row.status = .finished
        case .failed(let reason):
            row.status = .failed
            row.reason = row.reason ?? reason
        case .cancelled: row.status = .killed
        }
        row.endTime = now()
        record.status = row.status == .finished ? .finished : row.status == .killed ? .killed : .failed
        record.tags["cairn.cache_hit"] = row.cacheHit ? "true" : "false"
        if let key = row.cacheKey { record.tags["cairn.cache_key"] = key }
        if let source = row.sourceRun { record.tags["cairn.cache_source_run"] = source }
        if let reason = row.reason { record.tags["cairn.reason"] = reason }
        record.tags["cairn.attempts"] = "\(row.attempts)"
        record.tags["cairn.duration_ms"] = "\(row.endTime! - (row.startTime ?? row.endTime!))"
        record.metrics["cairn.duration_s"] = Double(row.endTime! - (row.startTime ?? row.endTime!)) / 1000
        do {
            try await store.putStageRun(row)
            if let mlflowRun { try await recorder.finishStageRun(mlflowRun, record) }
        } catch {
            logger.error("Could not record a stage's end", metadata: ["stage": "\(stage.name)", "error": "\(error)"])
        }
        return outcome
    }

    private func perform(
        _ stage: StageSpec, _ context: RunContext, row: inout StoredStageRun, record: inout RunRecorder.StageRecord
    ) async throws -> StageOutcome {
        let wdir = Self.absolute(stage.workingDirectory, in: context.spec.projectDirectory)
        let state = try await computeKey(stage, context)
        row.cacheKey = state.components.key
        row.keyComponents = state.components.json
        record.params = state.components.params
        if let missing = stage.deps.first(where: { state.deps[$0] == .missing }) {
            return .failed("dep \(missing) does not exist")
        }
        let outPaths = stage.writtenPaths
        if stage.frozen {
            // DVC's frozen: never run, only checked.
            let outs = try await context.hasher.digests(of: outPaths.map { Self.absolute($0, in: wdir) })
            if let index = outs.firstIndex(of: .missing) { return .failed("frozen stage's out \(outPaths[index]) is missing") }
            row.reason = "frozen"
            return .finished
        }
        let lock = try await context.workspace.lockEntries()[stage.name]
        if !context.options.force, !state.alwaysRuns, let lock, lock.key == state.components.key {
            // Up to date: what the lock says the stage made is still there.
            let outs = try await context.hasher.digests(of: outPaths.map { Self.absolute($0, in: wdir) })
            if zip(outPaths, outs).allSatisfy({ path, digest in lock.outs.first { $0.path == path }?.digest == digest.digest }) {
                row.cacheHit = true
                row.sourceRun = lock.run
                collectMetrics(stage, wdir: wdir, into: &record)
                try await attachLock(stage, context, record: &record)
                return .finished
            }
        }
        if !context.options.force, !state.alwaysRuns, let origin = context.origin[stage.name], origin.cacheKey == state.components.key {
            // `resume`: the origin's finished stage with the same key is reused, even when it is
            // not cacheable, as long as its outputs are in the cache or still in place.
            let restored: Bool
            if state.cacheable {
                restored = try await restoreFromCache(stage, key: state.components.key, wdir: wdir, context: context) != nil
            } else {
                restored = try await outputsExist(stage, wdir: wdir, context: context)
            }
            if restored {
                row.cacheHit = true
                row.sourceRun = origin.sourceRun ?? origin.mlflowRunID
                try await commitLock(stage, context, state: state, wdir: wdir, runID: row.sourceRun)
                collectMetrics(stage, wdir: wdir, into: &record)
                try await attachLock(stage, context, record: &record)
                return .finished
            }
        }
        if !context.options.force, state.cacheable,
            let source = try await restoreFromCache(stage, key: state.components.key, wdir: wdir, context: context)
        {
            row.cacheHit = true
            row.sourceRun = source
            try await commitLock(stage, context, state: state, wdir: wdir, runID: source)
            collectMetrics(stage, wdir: wdir, into: &record)
            try await attachLock(stage, context, record: &record)
            return .finished
        }

        // Run it.
        try await prepareOutputs(stage, wdir: wdir)
        let result = try await attempts(stage, context, wdir: wdir, row: &row, record: &record)
        guard case .finished = result else { return result }
        let outs = try await context.hasher.digests(of: outPaths.map { Self.absolute($0, in: wdir) })
        if let index = outs.firstIndex(of: .missing) {
            return .failed("the command did not write its out \(outPaths[index])")
        }
        if state.cacheable {
            var stored: [StoredOutput] = []
            for (path, digest) in zip(outPaths, outs) {
                stored.append(try await cache.store(path: path, absolutePath: Self.absolute(path, in: wdir), content: digest))
            }
            try await store.putCacheEntry(
                RunCacheEntry(
                    key: state.components.key, pipeline: context.spec.name, stage: stage.name, outs: StoredOutput.encode(stored),
                    sourceRun: row.mlflowRunID ?? context.run.id, creationTime: now()))
        }
        try await commitLock(stage, context, state: state, wdir: wdir, runID: row.mlflowRunID, outs: outs)
        collectMetrics(stage, wdir: wdir, into: &record)
        try await attachLock(stage, context, record: &record)
        return .finished
    }

    // MARK: - Key

    struct StageKeyState: Sendable {
        var components: CacheKeyComponents
        var deps: [String: PathDigest]
        /// Not stored in the cache: a `cache: false` or `persist` out, `always_changed`, a gate.
        var cacheable: Bool
        /// Never up to date (`always_changed`, a gate).
        var alwaysRuns: Bool
        var uncacheableReason: String?
    }

    func computeKey(_ stage: StageSpec, _ context: RunContext) async throws -> StageKeyState {
        let wdir = Self.absolute(stage.workingDirectory, in: context.spec.projectDirectory)
        let references = stage.params
        let name = stage.name
        let params = try await threadPool.runIfActive {
            var reader = ParamsReader(directory: wdir)
            return try reader.values(for: references, stage: name)
        }
        let digests = try await context.hasher.digests(of: stage.deps.map { Self.absolute($0, in: wdir) })
        let command: String
        let executor: String
        switch stage.kind {
        case .command(let lines):
            command = lines.joined(separator: " && ")
            executor = executors[stage.executor]?.fingerprint ?? stage.executor
        case .gate(let gate):
            command = "gate:" + Self.describe(gate)
            executor = "gate"
        }
        let outputs = (stage.outs + stage.metrics + stage.plots).map {
            CacheKeyComponents.Output(path: $0.path, cache: $0.cache, persist: $0.persist)
        }
        let components = CacheKeyComponents(
            command: command, params: params,
            deps: zip(stage.deps, digests).map { CacheKeyComponents.Dependency(path: $0, digest: $1.digest) }, outs: outputs,
            executor: executor)
        var reason: String?
        var isGate = false
        if case .gate = stage.kind { isGate = true }
        if isGate {
            reason = "a gate stage"
        } else if stage.alwaysChanged {
            reason = "always_changed"
        } else if let out = stage.outs.first(where: { !$0.cache }) {
            reason = "out \(out.path) has cache: false"
        } else if let out = (stage.outs + stage.metrics + stage.plots).first(where: \.persist) {
            reason = "out \(out.path) is persist"
        } else if let out = (stage.metrics + stage.plots).first(where: { !$0.cache }) {
            reason = "out \(out.path) has cache: false"
        }
        return StageKeyState(
            components: components, deps: Dictionary(zip(stage.deps, digests), uniquingKeysWith: { first, _ in first }),
            cacheable: reason == nil, alwaysRuns: isGate || stage.alwaysChanged, uncacheableReason: reason)
    }

    static func describe(_ gate: GateSpec) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("alias")
        writer.string(gate.alias)
        writer.key("candidate")
        writer.string(gate.candidate)
        writer.key("data")
        writer.string(gate.data)
        writer.key("keep_previous_as")
        if let keep = gate.keepPreviousAs { writer.string(keep) } else { writer.null() }
        writer.key("model")
        writer.string(gate.model)
        writer.key("target")
        writer.string(gate.target)
        writer.key("thresholds")
        writer.beginObject()
        for (name, threshold) in gate.thresholds.sorted(by: { $0.key < $1.key }) {
            writer.key(name)
            writer.beginArray()
            for value in [threshold.threshold, threshold.minAbsoluteChange, threshold.minRelativeChange] {
                if let value { writer.double(value) } else { writer.null() }
            }
            writer.bool(threshold.greaterIsBetter)
            writer.endArray()
        }
        writer.endObject()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    // MARK: - Cache and lock

    /// Restores the outputs the run cache holds for `key` when every object is there; returns
    /// the stage run they came from, or nil (then the stage runs).
    private func restoreFromCache(_ stage: StageSpec, key: String, wdir: String, context: RunContext) async throws -> String? {
        guard let entry = try await store.cacheEntry(key: key), let outputs = StoredOutput.decode(entry.outs),
            Set(outputs.map(\.path)) == Set(stage.writtenPaths), try await cache.isComplete(outputs)
        else { return nil }
        let current = try await context.hasher.digests(of: outputs.map { Self.absolute($0.path, in: wdir) })
        for (output, digest) in zip(outputs, current) where digest.digest != output.digest {
            try await cache.restore(output, to: Self.absolute(output.path, in: wdir))
        }
        return entry.sourceRun
    }

    private func outputsExist(_ stage: StageSpec, wdir: String, context: RunContext) async throws -> Bool {
        let outs = try await context.hasher.digests(of: stage.writtenPaths.map { Self.absolute($0, in: wdir) })
        return !outs.contains(.missing)
    }

    private func commitLock(
        _ stage: StageSpec, _ context: RunContext, state: StageKeyState, wdir: String, runID: String?, outs: [PathDigest]? = nil
    ) async throws {
        let outDigests: [PathDigest]
        if let outs {
            outDigests = outs
        } else {
            outDigests = try await context.hasher.digests(of: stage.writtenPaths.map { Self.absolute($0, in: wdir) })
        }
        func item(_ path: String, _ digest: PathDigest) -> LockEntry.Item? {
            switch digest {
            case .missing: nil
            case .file(let digest, let size): LockEntry.Item(path: path, digest: digest, size: size, files: nil)
            case .directory(let digest, let files):
                LockEntry.Item(path: path, digest: digest, size: files.reduce(0) { $0 + $1.size }, files: files.count)
            }
        }
        var params: [String: [String: String]] = [:]
        for (name, value) in state.components.params {
            guard let colon = name.firstIndex(of: ":") else { continue }
            params[String(name[..<colon]), default: [:]][String(name[name.index(after: colon)...])] = value
        }
        let entry = LockEntry(
            cmd: state.components.command, key: state.components.key, run: runID,
            deps: stage.deps.compactMap { path in state.deps[path].flatMap { item(path, $0) } }, params: params,
            outs: zip(stage.writtenPaths, outDigests).compactMap { item($0, $1) })
        try await context.workspace.commit(stage: stage.name, entry: entry, order: context.order)
    }

    private func attachLock(_ stage: StageSpec, _ context: RunContext, record: inout RunRecorder.StageRecord) async throws {
        if let entry = try await context.workspace.lockEntries()[stage.name] {
            record.texts["cairn.lock"] = LockFile.render([stage.name: entry], order: [stage.name])
        }
    }

    private func collectMetrics(_ stage: StageSpec, wdir: String, into record: inout RunRecorder.StageRecord) {
        for metric in stage.metrics {
            for (key, value) in RunRecorder.metrics(inFile: Self.absolute(metric.path, in: wdir)) { record.metrics[key] = value }
        }
    }

    /// Deletes the outs before the command runs (unless `persist`), as `dvc repro` does, and
    /// makes their parent directories.
    private func prepareOutputs(_ stage: StageSpec, wdir: String) async throws {
        let outs = stage.outs + stage.metrics + stage.plots
        try await threadPool.runIfActive {
            for out in outs {
                let path = Self.absolute(out.path, in: wdir)
                if !out.persist { try LocalFiles.remove(path) }
                try LocalFiles.makeDirectories(PathText(path: path).parent)
            }
        }
    }

    static func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.isEmpty { return directory }
        return "\(directory)/\(path)"
    }
}
