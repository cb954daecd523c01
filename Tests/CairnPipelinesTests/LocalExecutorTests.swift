import CairnPipelines
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LocalExecutorTests {
    @Test func returnsTheCommandsExitCode() async throws {
        try await withScratch { dir in
            let executor = LocalExecutor()
            #expect(try await executor.run(invocation("true", in: dir)).exitStatus == 0)
            let failed = try await executor.run(invocation("exit 3", in: dir))
            #expect(failed.exitStatus == 3)
            #expect(failed.jobID.flatMap { Int32($0) } != nil)
        }
    }

    @Test func aSignalIsReportedAs128PlusItsNumber() async throws {
        try await withScratch { dir in
            let result = try await LocalExecutor().run(invocation("kill -9 $$", in: dir))
            #expect(result.exitStatus == 137)
        }
    }

    @Test func runsInTheWorkingDirectoryWithTheEnvironmentAndWritesBothStreams() async throws {
        try await withScratch { dir in
            var stage = invocation(
                #"pwd; echo "$GREETING $CAIRN_SUBMISSION_ID"; test -n "$PATH" && echo inherited; echo oops >&2"#, in: dir)
            stage.environment = ["GREETING": "hello there"]
            let result = try await LocalExecutor().run(stage)
            #expect(result.exitStatus == 0)
            let stdout = try String(contentsOfFile: stage.stdoutPath, encoding: .utf8)
            #expect(stdout == "\(dir)\nhello there \(stage.submissionID)\ninherited\n")
            #expect(try String(contentsOfFile: stage.stderrPath, encoding: .utf8) == "oops\n")
        }
    }

    /// The server ignores SIGPIPE (NIO does), and ignored signals survive exec: a stage must
    /// start with every signal at its default, or `producer | head` never ends its producer.
    @Test func stagesStartWithNoSignalIgnoredOrBlocked() async throws {
        signal(SIGPIPE, SIG_IGN)
        try await withScratch { dir in
            let stage = invocation("grep -E '^Sig(Ign|Blk)' /proc/self/status", in: dir)
            #expect(try await LocalExecutor().run(stage).exitStatus == 0)
            let lines = try String(contentsOfFile: stage.stdoutPath, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            // Signals 1-31; 32 and 33 are glibc's own (thread cancel, setxid), which
            // posix_spawn leaves alone and every glibc program re-installs at start.
            for line in lines {
                let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
                #expect(mask.map { $0 & 0x7fff_ffff } == 0, "\(line)")
            }
        }
    }

    @Test func aMissingWorkingDirectoryIsAnErrorNamingTheStageAndThePath() async throws {
        try await withScratch { dir in
            var stage = invocation("true", in: dir)
            stage.workingDirectory = dir + "/nowhere"
            let error = try await #require(throws: StageExecutionError.self) { try await LocalExecutor().run(stage) }
            #expect(error.stage == "train")
            #expect(error.reason.contains(dir + "/nowhere"))
            #expect(!error.transient)
            #expect(error.description.contains("stage 'train'"))
        }
    }

    @Test func anUnwritableOutputFileIsAnErrorNamingIt() async throws {
        try await withScratch { dir in
            var stage = invocation("true", in: dir)
            stage.stdoutPath = dir + "/missing/out.txt"
            let error = try await #require(throws: StageExecutionError.self) { try await LocalExecutor().run(stage) }
            #expect(error.reason.contains(dir + "/missing/out.txt"))
        }
    }

    @Test func cancellingKillsTheCommandItsChildrenAndGrandchildren() async throws {
        try await withScratch { dir in
            let command = """
                echo $$ > leader.pid
                sleep 100 & echo $! > child.pid
                sh -c 'sleep 100 & echo $! > grandchild.pid; wait' &
                wait
                """
            let pids = try await runAndCancel(invocation(command, in: dir), once: ["leader.pid", "child.pid", "grandchild.pid"], in: dir)
            #expect(pids.count == 3)
            for pid in pids { #expect(!isRunning(pid), "process \(pid) survived the cancel") }
        }
    }

    @Test func aCommandThatIgnoresSIGTERMIsKilledAfterTheGrace() async throws {
        try await withScratch { dir in
            let command = """
                trap '' TERM
                sh -c 'trap "" TERM; sleep 100 & echo $! > grandchild.pid; wait' &
                echo $$ > leader.pid
                while :; do sleep 0.05; done
                """
            let executor = LocalExecutor(terminationGrace: .milliseconds(300))
            let pids = try await runAndCancel(
                invocation(command, in: dir), executor: executor, once: ["leader.pid", "grandchild.pid"], in: dir)
            for pid in pids { #expect(!isRunning(pid), "process \(pid) survived the cancel") }
        }
    }

    @Test func whatACommandLeavesRunningIsKilledWhenItExits() async throws {
        try await withScratch { dir in
            let stage = invocation("sleep 100 & echo $! > background.pid", in: dir)
            #expect(try await LocalExecutor().run(stage).exitStatus == 0)
            let pid = try #require(readPID(dir + "/background.pid"))
            #expect(!isRunning(pid))
        }
    }

    @Test func aRecordedGroupIsKilledOnlyIfItIsStillThatStages() async throws {
        try await withScratch { dir in
            let started = Mutex<String?>(nil)
            let executor = LocalExecutor { _, jobID in started.withLock { $0 = jobID } }
            let stage = invocation("sleep 100", in: dir)
            try await withThrowingTaskGroup(of: StageResult.self) { group in
                group.addTask { try await executor.run(stage) }
                var pgid: Int32?
                while pgid == nil {
                    try await Task.sleep(for: .milliseconds(10))
                    pgid = started.withLock { $0 }.flatMap { Int32($0) }
                }
                #expect(await LocalExecutor.killOrphanedGroup(pgid: pgid!, submissionID: "cairn-other-stage-1") == false)
                #expect(isRunning(pgid!))
                #expect(await LocalExecutor.killOrphanedGroup(pgid: pgid!, submissionID: stage.submissionID))
                let result = try await group.next()
                #expect(result?.exitStatus == 128 + SIGTERM)
                #expect(await LocalExecutor.killOrphanedGroup(pgid: pgid!) == false)
            }
        }
    }

    // MARK: - Helpers

    /// Starts the stage, waits until each named pid file is written, cancels, and returns the pids.
    private func runAndCancel(
        _ stage: StageInvocation, executor: LocalExecutor = LocalExecutor(), once files: [String], in dir: String
    ) async throws -> [Int32] {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await executor.run(stage) }
            var pids: [Int32] = []
            while pids.count < files.count {
                try await Task.sleep(for: .milliseconds(10))
                pids = files.compactMap { readPID(dir + "/" + $0) }
            }
            #expect(pids.allSatisfy(isRunning))
            group.cancelAll()
            await #expect(throws: CancellationError.self) { try await group.next() }
            return pids
        }
    }
}

func invocation(_ command: String, in dir: String) -> StageInvocation {
    StageInvocation(
        runID: "r1", stage: "train", attempt: 1, command: command, workingDirectory: dir, environment: [:],
        resources: .init(), stdoutPath: dir + "/stdout.txt", stderrPath: dir + "/stderr.txt")
}

func withScratch<T>(_ body: (String) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-exec-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try await body(dir)
}

private func readPID(_ path: String) -> Int32? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") else { return nil }
    return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// Alive and not a zombie (this machine's init does not reap adopted children).
private func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
