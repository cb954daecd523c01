import CairnArtifacts
import CairnCore
import CairnPipelines
import CairnStore
import Foundation
import Logging
import NIOPosix
import Synchronization
import Testing

/// A project directory, a migrated SQLite database, an artifact root and an engine over them.
struct EngineFixture {
    let root: String
    let project: String
    let database: SQLiteMetadataDatabase
    let store: SQLPipelineStore
    let tracking: SQLTrackingStore
    let artifacts: LocalArtifactRepository
    let executor: ShellTestExecutor
    let engine: PipelineEngine

    static func make(jobs: Int = 4) async throws -> EngineFixture {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-engine-\(UUID().uuidString)").path
        let project = "\(root)/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: "\(root)/cairn.db", logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let artifacts = try LocalArtifactRepository(
            rootDirectory: "\(root)/artifacts", configuration: .init(durableWrites: false))
        let executor = ShellTestExecutor()
        let store = SQLPipelineStore(database: database)
        let tracking = SQLTrackingStore(database: database)
        let engine = PipelineEngine(
            store: store, tracking: tracking, artifacts: artifacts, threadPool: .singleton, executors: [executor], gate: nil,
            configuration: .init(stateDirectory: "\(root)/state", defaultJobs: jobs), logger: logger)
        return EngineFixture(
            root: root, project: project, database: database, store: store, tracking: tracking, artifacts: artifacts, executor: executor,
            engine: engine)
    }

    static func with(jobs: Int = 4, _ body: (EngineFixture) async throws -> Void) async throws {
        let fixture = try await make(jobs: jobs)
        do {
            try await body(fixture)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    func close() async throws {
        try await database.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: "\(project)/\(path)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: "\(project)/\(path)", encoding: .utf8)
    }

    func spec(_ stages: [StageSpec], name: String = "demo") -> PipelineSpec {
        PipelineSpec(name: name, projectDirectory: project, file: "\(project)/cairn.yaml", stages: stages)
    }

    /// Starts and runs to the end.
    func run(_ spec: PipelineSpec, _ options: PipelineRunOptions = PipelineRunOptions()) async throws -> StoredPipelineRun {
        _ = try await engine.register(spec)
        let run = try await engine.start(spec, options: options, trigger: nil)
        return await engine.execute(run, spec: spec)
    }

    func stages(_ run: StoredPipelineRun) async throws -> [String: StoredStageRun] {
        Dictionary(uniqueKeysWithValues: try await store.stageRuns(runID: run.id).map { ($0.stage, $0) })
    }
}

func stage(
    _ name: String, _ command: String, deps: [String] = [], outs: [String] = [], params: [StageSpec.ParamsReference] = [],
    retries: Int = 0, timeout: Double? = nil, uncachedOuts: [String] = []
) -> StageSpec {
    StageSpec(
        name: name, kind: .command([command]), deps: deps,
        outs: outs.map { StageSpec.Output(path: $0) } + uncachedOuts.map { StageSpec.Output(path: $0, cache: false) }, params: params,
        retries: retries, timeout: timeout, location: SourceLocation(file: "cairn.yaml", line: 1))
}

/// Runs commands with `/bin/sh -c` (a stand-in for the local executor in these tests), counting
/// invocations per stage and the most attempts that ran at once.
final class ShellTestExecutor: StageExecutor {
    let name = "local"
    let fingerprint = "local"
    private let state = Mutex<(invocations: [String: Int], running: Int, maxRunning: Int)>(([:], 0, 0))

    func invocations(_ stage: String) -> Int { state.withLock { $0.invocations[stage, default: 0] } }
    var total: Int { state.withLock { $0.invocations.values.reduce(0, +) } }
    var maxRunning: Int { state.withLock { $0.maxRunning } }
    var running: Int { state.withLock { $0.running } }

    func run(_ invocation: StageInvocation) async throws -> StageResult {
        state.withLock {
            $0.invocations[invocation.stage, default: 0] += 1
            $0.running += 1
            $0.maxRunning = max($0.maxRunning, $0.running)
        }
        defer { state.withLock { $0.running -= 1 } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", invocation.command]
        process.currentDirectoryURL = URL(fileURLWithPath: invocation.workingDirectory)
        process.environment = ProcessInfo.processInfo.environment.merging(invocation.environment) { _, new in new }
        FileManager.default.createFile(atPath: invocation.stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: invocation.stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: invocation.stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: invocation.stderrPath)
        // The pid once launched, or that a cancel came first (then the launch is killed at once).
        let launch = Mutex<(pid: Int32?, cancelled: Bool)>((nil, false))
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                    let pid = process.processIdentifier
                    if launch.withLock({ state in
                        state.pid = pid
                        return state.cancelled
                    }) {
                        kill(pid, SIGKILL)
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if let pid = launch.withLock({ state in
                state.cancelled = true
                return state.pid
            }) {
                kill(pid, SIGKILL)
            }
        }
        try Task.checkCancellation()
        return StageResult(exitStatus: status, jobID: "\(process.processIdentifier)")
    }
}
