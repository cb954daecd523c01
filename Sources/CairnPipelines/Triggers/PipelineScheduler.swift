import CairnCore
import CairnStore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The clock-driven trigger sources, as one Service: at start-up it dispatches every pending
/// event (the replay that makes a trigger received before a kill -9 still run), then fires
/// each pipeline's cron `schedule` at its ticks and checks each `data:` path's hash on an
/// interval.
///
/// A schedule tick's dedupe key is its minute, so two schedulers (two replicas) firing one tick
/// start one run. Ticks that passed while the server was down, or before it started, are not
/// run: there is no catch-up; `backfill` runs past ticks explicitly.
///
/// With replicas on one database only the leader runs it (`Leadership`); a new leader
/// replays pending events again and starts its clock at the minute it took over.
public final class PipelineScheduler: Service, Sendable {
    public struct Options: Sendable {
        /// How often the clock is looked at (schedules fire within one tick of their minute).
        public var tick: Duration
        /// How often `data:` paths are hashed.
        public var dataInterval: Duration
        /// A backfill may ask for at most this many ticks.
        public var maxBackfillTicks: Int

        public init(tick: Duration = .seconds(1), dataInterval: Duration = .seconds(30), maxBackfillTicks: Int = 1000) {
            self.tick = tick
            self.dataInterval = dataInterval
            self.maxBackfillTicks = maxBackfillTicks
        }
    }

    struct State {
        /// The last minute whose ticks were considered; nil before the first pass.
        var lastMinute: Int64?
        var nextDataCheck: Int64 = 0
        /// The last hash seen per pipeline and data path, to skip unchanged paths cheaply.
        var dataHashes: [String: String] = [:]
        /// Schedules that failed to parse, reported once per expression.
        var badSchedules: Set<String> = []
    }

    let recorder: TriggerRecorder
    let registry: any PipelineTriggerRegistry
    let fingerprint: @Sendable (String) async throws -> String?
    let options: Options
    let logger: Logger
    let now: WallClock
    let leadership: any Leadership
    private let state = Mutex(State())
    /// Yields, once, what the leader does before its first pass (besides the replay).
    private let started:
        (stream: AsyncStream<@Sendable () async -> Void>, continuation: AsyncStream<@Sendable () async -> Void>.Continuation) =
            AsyncStream.makeStream()

    /// - Parameter fingerprint: the hash of a data path (nil when absent); by default
    ///   `DataFingerprint.sha256`, run on NIO's thread pool.
    public init(
        recorder: TriggerRecorder, registry: any PipelineTriggerRegistry, options: Options = Options(),
        fingerprint: (@Sendable (String) async throws -> String?)? = nil, logger: Logger, now: @escaping WallClock,
        leadership: any Leadership = AlwaysLeader()
    ) {
        self.leadership = leadership
        self.recorder = recorder
        self.registry = registry
        self.options = options
        self.logger = logger
        self.now = now
        self.fingerprint =
            fingerprint ?? { path in try await NIOThreadPool.singleton.runIfActive { try DataFingerprint.sha256(of: path) } }
    }

    /// Lets `run()` begin; call once the store is migrated and the dispatcher can run events.
    /// `prelude` runs each time this process becomes the leader, after the replay and before
    /// the first pass (the server reconciles model triggers and replays firing alerts there).
    public func start(prelude: @escaping @Sendable () async -> Void = {}) {
        started.continuation.yield(prelude)
        started.continuation.finish()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var prelude: (@Sendable () async -> Void)?
            for await body in self.started.stream {
                prelude = body
                break
            }
            guard let prelude else { return }
            await self.leadership.whileLeading {
                do {
                    let replayed = try await self.recorder.replayPending()
                    if replayed > 0 { self.logger.notice("Replayed pending trigger events", metadata: ["count": "\(replayed)"]) }
                } catch {
                    self.logger.error("Could not replay pending trigger events", metadata: ["error": "\(error)"])
                }
                await prelude()
                // A new term starts its clock afresh: the minute it took over is noted, not fired.
                self.state.withLock { $0.lastMinute = nil }
                while !Task.isCancelled {
                    await self.pass(at: self.now())
                    try await Task.sleep(for: self.options.tick)
                }
            }
        }
    }

    /// One look at the clock: fires the schedules whose tick is the current minute (when the
    /// minute is new since the last pass) and, when due, checks the data paths. The first pass
    /// only notes the minute: a tick before start-up is not run.
    public func pass(at time: Int64) async {
        let minute = CronSchedule.floorDiv(time, 60_000)
        let (fireMinute, checkData) = state.withLock { state -> (Int64?, Bool) in
            defer { state.lastMinute = minute }
            let due = time >= state.nextDataCheck
            if due { state.nextDataCheck = time + Self.milliseconds(options.dataInterval) }
            guard let last = state.lastMinute, minute > last else { return (nil, due) }
            return (minute, due)
        }
        guard fireMinute != nil || checkData else { return }
        let pipelines: [PipelineTriggers]
        do {
            pipelines = try await registry.pipelineTriggers()
        } catch {
            logger.error("Could not list pipelines' triggers", metadata: ["error": "\(error)"])
            return
        }
        if let fireMinute { await fireSchedules(pipelines, minute: fireMinute) }
        if checkData { await checkDataPaths(pipelines) }
    }

    func fireSchedules(_ pipelines: [PipelineTriggers], minute: Int64) async {
        for pipeline in pipelines {
            guard let expression = pipeline.schedule, let schedule = self.schedule(expression, of: pipeline.pipeline),
                schedule.matches(epochMinute: minute)
            else { continue }
            let tick = Self.isoMinute(minute)
            do {
                try await recorder.fire(
                    pipeline: pipeline.pipeline, kind: .schedule, dedupeKey: "schedule:\(tick)", payload: Self.object(["tick": tick]))
            } catch {
                logger.error("Could not store a schedule tick", metadata: ["pipeline": "\(pipeline.pipeline)", "error": "\(error)"])
            }
        }
    }

    private func schedule(_ expression: String, of pipeline: String) -> CronSchedule? {
        do {
            return try CronSchedule(expression)
        } catch {
            if state.withLock({ $0.badSchedules.insert(expression).inserted }) {
                logger.error("Pipeline schedule cannot be read", metadata: ["pipeline": "\(pipeline)", "error": "\(error.message)"])
            }
            return nil
        }
    }

    func checkDataPaths(_ pipelines: [PipelineTriggers]) async {
        for pipeline in pipelines {
            for case .dataChanged(let path) in pipeline.triggers {
                let absolute = path.hasPrefix("/") ? path : pipeline.projectDirectory + "/" + path
                let key = "\(pipeline.pipeline)\u{0}\(path)"
                do {
                    guard let hash = try await fingerprint(absolute) else { continue }
                    let previous = state.withLock { $0.dataHashes[key] }
                    guard previous != hash else { continue }
                    let payload = Self.object(["path": path, "hash": hash])
                    if previous == nil, try await !recorder.hasEvents(pipeline: pipeline.pipeline, dedupePrefix: "data:\(path):") {
                        // The first hash ever seen is the baseline: data that was there when
                        // the trigger was set up is not news.
                        try await recorder.recordBaseline(
                            pipeline: pipeline.pipeline, kind: .dataChanged, dedupeKey: "data:\(path):\(hash)", payload: payload,
                            reason: "the first hash seen for \(path); later changes trigger runs")
                    } else {
                        try await recorder.fire(
                            pipeline: pipeline.pipeline, kind: .dataChanged, dedupeKey: "data:\(path):\(hash)", payload: payload)
                    }
                    state.withLock { $0.dataHashes[key] = hash }
                } catch {
                    logger.warning(
                        "Could not check a data trigger",
                        metadata: ["pipeline": "\(pipeline.pipeline)", "path": "\(path)", "error": "\(error)"])
                }
            }
        }
    }

    /// Stores and dispatches one `backfill` event per tick of the pipeline's schedule in
    /// `[from, to]` (milliseconds), oldest first. Explicit, unlike the schedule's missed ticks;
    /// a tick already backfilled is not stored twice.
    public func backfill(pipeline name: String, from: Int64, to: Int64) async throws -> [TriggerEvent] {
        guard let pipeline = try await registry.pipelineTriggers().first(where: { $0.pipeline == name }) else {
            throw CairnError.notFound("Pipeline '\(name)' does not exist.")
        }
        guard let expression = pipeline.schedule else {
            throw CairnError.invalidParameter("Pipeline '\(name)' has no schedule to backfill.")
        }
        guard from <= to else { throw CairnError.invalidParameter("Backfill: 'from' must not be after 'to'.") }
        let schedule = try CronSchedule(expression)
        var ticks: [Int64] = []
        var cursor = from - 1
        while let next = schedule.next(after: cursor), next <= to {
            ticks.append(next)
            guard ticks.count <= options.maxBackfillTicks else {
                throw CairnError.invalidParameter(
                    "Backfill of '\(name)' from \(Self.isoMinute(from / 60_000)) to \(Self.isoMinute(to / 60_000)) has more than \(options.maxBackfillTicks) ticks; ask for a shorter range."
                )
            }
            cursor = next
        }
        var events: [TriggerEvent] = []
        for tick in ticks {
            let text = Self.isoMinute(tick / 60_000)
            events.append(
                try await recorder.fire(
                    pipeline: name, kind: .backfill, dedupeKey: "backfill:\(text)", payload: Self.object(["tick": text])))
        }
        return events
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// `2026-01-31T12:05Z`.
    static func isoMinute(_ minute: Int64) -> String {
        let time = CivilTime(epochMinute: minute)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(time.year, 4))-\(pad(time.month))-\(pad(time.day))T\(pad(time.hour)):\(pad(time.minute))Z"
    }

    static func object(_ fields: KeyValuePairs<String, String>) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in fields {
            writer.key(key)
            writer.string(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
