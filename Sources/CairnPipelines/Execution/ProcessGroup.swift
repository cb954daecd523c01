import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command run as the leader of its own process group, so that it and everything it starts
/// (children, grandchildren) can be signalled as one.
///
/// Foundation's `Process` cannot start a process group, hence `posix_spawn` with
/// `POSIX_SPAWN_SETPGROUP`. Spawning and waiting happen on a dedicated thread per process:
/// `waitpid` blocks, and a blocked thread from the cooperative pool (or from a small shared
/// `NIOThreadPool`) per running stage would starve everything else; a thread costs tens of
/// microseconds and sleeps in the kernel until the leader exits, with no polling latency.
///
/// The leader is waited for with `WNOWAIT` first and reaped last: while it is an unreaped
/// zombie its pid cannot be reused, so signalling `-pgid` can never hit a stranger's group.
final class ProcessGroup: Sendable {
    struct Launch: Sendable {
        var arguments: [String]
        /// `KEY=value` entries, the whole environment.
        var environment: [String]
        var workingDirectory: String
        var stdoutPath: String
        var stderrPath: String
    }

    struct Exit: Sendable {
        /// The leader's pid, which is the group's id.
        var pid: pid_t
        /// The exit code, or 128 + the signal that ended it.
        var status: Int32
    }

    /// Why a process could not be started (the reason names the path).
    struct SpawnFailure: Error, Sendable {
        var reason: String
        /// Out of processes, memory or descriptors: may work later.
        var transient: Bool
    }

    private struct State {
        var pid: pid_t?
        var reaped = false
        var cancelled = false
        var deadline: ContinuousClock.Instant?
    }

    private let launch: Launch
    private let grace: Duration
    private let state = Mutex(State())

    private init(launch: Launch, grace: Duration) {
        self.launch = launch
        self.grace = grace
    }

    /// Runs the command and returns its exit status (128 + the signal when a signal ended it).
    /// When the leader exits, anything left running in its group is killed: nothing the
    /// command started may keep writing its outputs after they are hashed. On cancellation the
    /// group gets SIGTERM, and SIGKILL once `grace` has passed if any member still lives; then
    /// this throws `CancellationError`. `onSpawn` gets the pid (= the pgid) once the group exists.
    static func run(_ launch: Launch, grace: Duration, onSpawn: @escaping @Sendable (pid_t) -> Void) async throws -> Exit {
        let group = ProcessGroup(launch: launch, grace: grace)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Exit, any Error>) in
                let thread = Thread { group.main(continuation, onSpawn: onSpawn) }
                thread.name = "cairn-stage-process"
                thread.start()
            }
        } onCancel: {
            group.cancel()
        }
    }

    /// Blocking, on the process's own thread.
    private func main(_ continuation: CheckedContinuation<Exit, any Error>, onSpawn: @Sendable (pid_t) -> Void) {
        if state.withLock({ $0.cancelled }) { return continuation.resume(throwing: CancellationError()) }
        let pid: pid_t
        do {
            pid = try spawn()
        } catch {
            return continuation.resume(throwing: error)
        }
        onSpawn(pid)
        let cancelledBeforeSpawn = state.withLock { state in
            state.pid = pid
            return state.cancelled
        }
        if cancelledBeforeSpawn { _ = kill(-pid, SIGTERM) }

        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else { break }
        }
        let (cancelled, deadline) = state.withLock { ($0.cancelled, $0.deadline) }
        if cancelled, let deadline {
            // The leader is gone; the rest of the group gets what is left of the grace.
            Self.waitForNoLiveMembers(pgid: pid, upTo: deadline - ContinuousClock.now)
        }
        let status: Int32 = state.withLock { state in
            _ = kill(-pid, SIGKILL)
            state.reaped = true
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 {
                guard errno == EINTR else { return -1 }
            }
            return Self.exitStatus(raw)
        }
        // Members signalled above die a moment later; none may still run when this returns.
        // (After the reap a live member still pins the pgid, so the number names this group.)
        if kill(-pid, 0) == 0 { Self.waitForNoLiveMembers(pgid: pid, upTo: .seconds(1)) }
        if cancelled { return continuation.resume(throwing: CancellationError()) }
        guard status >= 0 else {
            return continuation.resume(throwing: SpawnFailure(reason: "lost track of process \(pid) (reaped elsewhere)", transient: false))
        }
        continuation.resume(returning: Exit(pid: pid, status: status))
    }

    private func cancel() {
        let armed = state.withLock { state -> Bool in
            guard !state.cancelled else { return false }
            state.cancelled = true
            state.deadline = ContinuousClock.now + grace
            if let pid = state.pid, !state.reaped { _ = kill(-pid, SIGTERM) }
            return true
        }
        guard armed else { return }
        // The process thread is blocked until the leader exits, so the escalation for a leader
        // that ignores SIGTERM is a timer; it holds the lock, so it never fires after the reap.
        let (seconds, attoseconds) = grace.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
            state.withLock { state in
                if let pid = state.pid, !state.reaped { _ = kill(-pid, SIGKILL) }
            }
        }
    }

    /// `waitpid`'s status as a shell reports it.
    static func exitStatus(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    // MARK: - Spawning

    private func spawn() throws(SpawnFailure) -> pid_t {
        var info = stat()
        guard stat(launch.workingDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SpawnFailure(
                reason: "the working directory \(launch.workingDirectory) does not exist or is not a directory", transient: false)
        }
        guard let addChdir = Self.addChdir else {
            throw SpawnFailure(reason: "this C library has no posix_spawn_file_actions_addchdir_np", transient: false)
        }
        let stdout = try Self.openForWriting(launch.stdoutPath, what: "stdout")
        defer { close(stdout) }
        let stderr = try Self.openForWriting(launch.stderrPath, what: "stderr")
        defer { close(stderr) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        _ = addChdir(&actions, launch.workingDirectory)
        // Descriptors the server holds without close-on-exec must not outlive it in a stage.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Ignored signals survive exec: the server ignores SIGPIPE, and `yes | head` in a
        // stage must still end. Defaults for every signal, nothing blocked.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let result = Self.withCStrings(launch.arguments) { argv in
            Self.withCStrings(launch.environment) { envp in
                posix_spawn(&pid, launch.arguments[0], &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            throw SpawnFailure(
                reason: "cannot start \(launch.arguments[0]) in \(launch.workingDirectory): \(String(cString: strerror(result)))",
                transient: [EAGAIN, ENOMEM, EMFILE, ENFILE].contains(result))
        }
        return pid
    }

    private static func openForWriting(_ path: String, what: String) throws(SpawnFailure) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw SpawnFailure(
                reason: "cannot open the \(what) file \(path): \(String(cString: strerror(code)))",
                transient: [EMFILE, ENFILE, ENOSPC].contains(code))
        }
        return fd
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    // glibc declares these only under _GNU_SOURCE, which Swift's Glibc module does not set;
    // they exist since glibc 2.29 (chdir) and 2.34 (closefrom).
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    private static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }
    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(dlopen(nil, RTLD_NOW), name) }

    // MARK: - Groups

    /// Runs blocking work (waits, `/proc` scans) on a thread of its own, off the cooperative pool.
    static func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// SIGTERM to the group, SIGKILL once `grace` has passed if a member still lives; returns
    /// when none runs (or a second after the SIGKILL). Blocking.
    static func terminate(pgid: pid_t, grace: Duration) {
        guard kill(-pgid, SIGTERM) == 0 else { return }
        waitForNoLiveMembers(pgid: pgid, upTo: grace)
        guard hasLiveMembers(pgid: pgid) != false else { return }
        _ = kill(-pgid, SIGKILL)
        waitForNoLiveMembers(pgid: pgid, upTo: .seconds(1))
    }

    static func waitForNoLiveMembers(pgid: pid_t, upTo limit: Duration) {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, hasLiveMembers(pgid: pgid) != false { usleep(10_000) }
    }

    /// The environment a process started with, as `KEY=value` entries; nil if unreadable.
    static func environment(of pid: pid_t) -> [String]? {
        readSmallFile("/proc/\(pid)/environ").map { bytes in
            bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Whether any process of the group is still running (zombies do not count: an init that
    /// does not reap leaves its adopted children as zombies forever). Nil where there is no
    /// `/proc` to look in.
    static func hasLiveMembers(pgid: pid_t) -> Bool? {
        if kill(-pgid, 0) != 0 { return false }
        return liveMembers(pgid: pgid).map { !$0.isEmpty }
    }

    /// The pids of the group's running processes, from `/proc/<pid>/stat`; nil without `/proc`.
    static func liveMembers(pgid: pid_t) -> [pid_t]? {
        guard let directory = opendir("/proc") else { return nil }
        defer { closedir(directory) }
        var members: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = pid_t(name), let line = readSmallFile("/proc/\(pid)/stat"),
                let commEnd = line.lastIndex(of: UInt8(ascii: ")"))
            else { continue }
            // After "(comm)": state, ppid, pgrp.
            let fields = line[(commEnd + 2)...].split(separator: UInt8(ascii: " "), maxSplits: 3)
            guard fields.count >= 3, let group = pid_t(String(decoding: fields[2], as: UTF8.self)), group == pgid else { continue }
            if fields[0].first != UInt8(ascii: "Z") && fields[0].first != UInt8(ascii: "X") { members.append(pid) }
        }
        return members
    }

    static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return bytes
    }
}
