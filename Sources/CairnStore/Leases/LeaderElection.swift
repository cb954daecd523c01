import CairnCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Elects one leader among the replicas on one database through a `LeaderLease`, as a
/// Service: it takes the lease when it is free and renews it every `renewInterval`; the
/// lease lasts `leaseDuration` by the database's clock.
///
/// Safety rests on one inequality: this process counts its leadership as valid until
/// `stopMargin` before the lease's end, measured from the moment it *sent* the renewal, on
/// its own monotonic clock; the database counts the lease from the moment it ran the
/// statement, which is later. So a leader whose renewals fail (the database unreachable, the
/// call hanging) stops its work, cancelled by `whileLeading`, before anyone else can take the
/// lease. A process killed outright releases nothing: its lease expires and another replica,
/// asking every `renewInterval`, takes over within `leaseDuration + renewInterval`. A graceful
/// stop releases the lease once the leader-only services (stopped before this one) are done.
///
/// Every replica, leading or not, also keeps a lease of its own (`replica/<holder>`) renewed
/// in the same beat: while it runs, the work it hosts (pipeline runs) is its own, and once it
/// has expired the leader treats that work as interrupted.
public final class LeaderElection: Leadership, Service, Sendable {
    public struct Timing: Sendable {
        public var leaseDuration: Duration
        public var renewInterval: Duration
        /// How long before the lease's end leader work is cancelled.
        public var stopMargin: Duration
        /// How often a waiting `whileLeading` looks at the state.
        public var pollInterval: Duration

        /// The defaults: a dead leader is replaced within about 10 s; a leader survives three
        /// failed renewals in a row.
        public init(
            leaseDuration: Duration = .seconds(8), renewInterval: Duration = .seconds(2), stopMargin: Duration = .seconds(1),
            pollInterval: Duration = .milliseconds(100)
        ) {
            self.leaseDuration = leaseDuration
            self.renewInterval = renewInterval
            self.stopMargin = stopMargin
            self.pollInterval = pollInterval
        }

        /// Renewals must come well inside the lease, or the leader would drop out between them.
        public var isValid: Bool {
            leaseDuration > .zero && renewInterval > .zero && stopMargin >= .zero && pollInterval > .zero
                && renewInterval * 2 <= leaseDuration - stopMargin
        }
    }

    public let name: String
    /// This process's identity in the lease: unique per process start.
    public let holderName: String
    let lease: any LeaderLease
    let timing: Timing
    let logger: Logger
    /// Until when (monotonic) this process may act as the leader; nil when it does not lead.
    private let validUntil = Mutex<ContinuousClock.Instant?>(nil)
    /// Whether a renewal was ever sent (nothing to release otherwise).
    private let renewing = Mutex(false)
    /// Opened by `start()`: the lease table exists only once migrations have run.
    private let started: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) = AsyncStream.makeStream()

    public init(name: String = "leader", holder: String, lease: any LeaderLease, timing: Timing = Timing(), logger: Logger) {
        precondition(timing.isValid, "LeaderElection: renewInterval * 2 must fit in leaseDuration - stopMargin")
        self.name = name
        self.holderName = holder
        self.lease = lease
        self.timing = timing
        self.logger = logger
    }

    /// A holder name for this process: `host:pid:random`, unique per start (a restarted
    /// replica is a new holder; its old lease expires or is released) and readable in
    /// `cairn_leases` by whoever wants to know which replica leads.
    public static func processHolder() -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "host"
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(CairnID.make().prefix(12))"
    }

    public var holder: String? { holderName }

    static func replicaLease(_ holder: String) -> String { "replica/" + holder }

    public func isAlive(host: String) async -> Bool {
        if host == holderName { return true }
        do {
            return try await lease.holder(name: Self.replicaLease(host)) == host
        } catch {
            // Unknown counts as alive: better a dead replica's run left RUNNING a while longer
            // than a live one's marked interrupted.
            logger.warning("Could not read a replica's lease", metadata: ["host": "\(host)", "error": "\(error)"])
            return true
        }
    }

    public var isLeading: Bool {
        validUntil.withLock { until in until.map { ContinuousClock.now < $0 } ?? false }
    }

    /// One attempt to take or renew the lease (what `run` does every `renewInterval`); returns
    /// whether this process leads afterwards. A failed call keeps the leadership already
    /// earned, which then ends at its deadline unless a later renewal succeeds.
    @discardableResult
    public func renew() async -> Bool {
        let sent = ContinuousClock.now
        let wasLeading = isLeading
        renewing.withLock { $0 = true }
        let held: Bool
        do {
            // This replica's own lease first: it lives whether or not it leads.
            _ = try await lease.acquire(name: Self.replicaLease(holderName), holder: holderName, duration: timing.leaseDuration)
            held = try await lease.acquire(name: name, holder: holderName, duration: timing.leaseDuration)
        } catch {
            let leading = isLeading
            logger.warning(
                "Could not renew the leader lease",
                metadata: ["lease": "\(name)", "leading": "\(leading)", "error": "\(error)"])
            return leading
        }
        validUntil.withLock { $0 = held ? sent + timing.leaseDuration - timing.stopMargin : nil }
        let leading = isLeading
        if leading != wasLeading {
            logger.notice(
                leading ? "Leading: running the work that must happen once" : "No longer leading",
                metadata: ["lease": "\(name)", "holder": "\(holderName)"])
        }
        return leading
    }

    /// Lets `run()` begin its renewals; call once the database is migrated.
    public func start() {
        started.continuation.yield()
        started.continuation.finish()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in self.started.stream { break }
            while !Task.isCancelled {
                await self.renew()
                try await Task.sleep(for: self.timing.renewInterval)
            }
        }
        let wasLeading = isLeading
        validUntil.withLock { $0 = nil }
        guard renewing.withLock({ $0 }) else { return }
        // The services that lead stop before this one, so the lease is free to pass at once.
        // Run outside the cancelled task, so the database call is not refused.
        await Task { [lease, name, holderName, logger] in
            do {
                if wasLeading { try await lease.release(name: name, holder: holderName) }
                try await lease.release(name: Self.replicaLease(holderName), holder: holderName)
            } catch {
                logger.warning("Could not release the leader lease; it expires on its own", metadata: ["error": "\(error)"])
            }
        }.value
    }

    public func whileLeading(_ work: @escaping @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            while !isLeading {
                do { try await Task.sleep(for: timing.pollInterval) } catch { return }
            }
            let logger = self.logger
            let workFinished = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        try await work()
                    } catch let error where !(error is CancellationError) {
                        logger.error("Leader work failed", metadata: ["error": "\(error)"])
                    } catch {}
                    return true
                }
                group.addTask {
                    await self.waitUntilNotLeading()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            // A one-off job that finished waits for the next term, not the next poll.
            if workFinished { await waitUntilNotLeading() }
        }
    }

    /// Returns once this process's leadership has ended (or the task is cancelled).
    func waitUntilNotLeading() async {
        while !Task.isCancelled {
            guard let until = validUntil.withLock({ $0 }) else { return }
            let now = ContinuousClock.now
            guard now < until else { return }
            do {
                try await Task.sleep(until: min(until, now + timing.pollInterval), clock: .continuous)
            } catch {
                return
            }
        }
    }
}
