import CairnCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One Python process that loads a model and scores batches sent over its pipes.
///
/// The worker handles one batch at a time (the pool never sends a second before the first
/// answers), so there is at most one waiter. Reads happen on a dedicated thread with plain
/// blocking `read(2)`: a worker's answer then wakes its waiter without involving the
/// cooperative pool, and a crash shows up at once as end-of-file, which fails the waiter
/// with a 503 instead of leaving it hanging and tells the pool (`onExit`), so a worker that
/// dies while idle is noticed too.
final class PythonWorker: Sendable {
    enum Answer: Sendable {
        case message([UInt8])
        case exited(String)
    }

    private let process: Process
    private let input: FileHandle
    private let output: Int32
    private let state = Mutex<(waiter: CheckedContinuation<Answer, Never>?, buffered: [Answer])>((nil, []))
    private let alive = Atomic<Bool>(true)
    private let ready = Atomic<Bool>(false)
    private let terminated = Atomic<Bool>(false)
    private let onExit: @Sendable (PythonWorker, String) -> Void
    let index: Int

    /// Largest message accepted from a worker; a bigger length prefix means a broken worker.
    static let maximumMessageBytes = 1 << 30

    /// `onExit` is called on the reader thread once the process has exited, with how it ended.
    init(
        index: Int, python: String, scriptPath: String, modelDirectory: String, logger: Logger,
        onExit: @escaping @Sendable (PythonWorker, String) -> Void = { _, _ in }
    ) throws {
        self.index = index
        self.onExit = onExit
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.contains("/") ? python : "/usr/bin/env")
        process.arguments = (python.contains("/") ? [] : [python]) + ["-u", scriptPath, modelDirectory]
        var environment = ProcessInfo.processInfo.environment
        // One thread per worker: the pool already runs one worker per core, and BLAS or
        // OpenMP threads inside each would oversubscribe them.
        for key in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] where environment[key] == nil {
            environment[key] = "1"
        }
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.output = stdout.fileHandleForReading.fileDescriptor
        // The reader owns the read end for the process's lifetime.
        let reader = Thread { [self] in self.readLoop(handle: stdout.fileHandleForReading) }
        reader.name = "cairn-python-worker-\(index)"
        reader.start()
    }

    var isAlive: Bool { alive.load(ordering: .acquiring) }
    /// It loaded the model and said so; a worker that never did is its starter's to report.
    var isReady: Bool { ready.load(ordering: .acquiring) }
    /// It was stopped on purpose (`terminate()`), so its exit is no news.
    var wasTerminated: Bool { terminated.load(ordering: .acquiring) }
    func markReady() { ready.store(true, ordering: .releasing) }
    var processIdentifier: Int32 { process.processIdentifier }

    /// Sends one message and waits for the worker's answer.
    func exchange(_ payload: [UInt8]) async -> Answer {
        guard isAlive else { return .exited("the worker has exited") }
        var header = UInt32(payload.count).littleEndian
        let frame = withUnsafeBytes(of: &header) { Data($0) } + Data(payload)
        do {
            try input.write(contentsOf: frame)
        } catch {
            markDead()
            // The pipe broke because the process is gone; Foundation's error says no more.
            return .exited("the worker's pipe closed (the process died)")
        }
        return await nextAnswer()
    }

    /// Waits for the next message the worker sends (the ready message at start).
    func nextAnswer() async -> Answer {
        await withCheckedContinuation { continuation in
            let ready: Answer? = state.withLock { state in
                if !state.buffered.isEmpty { return state.buffered.removeFirst() }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func terminate() {
        terminated.store(true, ordering: .releasing)
        markDead()
        if process.isRunning { process.terminate() }
        try? input.close()
    }

    private func markDead() { alive.store(false, ordering: .releasing) }

    private func deliver(_ answer: Answer) {
        let waiter = state.withLock { state -> CheckedContinuation<Answer, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffered.append(answer)
            return nil
        }
        waiter?.resume(returning: answer)
    }

    private func readLoop(handle: FileHandle) {
        defer { try? handle.close() }
        while true {
            guard let header = readExactly(4) else { break }
            let length = Int(header.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian)
            guard length <= Self.maximumMessageBytes, let body = readExactly(length) else { break }
            deliver(.message(body))
        }
        markDead()
        process.waitUntilExit()
        let reason =
            process.terminationReason == .uncaughtSignal
            ? "the worker was killed by signal \(process.terminationStatus)"
            : "the worker exited with status \(process.terminationStatus)"
        // The pool hears first, so a batch failed by this exit finds its slot already known
        // to be dead.
        onExit(self, reason)
        deliver(.exited(reason))
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(output, buffer.baseAddress! + filled, count - filled)
            }
            if got > 0 {
                filled += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                return nil
            }
        }
        return bytes
    }
}
