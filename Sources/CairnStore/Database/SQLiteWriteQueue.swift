import SQLKit
import Synchronization

/// Group commit for SQLite's single writer.
///
/// Writers queue their transaction bodies here. Whoever finds no batch running becomes the
/// leader: it takes every queued body, runs each inside its own savepoint within one
/// `BEGIN IMMEDIATE … COMMIT`, and wakes their owners once the commit is done. A body that
/// throws is rolled back to its savepoint alone, so each caller still sees exactly its own
/// transaction succeed or fail and nothing is ever half-written. Under load the commit cost
/// (the WAL append) is shared by everything that arrived while the previous batch ran; at
/// low load a batch is one body and nothing waits.
///
/// After its batch, a leader hands the lead to the owner of the oldest queued body instead
/// of draining forever, so no caller's latency grows with the length of a burst.
final class SQLiteWriteQueue: Sendable {
    private let database: any SQLDatabase
    private let state = Mutex(State())

    private struct State {
        var pending: [Work] = []
        var leaderActive = false
    }

    init(database: any SQLDatabase) {
        self.database = database
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        let work = Work { database in
            do {
                try await database.raw("SAVEPOINT cairn_write").run()
            } catch {
                outcome.set(.failure(error))
                return
            }
            do {
                let value = try await body(database)
                try await database.raw("RELEASE cairn_write").run()
                outcome.set(.success(value))
            } catch {
                try? await database.raw("ROLLBACK TO cairn_write").run()
                try? await database.raw("RELEASE cairn_write").run()
                outcome.set(.failure(error))
            }
        } fail: { error in
            outcome.set(.failure(error))
        }
        let leads = state.withLock { state in
            state.pending.append(work)
            if state.leaderActive { return false }
            state.leaderActive = true
            return true
        }
        var leading = leads
        if !leading { leading = await work.signal.wait() == .lead }
        if leading { await runBatch(leader: work) }
        return try outcome.get()
    }

    private func runBatch(leader: Work) async {
        let batch = state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        do {
            try await database.raw("BEGIN IMMEDIATE").run()
            for work in batch { await work.run(database) }
            try await database.raw("COMMIT").run()
        } catch {
            try? await database.raw("ROLLBACK").run()
            for work in batch { work.fail(error) }
        }
        let next = state.withLock { state -> Work? in
            guard let first = state.pending.first else {
                state.leaderActive = false
                return nil
            }
            return first
        }
        for work in batch where work !== leader { work.signal.fire(.committed) }
        next?.signal.fire(.lead)
    }

    /// One queued transaction body and the means to report back to its owner.
    final class Work: Sendable {
        let run: @Sendable (any SQLDatabase) async -> Void
        let fail: @Sendable (any Error) -> Void
        let signal = Signal()

        init(run: @escaping @Sendable (any SQLDatabase) async -> Void, fail: @escaping @Sendable (any Error) -> Void) {
            self.run = run
            self.fail = fail
        }
    }

    enum Wake: Sendable { case committed, lead }

    /// A one-shot wake-up that may fire before its owner starts waiting.
    final class Signal: Sendable {
        private let state = Mutex<(fired: Wake?, waiter: CheckedContinuation<Wake, Never>?)>((nil, nil))

        func wait() async -> Wake {
            await withCheckedContinuation { continuation in
                let fired = state.withLock { state -> Wake? in
                    if let fired = state.fired { return fired }
                    state.waiter = continuation
                    return nil
                }
                if let fired { continuation.resume(returning: fired) }
            }
        }

        func fire(_ wake: Wake) {
            let waiter = state.withLock { state -> CheckedContinuation<Wake, Never>? in
                state.fired = wake
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: wake)
        }
    }

    /// The result of one body, written by the leader before its owner is woken.
    final class Outcome<T: Sendable>: Sendable {
        private let result = Mutex<Result<T, any Error>?>(nil)

        func set(_ value: Result<T, any Error>) { result.withLock { $0 = value } }

        func get() throws -> T {
            guard let value = result.withLock({ $0 }) else {
                throw SQLiteDirectError(code: 1, message: "write finished without an outcome")
            }
            return try value.get()
        }
    }
}
