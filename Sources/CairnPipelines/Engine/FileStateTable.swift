import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What identifies a file's content without reading it, as DVC's state database does: if none
/// of these changed, neither did the bytes (a writer that keeps size and mtime to the
/// nanosecond and the inode is not a case worth a re-read of 100k files).
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    init(_ status: stat) {
        #if canImport(Darwin)
            let mtime = Int64(status.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(status.st_mtimespec.tv_nsec)
        #else
            let mtime = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        #endif
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size), mtimeNanoseconds: mtime)
    }
}

/// The remembered sha256 of each file by absolute path and `FileIdentity`, so an unchanged
/// folder is re-checked from `stat` alone.
///
/// One table per project, kept in memory by its owner (the server, the only writer) and
/// persisted as one compact binary file, loaded once and replaced with temp + rename, rather
/// than a SQLite table: a status over 100k files then costs 100k `stat` calls and dictionary
/// lookups, not 100k queries. Its methods are synchronous (a `Mutex`) because they are called
/// from thread-pool jobs in the middle of a directory walk.
public final class FileStateTable: Sendable {
    struct Entry: Sendable {
        var identity: FileIdentity
        var digest: String
    }

    /// A directory's last walk: a fingerprint of its files' relative paths and identities in
    /// walk order (Swift's `Hasher`, seeded per process, so kept in memory only), with the
    /// manifest digest and entries that walk produced.
    struct DirectoryEntry: Sendable {
        var fingerprint: Int
        var digest: String
        var files: [ManifestEntry]
    }
    private let directories = Mutex<[String: DirectoryEntry]>([:])

    func directory(_ path: String, fingerprint: Int) -> DirectoryEntry? {
        directories.withLock { entries in
            guard let entry = entries[path], entry.fingerprint == fingerprint else { return nil }
            return entry
        }
    }

    func remember(directory path: String, fingerprint: Int, digest: String, files: [ManifestEntry]) {
        directories.withLock { $0[path] = DirectoryEntry(fingerprint: fingerprint, digest: digest, files: files) }
    }

    /// Where the table is saved; nil keeps it in memory only.
    public let file: String?
    private let state: Mutex<(entries: [String: Entry], dirty: Bool)>

    private static let magic: [UInt8] = Array("CFS1".utf8)

    public init(file: String? = nil) {
        self.file = file
        self.state = Mutex(([:], false))
    }

    /// Loads the table saved at `file`; an absent or unreadable file is an empty table (the
    /// cost is one re-hash, never a wrong answer). Blocking: call it on the thread pool.
    public static func load(file: String) -> FileStateTable {
        let table = FileStateTable(file: file)
        guard let data = FileManager.default.contents(atPath: file) else { return table }
        let entries = data.withUnsafeBytes { decode(UnsafeRawBufferPointer($0)) } ?? [:]
        table.state.withLock { $0.entries = entries }
        return table
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// The digest remembered for `path` if its identity is unchanged.
    public func digest(for path: String, identity: FileIdentity) -> String? {
        state.withLock { state in
            guard let entry = state.entries[path], entry.identity == identity else { return nil }
            return entry.digest
        }
    }

    /// The remembered entries as they are now, for a directory walk's many lookups from
    /// several threads without taking the lock for each (the dictionary is shared, not copied).
    func snapshot() -> Snapshot { Snapshot(entries: state.withLock { $0.entries }) }

    struct Snapshot: Sendable {
        let entries: [String: Entry]

        func digest(for path: String, identity: FileIdentity) -> String? {
            guard let entry = entries[path], entry.identity == identity else { return nil }
            return entry.digest
        }
    }

    public func record(_ path: String, identity: FileIdentity, digest: String) {
        state.withLock { state in
            state.entries[path] = Entry(identity: identity, digest: digest)
            state.dirty = true
        }
        // A directory holding the file is not trusted from its last walk any more.
        directories.withLock { entries in
            if entries.keys.contains(where: { path.hasPrefix($0 + "/") }) {
                entries = entries.filter { !path.hasPrefix($0.key + "/") }
            }
        }
    }

    /// Writes the table if it changed since the last save (temp file, then rename, so a crash
    /// leaves the old table or the new one). Blocking: call it on the thread pool.
    public func saveIfChanged() throws {
        guard let file else { return }
        let bytes: [UInt8]? = state.withLock { state in
            guard state.dirty else { return nil }
            state.dirty = false
            return Self.encode(state.entries)
        }
        guard let bytes else { return }
        do {
            let directory = (file as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: file)
        } catch {
            state.withLock { $0.dirty = true }
            throw error
        }
    }

    // Layout: "CFS1", then per entry: u32 path length, path bytes, u64 device, u64 inode,
    // i64 size, i64 mtime (ns), 32 digest bytes; little-endian.
    static func encode(_ entries: [String: Entry]) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(entries.count * 128)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        for (path, entry) in entries {
            guard let digest = Hex.decode(entry.digest), digest.count == 32 else { continue }
            let utf8 = Array(path.utf8)
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
            append(entry.identity.device)
            append(entry.identity.inode)
            append(entry.identity.size)
            append(entry.identity.mtimeNanoseconds)
            bytes.append(contentsOf: digest)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> [String: Entry]? {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        var offset = magic.count
        var entries: [String: Entry] = [:]
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
            defer { offset += MemoryLayout<T>.size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        while offset < bytes.count {
            guard let length = read(UInt32.self), offset + Int(length) <= bytes.count else { return nil }
            let path = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
            offset += Int(length)
            guard let device = read(UInt64.self), let inode = read(UInt64.self), let size = read(Int64.self),
                let mtime = read(Int64.self), offset + 32 <= bytes.count
            else { return nil }
            let digest = Hex.encode(bytes[offset..<offset + 32])
            offset += 32
            entries[path] = Entry(
                identity: FileIdentity(device: device, inode: inode, size: size, mtimeNanoseconds: mtime), digest: digest)
        }
        return entries
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

/// Whole-file writes that readers see complete or not at all.
enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXFailure(call: "open", path: temporary) }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let result = systemWrite(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return true
        }
        let failure = ok ? nil : POSIXFailure(call: "write", path: temporary)
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let failure = POSIXFailure(call: "rename", path: path)
            unlink(temporary)
            throw failure
        }
    }
}

/// A failed system call, with the system's reason.
struct POSIXFailure: Error, CustomStringConvertible {
    var call: String
    var path: String
    var code: Int32 = errno
    var description: String { "\(call) \(path): \(String(cString: strerror(code)))" }
}
