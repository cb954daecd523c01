import AsyncHTTPClient
import CairnPipelines
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The Ray head the live tests use: `CAIRN_TEST_RAY_ADDRESS` (`.ci/run` starts one on loopback).
enum RayHead {
    static let address = ProcessInfo.processInfo.environment["CAIRN_TEST_RAY_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["CAIRN_REQUIRE_RAY"] == "1"

    static func executor(onStart: (@Sendable (StageInvocation, String) -> Void)? = nil) async throws -> RayJobsExecutor {
        let configuration = RayJobsExecutor.Configuration(
            address: try #require(address), token: try RayJobsExecutor.Configuration.resolveToken(nil), pollInterval: .milliseconds(100))
        return try await RayJobsExecutor.connect(configuration, onStart: onStart)
    }

    /// A job's details as the head reports them (JSON).
    static func job(_ id: String) async throws -> [String: Any] {
        try await getJSON("/api/jobs/\(id)") as? [String: Any] ?? [:]
    }

    static func getJSON(_ path: String) async throws -> Any {
        var request = HTTPClientRequest(url: try #require(address) + path)
        if let token = try RayJobsExecutor.Configuration.resolveToken(nil) {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
    }

    static func uniqueRunID() -> String { "t" + UUID().uuidString.prefix(8).lowercased() }
}

@Suite struct RayJobsExecutorTests {
    // MARK: - Against a fake head (always run)

    @Test func submitsTheEntrypointResourcesEnvironmentMetadataAndToken() async throws {
        try await withScratch { dir in
            try await FakeRayHead.with(reply: Self.succeedingHead) { head, url in
                var stage = invocation("python train.py --lr 0.1 || echo 'it failed'", in: dir + "/it's here")
                stage.environment = ["CAIRN_RUN_ID": "r1"]
                stage.resources = .init(cpus: 2, gpus: 1, memory: 1 << 30)
                let executor = RayJobsExecutor(configuration: .init(address: url + "/", token: "s3cret", pollInterval: .milliseconds(1)))
                try FileManager.default.createDirectory(atPath: stage.workingDirectory, withIntermediateDirectories: true)
                let result = try await executor.run(stage)
                #expect(result == StageResult(exitStatus: 0, jobID: stage.submissionID))
                #expect(try String(contentsOfFile: stage.stdoutPath, encoding: .utf8) == "hello from ray\n")
                #expect(try String(contentsOfFile: stage.stderrPath, encoding: .utf8).contains("SUCCEEDED"))

                let submit = try #require(head.requests.first)
                #expect(submit.method == .POST && submit.uri == "/api/jobs/")
                #expect(head.requests.allSatisfy { $0.headers["Authorization"] == ["Bearer s3cret"] })
                let body = try #require(try JSONSerialization.jsonObject(with: Data(submit.body.utf8)) as? [String: Any])
                #expect(body["submission_id"] as? String == stage.submissionID)
                #expect(body["entrypoint"] as? String == "cd '\(dir)/it'\\''s here' && {\n\(stage.command)\n}")
                #expect(body["entrypoint_num_cpus"] as? Double == 2)
                #expect(body["entrypoint_num_gpus"] as? Double == 1)
                #expect(body["entrypoint_memory"] as? Int == 1 << 30)
                let env = (body["runtime_env"] as? [String: Any])?["env_vars"] as? [String: String]
                #expect(env == ["CAIRN_RUN_ID": "r1", "CAIRN_SUBMISSION_ID": stage.submissionID])
                #expect(body["metadata"] as? [String: String] == ["cairn_run": "r1", "cairn_stage": "train", "cairn_attempt": "1"])
            }
        }
    }

    /// The entrypoint, run by a real shell, goes to the directory and keeps the command's own
    /// `||` from binding to the `cd`.
    @Test func theEntrypointRunsTheCommandInTheDirectory() async throws {
        try await withScratch { dir in
            let quirky = dir + "/it's here"
            try FileManager.default.createDirectory(atPath: quirky, withIntermediateDirectories: true)
            let entrypoint = RayJobsExecutor.entrypoint(command: "pwd; false || echo recovered # trailing", workingDirectory: quirky)
            let result = try await LocalExecutor().run(invocation(entrypoint, in: dir))
            #expect(result.exitStatus == 0)
            #expect(try String(contentsOfFile: dir + "/stdout.txt", encoding: .utf8) == "\(quirky)\nrecovered\n")
            let missing = RayJobsExecutor.entrypoint(command: "true || true", workingDirectory: dir + "/nowhere")
            #expect(try await LocalExecutor().run(invocation(missing, in: dir)).exitStatus != 0)
        }
    }

    @Test func sendsOnlyCPUsWhenNoGPUsOrMemoryAreAsked() async throws {
        try await withScratch { dir in
            try await FakeRayHead.with(reply: Self.succeedingHead) { head, url in
                _ = try await RayJobsExecutor(configuration: .init(address: url, pollInterval: .milliseconds(1))).run(
                    invocation("true", in: dir))
                let body = try #require(try JSONSerialization.jsonObject(with: Data(head.requests[0].body.utf8)) as? [String: Any])
                #expect(body["entrypoint_num_cpus"] as? Double == 1)
                #expect(body["entrypoint_num_gpus"] == nil && body["entrypoint_memory"] == nil)
                #expect(head.requests[0].headers["Authorization"].isEmpty)
            }
        }
    }

    /// Ray's docs say 400; Ray 2.60's head answers 500 with the ValueError's traceback.
    @Test(arguments: [400, 500])
    func aSubmissionThatAlreadyExistsIsWatchedNotRefused(status: Int) async throws {
        try await withScratch { dir in
            let reply: @Sendable (FakeRayHead.Request) -> (Int, String) = { request in
                if request.method == .POST {
                    return (
                        status, "ValueError: Job with submission_id cairn-r1-train-1 already exists. Please use a different submission_id."
                    )
                }
                if request.uri.hasSuffix("/logs") { return (200, #"{"logs": "first run\n"}"#) }
                return (200, #"{"status": "FAILED", "message": "exit 4", "driver_exit_code": 4}"#)
            }
            try await FakeRayHead.with(reply: reply) { _, url in
                let result = try await RayJobsExecutor(configuration: .init(address: url, pollInterval: .milliseconds(1))).run(
                    invocation("x", in: dir))
                #expect(result.exitStatus == 4)
                #expect(try String(contentsOfFile: dir + "/stdout.txt", encoding: .utf8) == "first run\n")
            }
        }
    }

    @Test func aRefusedTokenIsAnErrorNotWorthRetrying() async throws {
        try await withScratch { dir in
            try await FakeRayHead.with(reply: { _ in (401, "Unauthorized: invalid token") }) { _, url in
                let executor = RayJobsExecutor(configuration: .init(address: url, token: "wrong"))
                let error = try await #require(throws: StageExecutionError.self) { try await executor.run(invocation("true", in: dir)) }
                #expect(!error.transient)
                #expect(error.stage == "train")
                #expect(error.reason.contains(url) && error.reason.contains("401") && error.reason.contains("token was refused"))
                await #expect(throws: StageExecutionError.self) { try await RayJobsExecutor.connect(.init(address: url, token: "wrong")) }
            }
        }
    }

    @Test func aServerErrorIsTransientAndAVanishedJobNamesIt() async throws {
        try await withScratch { dir in
            try await FakeRayHead.with(reply: { _ in (503, "overloaded") }) { _, url in
                let error = try await #require(throws: StageExecutionError.self) {
                    try await RayJobsExecutor(configuration: .init(address: url)).run(invocation("true", in: dir))
                }
                #expect(error.transient && error.reason.contains("503") && error.reason.contains(url))
            }
            try await FakeRayHead.with(reply: { $0.method == .POST ? (200, #"{"submission_id": "x"}"#) : (404, "not found") }) { _, url in
                let error = try await #require(throws: StageExecutionError.self) {
                    try await RayJobsExecutor(configuration: .init(address: url, pollInterval: .milliseconds(1))).run(
                        invocation("true", in: dir))
                }
                #expect(error.reason.contains("404") && error.reason.contains("unknown"))
            }
        }
    }

    @Test func aHeadThatIsDownIsATransientErrorNamingIt() async throws {
        try await withScratch { dir in
            // A port nothing listens on: bound, then closed.
            let url = try await FakeRayHead.with(reply: { _ in (200, "{}") }) { _, url in url }
            let error = try await #require(throws: StageExecutionError.self) {
                try await RayJobsExecutor(configuration: .init(address: url)).run(invocation("true", in: dir))
            }
            #expect(error.transient)
            #expect(error.reason.contains(url) && error.reason.contains("refused the connection"), "\(error.reason)")
        }
    }

    @Test func exitStatusFollowsTheJobsOutcome() throws {
        func status(_ json: String) throws -> Int32 {
            try RayJobsExecutor.exitStatus(ofJob: Data(json.utf8))
        }
        #expect(try status(#"{"status": "SUCCEEDED"}"#) == 0)
        #expect(try status(#"{"status": "FAILED", "driver_exit_code": 3}"#) == 3)
        #expect(try status(#"{"status": "FAILED", "driver_exit_code": null, "message": "runtime env setup failed"}"#) == 1)
        #expect(try status(#"{"status": "STOPPED"}"#) == 143)
    }

    @Test func theTokenComesFromTheConfigurationThenRaysVariables() async throws {
        try await withScratch { dir in
            try Data("from-file\n".utf8).write(to: URL(fileURLWithPath: dir + "/token"))
            let resolve = RayJobsExecutor.Configuration.resolveToken
            #expect(try resolve("given", ["RAY_AUTH_TOKEN": "env", "RAY_AUTH_TOKEN_PATH": dir + "/token"]) == "given")
            #expect(try resolve(nil, ["RAY_AUTH_TOKEN": "env", "RAY_AUTH_TOKEN_PATH": dir + "/token"]) == "env")
            #expect(try resolve(nil, ["RAY_AUTH_TOKEN_PATH": dir + "/token"]) == "from-file")
            #expect(try resolve(nil, [:]) == nil)
            #expect(throws: StageExecutionError.self) { try resolve(nil, ["RAY_AUTH_TOKEN_PATH": dir + "/absent"]) }
        }
    }

    static let succeedingHead: @Sendable (FakeRayHead.Request) -> (Int, String) = { request in
        switch (request.method, request.uri) {
        case (.POST, _): return (200, #"{"submission_id": "x", "job_id": null}"#)
        case (_, let uri) where uri.hasSuffix("/logs"): return (200, #"{"logs": "hello from ray\n"}"#)
        default: return (200, #"{"status": "SUCCEEDED", "message": "done", "driver_exit_code": 0}"#)
        }
    }

    // MARK: - Against a real head (CAIRN_TEST_RAY_ADDRESS)

    @Test func aRayHeadIsConfiguredWhenCIRequiresOne() {
        #expect(
            !RayHead.required || RayHead.address != nil,
            "CAIRN_REQUIRE_RAY=1 but CAIRN_TEST_RAY_ADDRESS is unset: .ci/run should have started a Ray head")
    }
}

@Suite(.enabled(if: RayHead.address != nil, "CAIRN_TEST_RAY_ADDRESS is not set: no Ray head to run jobs on (.ci/run starts one)"))
struct RayJobsLiveTests {
    @Test func aJobSucceedsWithItsLogsEnvironmentAndDirectory() async throws {
        try await withScratch { dir in
            var stage = invocation(#"pwd; echo "greeting=$GREETING""#, in: dir)
            stage.runID = RayHead.uniqueRunID()
            stage.environment = ["GREETING": "hello ray"]
            let executor = try await RayHead.executor()
            #expect(executor.fingerprint.hasPrefix("ray:2."))
            let result = try await executor.run(stage)
            #expect(result == StageResult(exitStatus: 0, jobID: stage.submissionID))
            let logs = try String(contentsOfFile: stage.stdoutPath, encoding: .utf8)
            #expect(logs.contains("\(dir)\ngreeting=hello ray\n"), "\(logs)")
            #expect(try String(contentsOfFile: stage.stderrPath, encoding: .utf8).contains("SUCCEEDED"))
        }
    }

    @Test func aFailingJobReportsItsExitCode() async throws {
        try await withScratch { dir in
            var stage = invocation("echo about to fail; exit 7", in: dir)
            stage.runID = RayHead.uniqueRunID()
            let result = try await RayHead.executor().run(stage)
            #expect(result.exitStatus == 7)
            #expect(try String(contentsOfFile: stage.stdoutPath, encoding: .utf8).contains("about to fail"))
        }
    }

    @Test func submittingOneAttemptTwiceIsOneJob() async throws {
        try await withScratch { dir in
            var stage = invocation("echo $$ >> runs.txt", in: dir)
            stage.runID = RayHead.uniqueRunID()
            let executor = try await RayHead.executor()
            #expect(try await executor.run(stage).exitStatus == 0)
            #expect(try await executor.run(stage).exitStatus == 0)
            #expect(try String(contentsOfFile: dir + "/runs.txt", encoding: .utf8).split(separator: "\n").count == 1)
            let jobs = try await RayHead.getJSON("/api/jobs/") as? [[String: Any]] ?? []
            #expect(jobs.filter { $0["submission_id"] as? String == stage.submissionID }.count == 1)
        }
    }

    @Test func resourcesAreSentToRay() async throws {
        try await withScratch { dir in
            var stage = invocation("true", in: dir)
            stage.runID = RayHead.uniqueRunID()
            stage.resources = .init(cpus: 1, memory: 50_000_000)
            #expect(try await RayHead.executor().run(stage).exitStatus == 0)
            let job = try await RayHead.job(stage.submissionID)
            #expect((job["metadata"] as? [String: String])?["cairn_stage"] == "train")
            // The job's details do not show its resources; the actor Ray ran the entrypoint
            // under (its JobSupervisor) was scheduled with them.
            let actors = try await RayHead.getJSON("/api/v0/actors?detail=1&limit=10000") as? [String: Any]
            let list = ((actors?["data"] as? [String: Any])?["result"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
            let supervisor = try #require(list.first { $0["name"] as? String == "_ray_internal_job_actor_\(stage.submissionID)" })
            #expect(supervisor["required_resources"] as? [String: Double] == ["CPU": 1, "memory": 50_000_000])
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["RAY_AUTH_TOKEN"] != nil, "the head runs without token auth"))
    func aWrongTokenIsRefusedAndNotWorthRetrying() async throws {
        try await withScratch { dir in
            let executor = RayJobsExecutor(configuration: .init(address: try #require(RayHead.address), token: "not-the-token"))
            let error = try await #require(throws: StageExecutionError.self) { try await executor.run(invocation("true", in: dir)) }
            #expect(!error.transient && error.reason.contains("token was refused"), "\(error.reason)")
        }
    }

    @Test func cancellingStopsTheJob() async throws {
        try await withScratch { dir in
            var stage = invocation("echo started > started.txt; sleep 120", in: dir)
            stage.runID = RayHead.uniqueRunID()
            let executor = try await RayHead.executor()
            let submitted = stage
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await executor.run(submitted) }
                while !FileManager.default.fileExists(atPath: dir + "/started.txt") {
                    try await Task.sleep(for: .milliseconds(50))
                }
                group.cancelAll()
                await #expect(throws: CancellationError.self) { try await group.next() }
            }
            #expect(try await RayHead.job(stage.submissionID)["status"] as? String == "STOPPED")
        }
    }
}
