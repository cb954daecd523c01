import AsyncHTTPClient
import CairnClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs a stage as a Ray job through the Jobs REST API of a Ray head's dashboard
/// (`POST /api/jobs/`, poll `GET /api/jobs/{id}`, `GET …/logs`, `POST …/stop`).
///
/// The job's entrypoint is `cd <wdir> && <command>`: Ray moves no files, so the project
/// directory must be on a path every node sees. The submission id is the attempt's
/// (`StageInvocation.submissionID`), so submitting one attempt twice (after a lost answer, or
/// a server restart) is one job: Ray's "already exists" answer means "go on watching it".
/// Ray does not retry jobs; the engine does, with the next attempt's id.
public struct RayJobsExecutor: StageExecutor {
    public struct Configuration: Sendable {
        /// The dashboard's address, e.g. `http://127.0.0.1:8265`.
        public var address: String
        /// Sent as `Authorization: Bearer` (Ray's token authentication).
        public var token: String?
        /// The first wait between status polls; it grows by half each poll up to `maximumPollInterval`.
        public var pollInterval: Duration
        public var maximumPollInterval: Duration
        /// How long a cancelled stage waits for its stopped job to end before giving up on it.
        public var stopTimeout: Duration
        /// Any one call to the head.
        public var requestTimeout: Duration
        /// Consecutive failed status polls (head unreachable, 5xx) tolerated before the attempt fails.
        public var pollFailureLimit: Int

        public init(
            address: String, token: String? = nil, pollInterval: Duration = .milliseconds(200),
            maximumPollInterval: Duration = .seconds(1), stopTimeout: Duration = .seconds(30), requestTimeout: Duration = .seconds(30),
            pollFailureLimit: Int = 5
        ) {
            self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
            self.token = token
            self.pollInterval = pollInterval
            self.maximumPollInterval = maximumPollInterval
            self.stopTimeout = stopTimeout
            self.requestTimeout = requestTimeout
            self.pollFailureLimit = pollFailureLimit
        }

        /// The token as Ray's own clients find it: `token` if given, else `RAY_AUTH_TOKEN`, else
        /// the file named by `RAY_AUTH_TOKEN_PATH` (trimmed). Throws if that file cannot be read.
        public static func resolveToken(_ token: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
            -> String?
        {
            if let token, !token.isEmpty { return token }
            if let token = environment["RAY_AUTH_TOKEN"], !token.isEmpty { return token }
            guard let path = environment["RAY_AUTH_TOKEN_PATH"], !path.isEmpty else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StageExecutionError(stage: "", reason: "RAY_AUTH_TOKEN_PATH names \(path), which cannot be read", transient: false)
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return token.isEmpty ? nil : token
        }
    }

    public var name: String { "ray" }
    /// `ray`, and the head's Ray version when known (`connect` asks for it): jobs run by another
    /// Ray version are another result.
    public var fingerprint: String { rayVersion.map { "ray:\($0)" } ?? "ray" }

    public let configuration: Configuration
    public let rayVersion: String?
    /// Called once the job is submitted (or found already submitted), with its submission id.
    public var onStart: (@Sendable (StageInvocation, String) -> Void)?
    private let http: HTTPClient

    /// Without retries of failed connections, so a head that is down fails fast.
    static let sharedHTTPClient: HTTPClient = {
        var configuration = CairnClient.httpConfiguration(insecureTLS: false)
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(
        configuration: Configuration, rayVersion: String? = nil, httpClient: HTTPClient? = nil,
        onStart: (@Sendable (StageInvocation, String) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.rayVersion = rayVersion
        self.http = httpClient ?? Self.sharedHTTPClient
        self.onStart = onStart
    }

    /// An executor for the head at `configuration.address`, after asking it its version
    /// (`GET /api/version`), which also checks that it is up and takes the token.
    public static func connect(
        _ configuration: Configuration, httpClient: HTTPClient? = nil, onStart: (@Sendable (StageInvocation, String) -> Void)? = nil
    ) async throws -> RayJobsExecutor {
        let probe = RayJobsExecutor(configuration: configuration, httpClient: httpClient)
        let version = try await probe.version(stage: "")
        return RayJobsExecutor(configuration: configuration, rayVersion: version, httpClient: httpClient, onStart: onStart)
    }

    /// The head's Ray version.
    public func version(stage: String) async throws -> String {
        let response = try await call(.GET, "/api/version", stage: stage)
        guard response.status == .ok, let version = try? JSONDecoder().decode(VersionResponse.self, from: Data(response.body)) else {
            throw failure(response, "GET /api/version", stage: stage)
        }
        return version.rayVersion
    }

    public func run(_ invocation: StageInvocation) async throws -> StageResult {
        let id = invocation.submissionID
        let job: JobDetails
        do {
            try await submit(invocation)
            onStart?(invocation, id)
            job = try await waitUntilTerminal(id, stage: invocation.stage)
        } catch {
            guard Task.isCancelled || error is CancellationError else { throw error }
            // This task is cancelled, and AsyncHTTPClient would cancel any call made from it at
            // once; the stop and the wait for it run in a task of their own, awaited here.
            let executor = self
            await Task { await executor.stop(id, stage: invocation.stage) }.value
            throw CancellationError()
        }
        let logs = try await self.logs(id, stage: invocation.stage)
        let message = job.message.map { $0.isEmpty ? "" : ": \($0)" } ?? ""
        let note = "Ray job \(id) on \(configuration.address): \(job.status)\(message)"
        let stdoutPath = invocation.stdoutPath
        let stderrPath = invocation.stderrPath
        let stage = invocation.stage
        try await NIOThreadPool.singleton.runIfActive {
            do {
                try Data(logs.utf8).write(to: URL(fileURLWithPath: stdoutPath))
                try Data((note + "\n").utf8).write(to: URL(fileURLWithPath: stderrPath))
            } catch {
                throw StageExecutionError(
                    stage: stage, reason: "cannot write the job's logs: \(error.localizedDescription)", transient: false)
            }
        }
        return StageResult(exitStatus: job.exitStatus, jobID: id)
    }

    // MARK: - Jobs API

    private func submit(_ invocation: StageInvocation) async throws {
        var environment = invocation.environment
        environment[LocalExecutor.submissionIDVariable] = invocation.submissionID
        let request = SubmitRequest(
            entrypoint: Self.entrypoint(command: invocation.command, workingDirectory: invocation.workingDirectory),
            submissionID: invocation.submissionID,
            runtimeEnv: .init(envVars: environment),
            metadata: ["cairn_run": invocation.runID, "cairn_stage": invocation.stage, "cairn_attempt": String(invocation.attempt)],
            entrypointNumCpus: invocation.resources.cpus,
            entrypointNumGpus: invocation.resources.gpus > 0 ? invocation.resources.gpus : nil,
            entrypointMemory: invocation.resources.memory)
        let response = try await call(.POST, "/api/jobs/", body: try JSONEncoder().encode(request), stage: invocation.stage)
        if response.status == .ok { return }
        // Ray's answer to a second submit of one id: "Job with submission_id … already exists",
        // a 400 in Ray's docs, a 500 with the ValueError's traceback from Ray 2.60's head.
        if response.status == .badRequest || response.status == .internalServerError,
            response.text.contains("submission_id \(invocation.submissionID) already exists")
        {
            return
        }
        throw failure(response, "POST /api/jobs/", stage: invocation.stage)
    }

    /// One look at the job: its details, or why the head could not say this time (unreachable,
    /// a 5xx), which is worth asking again. Other answers (404: the job vanished; 401/403) throw.
    private func poll(_ id: String, stage: String) async throws -> Result<JobDetails, StageExecutionError> {
        let what = "GET /api/jobs/\(id)"
        let response: Response
        do {
            response = try await call(.GET, "/api/jobs/\(id)", stage: stage)
        } catch let error as StageExecutionError where error.transient {
            return .failure(error)
        }
        if response.status.code >= 500 { return .failure(failure(response, what, stage: stage)) }
        guard response.status == .ok else { throw failure(response, what, stage: stage) }
        do {
            return .success(try JSONDecoder().decode(JobDetails.self, from: Data(response.body)))
        } catch {
            throw StageExecutionError(
                stage: stage,
                reason: "\(configuration.address) answered \(what) with something that is not a job: \(response.text.prefix(200))",
                transient: false)
        }
    }

    private func waitUntilTerminal(_ id: String, stage: String) async throws -> JobDetails {
        var interval = configuration.pollInterval
        var misses = 0
        while true {
            switch try await poll(id, stage: stage) {
            case .success(let job):
                if job.isTerminal { return job }
                misses = 0
            case .failure(let error):
                // A blip (a dashboard restart) between polls of a job that keeps running is
                // forgiven; a head that stays away fails the attempt.
                misses += 1
                if misses >= configuration.pollFailureLimit { throw error }
            }
            try await Task.sleep(for: interval)
            interval = min(interval * 1.5, configuration.maximumPollInterval)
        }
    }

    private func logs(_ id: String, stage: String) async throws -> String {
        let response = try await call(.GET, "/api/jobs/\(id)/logs", stage: stage)
        guard response.status == .ok else { throw failure(response, "GET /api/jobs/\(id)/logs", stage: stage) }
        return (try? JSONDecoder().decode(LogsResponse.self, from: Data(response.body)))?.logs ?? ""
    }

    /// Asks Ray to stop the job and waits (up to `stopTimeout`) until it is terminal. Best
    /// effort: the attempt is being cancelled either way.
    private func stop(_ id: String, stage: String) async {
        guard let response = try? await call(.POST, "/api/jobs/\(id)/stop", stage: stage), response.status == .ok else { return }
        let deadline = ContinuousClock.now + configuration.stopTimeout
        var interval = configuration.pollInterval
        while ContinuousClock.now < deadline {
            if case .success(let job)? = try? await poll(id, stage: stage), job.isTerminal { return }
            try? await Task.sleep(for: interval)
            interval = min(interval * 1.5, configuration.maximumPollInterval)
        }
    }

    // MARK: - HTTP

    struct Response {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data? = nil, stage: String) async throws -> Response {
        let url = configuration.address + path
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if let token = configuration.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await http.execute(
                request, timeout: TimeAmount.nanoseconds(Int64(configuration.requestTimeout / .nanoseconds(1))))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return Response(status: response.status, body: Array(buffer: bytes))
        } catch let error as CancellationError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw StageExecutionError(
                stage: stage, reason: "the Ray head at \(configuration.address) \(Self.describe(error)) (\(method) \(path))",
                transient: true)
        }
    }

    /// An answer that is not the expected one, as an error naming the head and the call.
    private func failure(_ response: Response, _ what: String, stage: String) -> StageExecutionError {
        let detail = response.text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300)
        let at = "the Ray head at \(configuration.address)"
        switch response.status.code {
        case 401, 403:
            let why =
                configuration.token == nil ? "no token was sent (set RAY_AUTH_TOKEN or the executor's token)" : "the token was refused"
            return StageExecutionError(
                stage: stage, reason: "\(at) answered \(what) with \(response.status.code): \(why)", transient: false)
        case 404:
            return StageExecutionError(
                stage: stage,
                reason:
                    "\(at) answered \(what) with 404: the job is unknown (did the head restart and lose it?)\(detail.isEmpty ? "" : ": \(detail)")",
                transient: true)
        case 500...:
            return StageExecutionError(
                stage: stage, reason: "\(at) failed \(what) with \(response.status.code): \(detail)", transient: true)
        default:
            return StageExecutionError(
                stage: stage, reason: "\(at) refused \(what) with \(response.status.code): \(detail)", transient: false)
        }
    }

    /// What a transport failure means, in a few words.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .connectTimeout:
            return "did not accept a connection in time"
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return "did not answer in time"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "closed the connection without an answer"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return "refused the connection (is it running?)"
        case is NIOConnectionError:
            let text = "\(error)"
            return text.contains("connection refused") || text.contains("ECONNREFUSED") || text.contains("errno: 111")
                ? "refused the connection (is it running?)" : "cannot be reached: \(text)"
        default:
            return "cannot be reached: \(error)"
        }
    }

    /// `cd <dir> && <command>`, the command in braces so that a top-level `||` or `;` in it
    /// does not bind to the `cd`, and on lines of its own so that a trailing `&` or comment
    /// stays legal.
    public static func entrypoint(command: String, workingDirectory: String) -> String {
        "cd \(shellQuoted(workingDirectory)) && {\n\(command)\n}"
    }

    /// The exit status a job's details (`GET /api/jobs/{id}`, JSON) stand for: SUCCEEDED is 0,
    /// FAILED the entrypoint's exit code when Ray reports it (`driver_exit_code`) else 1,
    /// STOPPED 143 (what SIGTERM gives a local process).
    public static func exitStatus(ofJob json: Data) throws -> Int32 {
        try JSONDecoder().decode(JobDetails.self, from: json).exitStatus
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}

// MARK: - Wire types (ray-project/ray, doc/…/job-submission/openapi.yml)

struct SubmitRequest: Encodable {
    struct RuntimeEnv: Encodable {
        var envVars: [String: String]
        enum CodingKeys: String, CodingKey { case envVars = "env_vars" }
    }
    var entrypoint: String
    var submissionID: String
    var runtimeEnv: RuntimeEnv
    var metadata: [String: String]
    var entrypointNumCpus: Double
    var entrypointNumGpus: Double?
    var entrypointMemory: Int64?

    enum CodingKeys: String, CodingKey {
        case entrypoint, metadata
        case submissionID = "submission_id"
        case runtimeEnv = "runtime_env"
        case entrypointNumCpus = "entrypoint_num_cpus"
        case entrypointNumGpus = "entrypoint_num_gpus"
        case entrypointMemory = "entrypoint_memory"
    }
}

struct JobDetails: Decodable {
    var status: String
    var message: String?
    var driverExitCode: Int32?

    enum CodingKeys: String, CodingKey {
        case status, message
        case driverExitCode = "driver_exit_code"
    }

    var isTerminal: Bool { ["SUCCEEDED", "FAILED", "STOPPED"].contains(status) }

    /// SUCCEEDED is 0; FAILED is the entrypoint's exit code when Ray knows it (it does not when
    /// the job failed before or around its driver), else 1; STOPPED is what SIGTERM gives.
    var exitStatus: Int32 {
        switch status {
        case "SUCCEEDED": return 0
        case "STOPPED": return 143
        default:
            if let code = driverExitCode, code != 0 { return code }
            return 1
        }
    }
}

struct VersionResponse: Decodable {
    var rayVersion: String
    enum CodingKeys: String, CodingKey { case rayVersion = "ray_version" }
}

struct LogsResponse: Decodable {
    var logs: String
}
