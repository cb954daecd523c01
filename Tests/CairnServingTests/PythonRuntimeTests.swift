import CairnCore
import CairnTabular
import Foundation
import Logging
import Testing

@testable import CairnServing

#if canImport(Glibc)
    import Glibc
#endif

/// The pool's upkeep, with a stand-in for Python: a shell script that speaks the worker
/// protocol's first message and then reads until its stdin closes, or fails to load once `broken` exists.
@Suite struct PythonRuntimeTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-python-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // 15 and 17 are the lengths of the two JSON messages, as 4-byte little-endian prefixes.
        let script = """
            #!/bin/sh
            if [ -e '\(directory.path)/broken' ]; then
              printf '\\021\\000\\000\\000{"error": "boom"}'
              exit 1
            fi
            printf '\\017\\000\\000\\000{"ready": true}'
            while read -r _; do :; done
            """
        try script.write(to: fakePython, atomically: true, encoding: .utf8)
        chmod(fakePython.path, 0o755)
    }

    var fakePython: URL { directory.appendingPathComponent("python") }

    func runtime(workers: Int, counts: Locked<[Int]>) async throws -> PythonRuntime {
        try await PythonRuntime(
            modelDirectory: directory.path, signature: nil, python: fakePython.path, workers: workers, logger: Logger(label: "test"),
            onWorkerCount: { count in counts.withLock { $0.append(count) } }
        )
    }

    @Test func aWorkerKilledWhileIdleIsReplaced() async throws {
        let counts = Locked<[Int]>([])
        let runtime = try await runtime(workers: 2, counts: counts)
        await withDiscardingTaskGroup { group in
            group.addTask { await runtime.run() }
            let before = runtime.workerProcessIdentifiers
            #expect(before.allSatisfy { $0 != nil })
            kill(before[0]!, SIGKILL)
            while true {
                let now = runtime.workerProcessIdentifiers
                if let fresh = now[0], fresh != before[0] {
                    #expect(now[1] == before[1], "the other worker was left alone")
                    break
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
            await runtime.shutdown()
        }
        #expect(counts.value == [2, 1, 2])
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func requestsFailFastWhenNoWorkerCanStart() async throws {
        let counts = Locked<[Int]>([])
        let runtime = try await runtime(workers: 1, counts: counts)
        await withDiscardingTaskGroup { group in
            group.addTask { await runtime.run() }
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("broken").path, contents: nil)
            kill(runtime.workerProcessIdentifiers[0]!, SIGKILL)
            while runtime.workerProcessIdentifiers[0] != nil { try? await Task.sleep(for: .milliseconds(5)) }
            // No worker: waits for the restart, which fails, and is then answered instead of
            // waiting on.
            let frame = DataFrame(columns: [Column(name: "x", values: .double([1]))])
            let results = await runtime.predict([.frame(frame)], params: [:])
            guard case .failure(let error)? = results.first else {
                Issue.record("expected a failure")
                return
            }
            #expect(error.code == .temporarilyUnavailable && error.message.contains("No Python worker is running"))
            await runtime.shutdown()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func restartsPauseLongerWhileWorkersKeepDyingYoung() {
        #expect(PythonRuntime.pause(afterCrashes: 1) == .zero)
        #expect(PythonRuntime.pause(afterCrashes: 2) == .milliseconds(500))
        #expect(PythonRuntime.pause(afterCrashes: 3) == .seconds(1))
        #expect(PythonRuntime.pause(afterCrashes: 50) == PythonRuntime.longestPause)
        try? FileManager.default.removeItem(at: directory)
    }
}
