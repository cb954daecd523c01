import CairnCore
import CoreFoundation
import Foundation

/// Downloaded models, one folder per model version, shared by every `cairn serve` and
/// `cairn predict` run on the machine: a second run of the same version loads the folder
/// already there instead of downloading it again.
///
/// A folder is filled under a temporary name and renamed into place once complete, so a
/// reader never sees half a model and a crash leaves only a temporary folder (removed by a
/// later prune). Two processes fetching the same version download side by side and the
/// first rename wins; the other's copy is dropped. A complete folder is never written again.
///
/// Each user of a folder holds a shared `flock` on `<key>.lock` beside it (a `Lease`) for as
/// long as it may read the files (a Python worker restarts from them); pruning takes the lock
/// exclusively, so a folder in use is never removed. Pruning removes folders unused for
/// `maxAge`, then the least recently used until the cache fits in `maxBytes`.
public struct ModelCache: Sendable {
    public var directory: String
    public var maxBytes: Int64
    public var maxAge: TimeInterval
    /// Temporary folders older than this are left from a crash, not a download in progress.
    static let abandonedAfter: TimeInterval = 86_400

    public init(directory: String, maxBytes: Int64 = 10 << 30, maxAge: TimeInterval = 30 * 86_400) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }

    /// `$CAIRN_CACHE_DIR/models`, else `$XDG_CACHE_HOME/cairn/models`, else
    /// `~/.cache/cairn/models`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let root = environment["CAIRN_CACHE_DIR"], !root.isEmpty { return root + "/models" }
        if let root = environment["XDG_CACHE_HOME"], !root.isEmpty { return root + "/cairn/models" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/cairn/models"
    }

    /// The folder name for a model: `label` (name and version, logged-model id, or run and
    /// path) for people, and a hash of `source` (tracking server and artifact location) so a
    /// model deleted and registered again under the same name and version, or one from
    /// another tracking server, is not mistaken for the cached one.
    public static func key(label: String, source: String) -> String {
        let readable = String(label.prefix(80).map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        // FNV-1a: stable across runs and platforms (Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in source.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return readable + "-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A model folder and the lease that keeps it from being pruned; keep the lease as long
    /// as the folder's files may be read.
    public struct Entry: Sendable {
        public var path: String
        public var lease: Lease
        /// Whether this call filled the folder (false: it was already cached).
        public var downloaded: Bool
    }

    /// The folder for `key`: the cached one when complete, else one that `fill` writes (into
    /// the temporary folder it is given) and that is then renamed into place.
    public func entry(_ key: String, fill: (String) async throws -> Void) async throws -> Entry {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CairnError(
                .invalidParameterValue,
                "Cannot use \(directory) as the model cache: \(Self.describe(error)). Set --model-cache-dir or CAIRN_CACHE_DIR.")
        }
        let path = (directory as NSString).appendingPathComponent(key)
        let lease = try await Lease(path: path + ".lock")
        if manager.fileExists(atPath: (path as NSString).appendingPathComponent(MLmodel.fileName)) {
            Self.touch(path)
            return Entry(path: path, lease: lease, downloaded: false)
        }
        let temporary = (directory as NSString).appendingPathComponent(".tmp-\(key)-\(UUID().uuidString.prefix(8))")
        try manager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        do {
            try await fill(temporary)
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let code = errno
            try? manager.removeItem(atPath: temporary)
            // Another process finished the same download first: use its copy.
            guard code == EEXIST || code == ENOTEMPTY else {
                throw CairnError(.internalError, "Cannot move the downloaded model into \(path): \(String(cString: strerror(code))).")
            }
        }
        Self.touch(path)
        return Entry(path: path, lease: lease, downloaded: true)
    }

    /// Removes what the policy says may go and returns the removed folders' names. Folders in
    /// use (leased by any process) stay.
    @discardableResult
    public func prune(now: Date = Date()) -> [String] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        var kept: [(name: String, used: Date, bytes: Int64)] = []
        for name in names where !name.hasSuffix(".lock") {
            let path = (directory as NSString).appendingPathComponent(name)
            let used = Self.modified(path) ?? now
            if name.hasPrefix(".tmp-") {
                if now.timeIntervalSince(used) > Self.abandonedAfter, (try? manager.removeItem(atPath: path)) != nil {
                    removed.append(name)
                }
                continue
            }
            if now.timeIntervalSince(used) > maxAge {
                if remove(name) { removed.append(name) }
                continue
            }
            kept.append((name, used, Self.size(path)))
        }
        var total = kept.reduce(0) { $0 + $1.bytes }
        for entry in kept.sorted(by: { $0.used < $1.used }) where total > maxBytes {
            if remove(entry.name) {
                removed.append(entry.name)
                total -= entry.bytes
            }
        }
        return removed
    }

    /// Removes one folder if no process holds its lease.
    func remove(_ name: String) -> Bool {
        let path = (directory as NSString).appendingPathComponent(name)
        let lockPath = path + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        guard (try? FileManager.default.removeItem(atPath: path)) != nil else { return false }
        // Unlinked while locked: a process waiting on this file sees it replaced and retries.
        unlink(lockPath)
        return true
    }

    /// A shared lock on a folder's lock file, released when the lease is released.
    public final class Lease: Sendable {
        private let descriptor: Int32

        init(path: String) async throws {
            while true {
                let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else {
                    throw CairnError(.internalError, "Cannot open \(path): \(String(cString: strerror(errno))).")
                }
                // Not blocking: a prune holds the lock only while it deletes a folder.
                if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
                    // A prune that removed the folder also unlinked this file: a lock on the
                    // unlinked file would guard nothing, so start again on the new one.
                    var held = stat()
                    var named = stat()
                    if fstat(descriptor, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                        self.descriptor = descriptor
                        return
                    }
                    close(descriptor)
                    continue
                }
                close(descriptor)
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        deinit { close(descriptor) }
    }

    // MARK: - Files

    /// Marks a folder as just used: its modification time orders the least recently used.
    static func touch(_ path: String) {
        _ = utimes(path, nil)
    }

    static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    static func size(_ path: String) -> Int64 {
        guard let files = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        for case let file as String in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(file))
            if attributes?[.type] as? FileAttributeType == .typeRegular, let bytes = attributes?[.size] as? NSNumber {
                total += bytes.int64Value
            }
        }
        return total
    }

    static func describe(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        return error.localizedDescription
    }
}
