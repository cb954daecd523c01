import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a stage as `/bin/sh -c command` on this machine, in its own process group: the
/// command and everything it starts are stopped together on cancel or timeout (SIGTERM, then
/// SIGKILL after `terminationGrace`), and whatever it left running when it exits is killed.
public struct LocalExecutor: StageExecutor {
    public var name: String { "local" }
    public var fingerprint: String { "local" }

    /// How long a cancelled stage has between SIGTERM and SIGKILL.
    public var terminationGrace: Duration
    /// Called once the stage's process group exists, with its pgid (the leader's pid) as the
    /// job id, so the engine can record it before the stage ends and, after a restart, stop a
    /// group left running with `killOrphanedGroup(pgid:submissionID:)`.
    public var onStart: (@Sendable (StageInvocation, String) -> Void)?

    /// Every stage process gets its attempt's submission id in this variable, which marks its
    /// group as Cairn's (`killOrphanedGroup` checks it before signalling a recorded pgid).
    public static let submissionIDVariable = "CAIRN_SUBMISSION_ID"

    public init(terminationGrace: Duration = .seconds(2), onStart: (@Sendable (StageInvocation, String) -> Void)? = nil) {
        self.terminationGrace = terminationGrace
        self.onStart = onStart
    }

    public func run(_ invocation: StageInvocation) async throws -> StageResult {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(invocation.environment) { $1 }
        environment[Self.submissionIDVariable] = invocation.submissionID
        // As a shell's `cd` would: the server's own PWD would be a lie in the stage.
        environment["PWD"] = invocation.workingDirectory
        let launch = ProcessGroup.Launch(
            arguments: ["/bin/sh", "-c", invocation.command],
            environment: environment.map { "\($0.key)=\($0.value)" },
            workingDirectory: invocation.workingDirectory,
            stdoutPath: invocation.stdoutPath,
            stderrPath: invocation.stderrPath)
        let onStart = onStart
        do {
            let exit = try await ProcessGroup.run(launch, grace: terminationGrace) { pid in onStart?(invocation, String(pid)) }
            return StageResult(exitStatus: exit.status, jobID: String(exit.pid))
        } catch let failure as ProcessGroup.SpawnFailure {
            throw StageExecutionError(stage: invocation.stage, reason: failure.reason, transient: failure.transient)
        }
    }

    /// Stops a stage's process group that outlived the server that started it (recorded from
    /// `onStart`): SIGTERM, then SIGKILL after `grace`. Does nothing, and returns false, when
    /// the group is gone, or when `submissionID` is given and no running member of the group
    /// carries it (the pgid now belongs to someone else).
    public static func killOrphanedGroup(pgid: Int32, submissionID: String? = nil, grace: Duration = .seconds(2)) async -> Bool {
        guard pgid > 1 else { return false }
        return await ProcessGroup.onDedicatedThread {
            guard ProcessGroup.hasLiveMembers(pgid: pgid) != false else { return false }
            if let submissionID {
                let marker = "\(submissionIDVariable)=\(submissionID)"
                let members = ProcessGroup.liveMembers(pgid: pgid) ?? []
                guard members.contains(where: { ProcessGroup.environment(of: $0)?.contains(marker) == true }) else { return false }
            }
            ProcessGroup.terminate(pgid: pgid, grace: grace)
            return true
        }
    }
}
