import NIOPosix
import Synchronization

/// Blocking work started on the thread pool now and awaited later, so the caller can overlap
/// it with its own work: the next `pread` runs while the consumer sends the current chunk, and
/// a batch is written while the next one arrives.
///
/// Unlike an unstructured `Task`, nothing outlives its purpose: the job is a single chunk of
/// I/O, its owner awaits it (or drops it, and the result is released when the job ends), and
/// it holds no more than the one buffer it works on.
final class PoolJob<Value: Sendable>: Sendable {
    private enum State {
        case running(waiter: CheckedContinuation<Value, any Error>?)
        case finished(Result<Value, any Error>)
    }

    private let state = Mutex<State>(.running(waiter: nil))

    init(on threadPool: NIOThreadPool, _ body: @escaping @Sendable () throws -> Value) {
        threadPool.submit { [self] work in
            guard case .active = work else {
                finish(.failure(ArtifactStorageError(operation: "thread pool is shut down", code: 0)))
                return
            }
            finish(Result(catching: body))
        }
    }

    private func finish(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard case .running(let waiter) = state else { return nil }
            state = .finished(result)
            return waiter
        }
        waiter?.resume(with: result)
    }

    /// The job's result, once it has finished. Awaited at most once. Waits for the job even
    /// when the task is cancelled: it is short, and callers must know their write is over
    /// before they clean up.
    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<Value, any Error>? in
                    switch state {
                    case .finished(let result):
                        return result
                    case .running:
                        state = .running(waiter: continuation)
                        return nil
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}
