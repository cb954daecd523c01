import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A local file read as a stream of chunks, each read on the thread pool: what the output
/// cache uploads into the artifact repository.
struct LocalFileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let threadPool: NIOThreadPool
    var chunkSize = 512 << 10

    func makeAsyncIterator() -> Iterator { Iterator(file: OpenFile(path: path), threadPool: threadPool, chunkSize: chunkSize) }

    struct Iterator: AsyncIteratorProtocol {
        let file: OpenFile
        let threadPool: NIOThreadPool
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            try await threadPool.runIfActive { [file, chunkSize] in try file.read(chunkSize) }
        }
    }

    /// Opened lazily, closed at the end or when the iteration is dropped.
    final class OpenFile: Sendable {
        let path: String
        private let descriptor = Mutex<Int32?>(nil)

        init(path: String) { self.path = path }

        func read(_ size: Int) throws -> ByteBuffer? {
            try descriptor.withLock { descriptor in
                if descriptor == nil {
                    let opened = open(path, O_RDONLY | O_CLOEXEC)
                    guard opened >= 0 else { throw POSIXFailure(call: "open", path: path) }
                    descriptor = opened
                }
                var buffer = ByteBufferAllocator().buffer(capacity: size)
                let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                    while true {
                        let count = systemRead(descriptor!, raw.baseAddress, size)
                        if count < 0, errno == EINTR { continue }
                        if count < 0 { throw POSIXFailure(call: "read", path: path) }
                        return count
                    }
                }
                return count == 0 ? nil : buffer
            }
        }

        deinit {
            if let descriptor = descriptor.withLock({ $0 }) { close(descriptor) }
        }
    }
}

/// A file being written beside its final place, renamed into it when complete.
final class PendingLocalFile: Sendable {
    let destination: String
    let temporary: String
    private let descriptor: Int32

    /// Creates the parent directories and the temporary file. Blocking.
    init(destination: String) throws {
        self.destination = destination
        let parent = PathText(path: destination).parent
        try LocalFiles.makeDirectories(parent)
        self.temporary = "\(parent)/.\(PathText(path: destination).name).cairn-tmp-\(UInt32.random(in: 0...UInt32.max))"
        let opened = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw POSIXFailure(call: "open", path: temporary) }
        self.descriptor = opened
    }

    /// Blocking.
    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var written = 0
            while written < raw.count {
                let count = systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0, errno == EINTR { continue }
                if count < 0 { throw POSIXFailure(call: "write", path: temporary) }
                written += count
            }
        }
    }

    /// Closes and renames over the destination. Blocking.
    func commit() throws {
        close(descriptor)
        guard rename(temporary, destination) == 0 else {
            let failure = POSIXFailure(call: "rename", path: destination)
            unlink(temporary)
            throw failure
        }
    }

    func discard() {
        close(descriptor)
        unlink(temporary)
    }
}

/// Path helpers without Foundation's URL round trips.
struct PathText {
    let path: String
    var parent: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
    var name: String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

enum LocalFiles {
    /// `mkdir -p`. Blocking.
    static func makeDirectories(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return }
        let parent = PathText(path: path).parent
        if parent != path, parent != "/", parent != "." { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0, errno != EEXIST { throw POSIXFailure(call: "mkdir", path: path) }
    }

    /// `rm -rf` (no error when absent; symbolic links removed, never followed). Blocking.
    static func remove(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw POSIXFailure(call: "stat", path: path)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            guard let handle = opendir(path) else { throw POSIXFailure(call: "opendir", path: path) }
            var names: [String] = []
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != ".", name != ".." { names.append(name) }
            }
            closedir(handle)
            for name in names { try remove("\(path)/\(name)") }
            guard rmdir(path) == 0 else { throw POSIXFailure(call: "rmdir", path: path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw POSIXFailure(call: "unlink", path: path) }
        }
    }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }
}
