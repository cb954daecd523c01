import CairnCore
import Foundation
import ServiceLifecycle

/// An exclusive lock on a data directory (`<dir>/cairn.lock`), held for the life of the
/// process: a second `cairn server` on the same directory would run the same monitors and
/// send every alert and webhook twice, and two SQLite writers would fight over one file.
/// The operating system drops the lock when the process dies, so a crash never leaves the
/// directory locked; the file stays, and holds the pid of the server that has it.
///
/// The same lock guards a SQLite database file (`<db>.lock` beside it), which a second server
/// can reach from another data directory with `--backend-store-uri sqlite:///…`.
public final class DataDirectoryLock: Service, Sendable {
    public static let fileName = "cairn.lock"
    public let directory: String
    private let descriptor: Int32

    /// Takes the lock or throws, naming the directory and the pid that holds it.
    public convenience init(directory: String) throws(CairnError) {
        let absolute = DataDirectory.absolutePath(directory)
        try self.init(
            lockFile: (absolute as NSString).appendingPathComponent(Self.fileName), directory: absolute,
            role: "data directory", what: "the data directory \(absolute)",
            advice:
                "Stop it, or give this server its own --data-dir; replicas share PostgreSQL and S3 (--backend-store-uri, --artifacts-destination), not a data directory."
        )
    }

    /// Locks the SQLite database at `path` (its directory must exist) or throws, naming the
    /// database and the pid of the server that has it.
    public convenience init(database path: String) throws(CairnError) {
        let absolute = DataDirectory.absolutePath(path)
        let parent = (absolute as NSString).deletingLastPathComponent
        // The same file reached through a link is the same database: lock its real path.
        let resolved =
            realpath(parent, nil).map { pointer in
                defer { free(pointer) }
                return (String(cString: pointer) as NSString).appendingPathComponent((absolute as NSString).lastPathComponent)
            } ?? absolute
        try self.init(
            lockFile: resolved + ".lock", directory: parent, role: "database directory", what: "the SQLite database \(resolved)",
            advice:
                "Stop it, or give this server its own --backend-store-uri; servers that share metadata use PostgreSQL (--backend-store-uri postgresql://…)."
        )
    }

    private init(lockFile path: String, directory: String, role: String, what: String, advice: String) throws(CairnError) {
        self.directory = directory
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DataDirectory.failure(directory, role, "cannot open \(path): \(DataDirectory.describe(errno))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holder(descriptor)
            close(descriptor)
            guard code == EWOULDBLOCK else {
                throw DataDirectory.failure(directory, role, "cannot lock \(path): \(DataDirectory.describe(code))")
            }
            throw CairnError(
                .resourceConflict,
                "Another cairn server\(holder.map { " (pid \($0))" } ?? "") is using \(what) (it holds \(path)). \(advice)")
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = pwrite(descriptor, pid, pid.count, 0) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Keeps the lock alive while the server's services run.
    public func run() async throws {
        try? await gracefulShutdown()
    }

    /// The pid the holder wrote into the lock file, if it wrote one.
    static func holder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
