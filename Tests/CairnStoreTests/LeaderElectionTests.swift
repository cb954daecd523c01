import CairnCore
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

@testable import CairnStore

/// The lease's contract, written once and checked on SQLite here and on PostgreSQL below.
enum LeaderLeaseContract {
    static func check(_ lease: any LeaderLease) async throws {
        let long = Duration.seconds(60)
        #expect(try await lease.holder(name: "a") == nil)
        #expect(try await lease.acquire(name: "a", holder: "one", duration: long))
        #expect(try await lease.holder(name: "a") == "one")
        // Another holder is refused while the lease runs; the holder renews.
        #expect(try await !lease.acquire(name: "a", holder: "two", duration: long))
        #expect(try await lease.acquire(name: "a", holder: "one", duration: long))
        // Names are independent.
        #expect(try await lease.acquire(name: "b", holder: "two", duration: long))
        // Only the holder releases; a released lease is free at once.
        try await lease.release(name: "a", holder: "two")
        #expect(try await lease.holder(name: "a") == "one")
        try await lease.release(name: "a", holder: "one")
        #expect(try await lease.holder(name: "a") == nil)
        #expect(try await lease.acquire(name: "a", holder: "two", duration: long))
        // An expired lease passes to whoever asks next.
        #expect(try await lease.acquire(name: "c", holder: "one", duration: .milliseconds(1)))
        while try await lease.holder(name: "c") != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await lease.acquire(name: "c", holder: "two", duration: long))
        #expect(try await lease.holder(name: "c") == "two")
        #expect(try await !lease.acquire(name: "c", holder: "one", duration: long))
    }
}

/// A lease whose calls can be made to fail (the database unreachable) or to report what the
/// real one answered.
final class SwitchableLease: LeaderLease {
    let base: any LeaderLease
    let failing = Mutex(false)

    init(base: any LeaderLease) { self.base = base }

    struct Unreachable: Error {}

    func acquire(name: String, holder: String, duration: Duration) async throws -> Bool {
        if failing.withLock({ $0 }) { throw Unreachable() }
        return try await base.acquire(name: name, holder: holder, duration: duration)
    }

    func release(name: String, holder: String) async throws {
        if failing.withLock({ $0 }) { throw Unreachable() }
        try await base.release(name: name, holder: holder)
    }

    func holder(name: String) async throws -> String? { try await base.holder(name: name) }
}

@Suite struct LeaderLeaseSQLiteTests {
    @Test func sqliteLeaseHonoursTheContract() async throws {
        let fixture = try await StoreFixture.make()
        do {
            try await LeaderLeaseContract.check(SQLLeaderLease(database: fixture.database))
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    @Test func timingMustLeaveRoomForRenewals() {
        #expect(LeaderElection.Timing().isValid)
        #expect(!LeaderElection.Timing(leaseDuration: .seconds(4), renewInterval: .seconds(2), stopMargin: .seconds(1)).isValid)
        #expect(LeaderElection.Timing(leaseDuration: .seconds(5), renewInterval: .seconds(2), stopMargin: .seconds(1)).isValid)
    }

    @Test func alwaysLeaderRunsWorkOnceAndReturnsWhenCancelled() async throws {
        let runs = Mutex(0)
        let task = Task { await AlwaysLeader().whileLeading { runs.withLock { $0 += 1 } } }
        while runs.withLock({ $0 }) == 0 { await Task.yield() }
        task.cancel()
        await task.value
        #expect(runs.withLock { $0 } == 1)
    }
}

/// Elections on PostgreSQL, each in a database of its own.
@Suite(.enabled(if: FreshPostgresDatabase.serverURL != nil))
struct LeaderElectionPostgresTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Short leases so expiry takes seconds, yet long enough that a renewal slowed by a busy
    /// machine (tests run in parallel) still lands inside its term; nothing waits on a fixed time.
    static let fast = LeaderElection.Timing(
        leaseDuration: .seconds(3), renewInterval: .milliseconds(250), stopMargin: .seconds(1), pollInterval: .milliseconds(10))

    func election(_ lease: any LeaderLease, _ holder: String, timing: LeaderElection.Timing = fast) -> LeaderElection {
        LeaderElection(name: "leader", holder: holder, lease: lease, timing: timing, logger: quiet)
    }

    @Test func postgresLeaseHonoursTheContract() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            try await LeaderLeaseContract.check(SQLLeaderLease(database: database))
        }
    }

    @Test func ofTwoElectorsOnlyOneLeads() async throws {
        try await FreshPostgresDatabase.with { url in
            // Two clients, as two replicas would have.
            let first = try PostgresMetadataDatabase(url: url, logger: quiet)
            let second = try PostgresMetadataDatabase(url: url, logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await first.run() }
                group.addTask { try await second.run() }
                defer { group.cancelAll() }
                let long = LeaderElection.Timing(leaseDuration: .seconds(60), renewInterval: .seconds(10), stopMargin: .seconds(5))
                // Racing for a free lease, many times over: exactly one wins each race.
                for round in 0..<20 {
                    let a = LeaderElection(
                        name: "race-\(round)", holder: "a", lease: SQLLeaderLease(database: first), timing: long, logger: quiet)
                    let b = LeaderElection(
                        name: "race-\(round)", holder: "b", lease: SQLLeaderLease(database: second), timing: long, logger: quiet)
                    async let wonA = a.renew()
                    async let wonB = b.renew()
                    let (x, y) = await (wonA, wonB)
                    #expect(x != y, "round \(round): a \(x), b \(y)")
                    #expect(a.isLeading == x && b.isLeading == y)
                    // Renewals keep it where it is.
                    #expect(await a.renew() == x)
                    #expect(await b.renew() == y)
                }
            }
        }
    }

    @Test func whenTheLeaderStopsRenewingTheOtherTakesOverAfterExpiry() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let lease = SQLLeaderLease(database: database)
            let leader = election(lease, "leader")
            let follower = election(lease, "follower")
            #expect(await leader.renew())
            #expect(await !follower.renew())
            // The leader goes silent (killed: nothing released). The follower keeps asking.
            var leaderStillLeadingAtTakeover = true
            while true {
                if await follower.renew() {
                    leaderStillLeadingAtTakeover = leader.isLeading
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            // The old leader had already stopped by its own clock when the lease passed.
            #expect(!leaderStillLeadingAtTakeover)
            #expect(try await lease.holder(name: "leader") == "follower")
            #expect(await !leader.renew())
            #expect(!leader.isLeading)
        }
    }

    @Test func aLeaderWhoseRenewalsFailStopsItsWorkBeforeTheLeaseCanPass() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let real = SQLLeaderLease(database: database)
            let lease = SwitchableLease(base: real)
            // A wide margin: the check that the lease is still its own runs after the stop.
            let leader = election(
                lease, "leader",
                timing: LeaderElection.Timing(
                    leaseDuration: .seconds(3), renewInterval: .milliseconds(200), stopMargin: .milliseconds(1400),
                    pollInterval: .milliseconds(10)))
            let (events, sink) = AsyncStream.makeStream(of: String.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await leader.run() }
                leader.start()
                group.addTask {
                    await leader.whileLeading {
                        sink.yield("started")
                        do {
                            while true { try await Task.sleep(for: .seconds(3600)) }
                        } catch {
                            sink.yield("stopped")
                            throw error
                        }
                    }
                }
                defer { group.cancelAll() }
                var iterator = events.makeAsyncIterator()
                #expect(await iterator.next() == "started")
                lease.failing.withLock { $0 = true }
                #expect(await iterator.next() == "stopped")
                // Stopped while the lease, by the database's clock, was still its own.
                let holderAtStop = try await real.holder(name: "leader")
                #expect(holderAtStop == "leader")
                #expect(!leader.isLeading)
                // Back in contact, it leads again and its work starts again.
                lease.failing.withLock { $0 = false }
                #expect(await iterator.next() == "started")
            }
        }
    }

    @Test func workMovesToTheOtherElectorWhenTheLeaderDies() async throws {
        try await FreshPostgresDatabase.withDatabase { database in
            let lease = SQLLeaderLease(database: database)
            let (events, sink) = AsyncStream.makeStream(of: String.self)
            func replica(_ name: String) -> (LeaderElection, @Sendable () async throws -> Void) {
                let elector = election(lease, name)
                return (
                    elector,
                    {
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { try await elector.run() }
                            elector.start()
                            group.addTask {
                                await elector.whileLeading {
                                    sink.yield(name)
                                    while true { try await Task.sleep(for: .seconds(3600)) }
                                }
                            }
                            try await group.waitForAll()
                        }
                    }
                )
            }
            let (_, runA) = replica("a")
            let (_, runB) = replica("b")
            var iterator = events.makeAsyncIterator()
            let a = Task { try await runA() }
            let first = await iterator.next()
            let b = Task { try await runB() }
            #expect(first == "a")
            // "Kill" a: its task is cancelled mid-term; the graceful release is what the
            // election does on the way out, so b takes over without waiting for expiry.
            a.cancel()
            #expect(await iterator.next() == "b")
            b.cancel()
            _ = try? await a.value
            _ = try? await b.value
        }
    }

    /// Servers started together on an empty database all come up: every one's migration
    /// run succeeds (the advisory lock serialises them), and the schema is applied once.
    @Test func manyServersMigrateAnEmptyDatabaseTogether() async throws {
        try await FreshPostgresDatabase.with(migrated: false) { url in
            let databases = try (0..<6).map { _ in try PostgresMetadataDatabase(url: url, logger: quiet) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for database in databases { group.addTask { try await database.run() } }
                defer { group.cancelAll() }
                try await withThrowingTaskGroup(of: Void.self) { migrations in
                    for (index, database) in databases.enumerated() {
                        migrations.addTask { try await Migrations.run(on: database, logger: quiet, now: Int64(index + 1)) }
                    }
                    try await migrations.waitForAll()
                }
                #expect(try await MigrationTests.appliedVersions(databases[0]) == Migrations.all.map(\.version))
                let defaults = try await databases[0].read { sql in
                    try await sql.raw("SELECT COUNT(*) AS n FROM experiments WHERE experiment_id = 0").first()?.decode(
                        column: "n", as: Int.self)
                }
                #expect(defaults == 1)
            }
        }
    }
}
