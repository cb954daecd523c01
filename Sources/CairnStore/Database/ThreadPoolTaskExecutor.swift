import NIOPosix

/// A task executor whose jobs run on an `NIOThreadPool`'s threads.
///
/// A SQLite statement runs synchronously (`SQLiteDirectConnection`), and a long read (a page
/// of a thousand runs, a chunk of a metric history) holds its thread for milliseconds. Run
/// under this executor's preference, a whole read body, every statement in it, runs on the
/// blocking pool instead of a Swift concurrency thread, for one hop in and one hop out rather
/// than two per statement.
final class ThreadPoolTaskExecutor: TaskExecutor {
    private let threadPool: NIOThreadPool

    init(threadPool: NIOThreadPool) {
        self.threadPool = threadPool
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        // A job must run even when the pool has shut down, or its task would never resume:
        // `submit` then calls the item at once, on this thread.
        threadPool.submit { _ in
            job.runSynchronously(on: executor)
        }
    }
}
