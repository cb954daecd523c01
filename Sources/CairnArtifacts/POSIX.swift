#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#else
    #error("LocalArtifactRepository needs a POSIX file system API")
#endif

// Thin, blocking wrappers over the `*at` system calls. They retry EINTR, turn -1/errno into a
// thrown `ArtifactStorageError`, and never follow a symbolic link unless a caller asks for it. Everything
// here runs on a thread pool, never on an event loop.

typealias FileStatus = stat

/// An open file descriptor, closed when the last reference goes. Reference counting makes
/// every early exit and every abandoned download stream close its descriptors.
final class FileDescriptor: Sendable {
    let raw: CInt

    init(_ raw: CInt) {
        self.raw = raw
    }

    deinit {
        _ = close(raw)
    }
}

enum FileKind: Equatable {
    case regular, directory, symbolicLink, other
}

extension FileStatus {
    var kind: FileKind {
        switch st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        default: .other
        }
    }

    var size: Int64 { Int64(st_size) }

    /// Last modification, in whole seconds since the epoch.
    var modificationTime: Int64 {
        #if canImport(Darwin)
            Int64(st_mtimespec.tv_sec)
        #else
            Int64(st_mtim.tv_sec)
        #endif
    }
}

enum POSIX {
    @inline(__always)
    private static func retrying(_ call: String, _ body: () -> CInt) throws(ArtifactStorageError) -> CInt {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno != EINTR { throw .last(call) }
        }
    }

    static func openAt(_ directory: FileDescriptor, _ name: String, _ flags: CInt, mode: mode_t = 0) throws(ArtifactStorageError)
        -> FileDescriptor
    {
        let raw = try retrying("openat") { openat(directory.raw, name, flags | O_CLOEXEC, mode) }
        return FileDescriptor(raw)
    }

    /// Opens a directory below `directory` without following a symbolic link in its place.
    static func openDirectoryAt(_ directory: FileDescriptor, _ name: String) throws(ArtifactStorageError) -> FileDescriptor {
        try openAt(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    }

    static func open(_ path: String, _ flags: CInt) throws(ArtifactStorageError) -> FileDescriptor {
        let raw = try retrying("open") { openat(AT_FDCWD, path, flags | O_CLOEXEC, 0) }
        return FileDescriptor(raw)
    }

    /// `fstatat(…, AT_SYMLINK_NOFOLLOW)`: a symbolic link reports itself.
    static func statAt(_ directory: FileDescriptor, _ name: String) throws(ArtifactStorageError) -> FileStatus {
        var status = FileStatus()
        _ = try retrying("fstatat") { fstatat(directory.raw, name, &status, AT_SYMLINK_NOFOLLOW) }
        return status
    }

    static func stat(_ file: FileDescriptor) throws(ArtifactStorageError) -> FileStatus {
        var status = FileStatus()
        _ = try retrying("fstat") { fstat(file.raw, &status) }
        return status
    }

    /// Follows links; only used on a path `realPath` has already checked.
    static func stat(path: String) throws(ArtifactStorageError) -> FileStatus {
        var status = FileStatus()
        _ = try retrying("stat") { fstatat(AT_FDCWD, path, &status, 0) }
        return status
    }

    static func makeDirectoryAt(_ directory: FileDescriptor, _ name: String) throws(ArtifactStorageError) {
        _ = try retrying("mkdirat") { mkdirat(directory.raw, name, 0o777) }
    }

    static func unlinkAt(_ directory: FileDescriptor, _ name: String, directoryEntry: Bool) throws(ArtifactStorageError) {
        _ = try retrying("unlinkat") { unlinkat(directory.raw, name, directoryEntry ? AT_REMOVEDIR : 0) }
    }

    /// `unlinkat` of a non-directory that may already be gone.
    static func unlinkIfPresent(_ directory: FileDescriptor, _ name: String) throws(ArtifactStorageError) {
        while unlinkat(directory.raw, name, 0) != 0 {
            if errno == ENOENT { return }
            if errno != EINTR { throw .last("unlinkat") }
        }
    }

    static func renameAt(_ from: FileDescriptor, _ fromName: String, _ to: FileDescriptor, _ toName: String) throws(ArtifactStorageError) {
        _ = try retrying("renameat") { renameat(from.raw, fromName, to.raw, toName) }
    }

    /// Asks the kernel to start writing `range` to disk without waiting for it, so a large
    /// file's final fsync has little left to do. Advisory: where unsupported it does nothing.
    static func startWriteback(_ file: FileDescriptor, _ range: Range<Int64>) {
        guard let syncFileRange = syncFileRange else { return }
        let syncFileRangeWrite: UInt32 = 2 // SYNC_FILE_RANGE_WRITE
        _ = syncFileRange(file.raw, range.lowerBound, range.upperBound - range.lowerBound, syncFileRangeWrite)
    }

    /// glibc's `sync_file_range`, looked up at run time: Swift's Glibc module does not
    /// export it (it is a GNU extension), and other systems lack it.
    private static let syncFileRange: (@convention(c) (CInt, Int64, Int64, CUnsignedInt) -> CInt)? = {
        #if os(Linux)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (CInt, Int64, Int64, CUnsignedInt) -> CInt).self)
        #else
            return nil
        #endif
    }()

    static func sync(_ file: FileDescriptor) throws(ArtifactStorageError) {
        _ = try retrying("fsync") { fsync(file.raw) }
    }

    /// `realpath(3)`: the canonical absolute path with every link resolved.
    static func realPath(_ path: String) throws(ArtifactStorageError) -> String {
        guard let resolved = realpath(path, nil) else { throw .last("realpath") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Writes all of `bytes`, looping over short writes.
    static func writeAll(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(ArtifactStorageError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(file.raw, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .last("write")
            }
            base += written
            remaining -= written
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`, looping over short reads; fewer bytes
    /// only at end of file.
    static func readFully(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(ArtifactStorageError)
        -> Int
    {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let count = pread(file.raw, base + total, buffer.count - total, off_t(offset) + off_t(total))
            if count < 0 {
                if errno == EINTR { continue }
                throw .last("pread")
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Appends the first `size` bytes of `source` to `destination` at its current offset.
    /// On Linux `sendfile` copies inside the kernel, without a round trip through a user-space
    /// buffer; elsewhere, or where the file system refuses, it is `pread` and `write` in
    /// `bufferSize` pieces.
    static func append(_ source: FileDescriptor, size: Int64, to destination: FileDescriptor, bufferSize: Int) throws(ArtifactStorageError)
    {
        var offset: Int64 = 0
        #if os(Linux)
            var position = off_t(0)
            while offset < size {
                // At most 1 GiB per call: sendfile's per-call limit is just under 2 GiB.
                let count = sendfile(destination.raw, source.raw, &position, Int(min(size - offset, 1 << 30)))
                if count > 0 {
                    offset = Int64(position)
                    continue
                }
                if count == 0 { throw ArtifactStorageError(operation: "file shrank while being copied", code: 0) }
                if errno == EINTR { continue }
                // Not supported for this pair of files: copy what is left through a buffer.
                if errno == EINVAL || errno == ENOSYS { break }
                throw .last("sendfile")
            }
        #endif
        guard offset < size else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while offset < size {
            let wanted = Int(min(Int64(bufferSize), size - offset))
            let read = try readFully(source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<wanted]), at: offset)
            guard read == wanted else { throw ArtifactStorageError(operation: "file shrank while being copied", code: 0) }
            try writeAll(destination, UnsafeRawBufferPointer(rebasing: buffer[..<read]))
            offset += Int64(read)
        }
    }

    /// Names in an open directory except `.` and `..`; entries that are not valid UTF-8 are
    /// skipped (no client could name them). Opens its own descriptor so concurrent listings
    /// of one directory never share a read offset.
    static func directoryEntries(_ directory: FileDescriptor) throws(ArtifactStorageError) -> [String] {
        let listing = try retrying("openat") { openat(directory.raw, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        guard let stream = fdopendir(listing) else {
            let error = ArtifactStorageError.last("fdopendir")
            _ = close(listing)
            throw error
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .last("readdir") }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(validatingCString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard let name, name != ".", name != ".." else { continue }
            names.append(name)
        }
    }
}
