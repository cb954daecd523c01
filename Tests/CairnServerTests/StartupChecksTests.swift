import CairnCore
import CairnStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import CairnServer

@Suite struct ListenAddressTests {
    @Test(arguments: [80_000, 99_999, 65_536, -1])
    func outOfRangePortsAreRefused(port: Int) {
        let error = #expect(throws: CairnError.self) {
            _ = try ListenAddress(host: "127.0.0.1", port: port)
        }
        #expect(error?.message.contains("Port \(port) is out of range: use 1-65535") == true)
    }

    @Test(arguments: [0, 1, 5000, 65_535])
    func portsInRangeAreTaken(port: Int) throws {
        #expect(try ListenAddress(host: "127.0.0.1", port: port).port == port)
    }

    @Test func aBusyPortIsNamedBeforeAnythingStarts() async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        do {
            try await ListenAddress(host: "127.0.0.1", port: port).checkAvailable()
            Issue.record("A port in use was reported free.")
        } catch {
            #expect(error.message.contains("Cannot listen on 127.0.0.1:\(port): the port is already in use"))
        }
        try await channel.close()
        // Free again once the other listener is gone.
        try await ListenAddress(host: "127.0.0.1", port: port).checkAvailable()
    }

    @Test func ipv6HostsAreBracketed() throws {
        #expect(try ListenAddress(host: "::1", port: 5000).description == "[::1]:5000")
    }
}

@Suite struct DataDirectoryTests {
    func withScratch(_ body: (String) throws -> Void) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-datadir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try body(scratch)
    }

    func message(_ path: String) -> String? {
        do {
            try DataDirectory.prepare(path, role: "data directory")
            return nil
        } catch {
            return error.message
        }
    }

    @Test func createsMissingParents() throws {
        try withScratch { scratch in
            #expect(message(scratch + "/a/b/c") == nil)
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: scratch + "/a/b/c", isDirectory: &isDirectory) && isDirectory.boolValue)
        }
    }

    @Test func aFileIsNamedAsAFile() throws {
        try withScratch { scratch in
            #expect(FileManager.default.createFile(atPath: scratch + "/f", contents: Data("x".utf8)))
            #expect(message(scratch + "/f") == "Cannot use \(scratch)/f as the data directory: \(scratch)/f is a file, not a directory.")
            #expect(
                message(scratch + "/f/sub") == "Cannot use \(scratch)/f/sub as the data directory: \(scratch)/f is a file, not a directory."
            )
        }
    }

    @Test func anUncreatablePathSaysWhy() throws {
        let text = try #require(message("/proc/cairn-\(UUID().uuidString)"))
        #expect(text.hasPrefix("Cannot use /proc/cairn-"))
        #expect(text.contains(": cannot create /proc/cairn-"))
        #expect(!text.contains("\n"))
    }
}

@Suite struct DataDirectoryLockTests {
    @Test func aSecondServerOnTheSameDirectoryIsRefusedUntilTheFirstStops() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: DataDirectoryLock? = try DataDirectoryLock(directory: directory)
        #expect(first != nil)
        let error = #expect(throws: CairnError.self) {
            _ = try DataDirectoryLock(directory: directory)
        }
        #expect(error?.message.contains("Another cairn server (pid \(getpid())) is using the data directory \(directory)") == true)
        #expect(error?.message.contains("replicas share PostgreSQL and S3") == true)
        first = nil
        // Released with the process (here: the lock object): the next server takes it.
        _ = try DataDirectoryLock(directory: directory)
    }

    /// `--backend-store-uri sqlite:///<another server's cairn.db>` with a data directory of its
    /// own: the database file has its own lock.
    @Test func aSecondServerOnTheSameSQLiteFileIsRefused() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-dblock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let logger = Logger(label: "test")
        let first = try await openDatabase(ServerConfiguration(dataDirectory: base + "/a"), logger: logger)
        do {
            _ = try await openDatabase(
                ServerConfiguration(dataDirectory: base + "/b", backendStoreURI: "sqlite:///\(base)/a/cairn.db"), logger: logger)
            Issue.record("A second server opened the first one's database.")
        } catch let error as CairnError {
            #expect(
                error.message.contains("Another cairn server (pid \(getpid())) is using the SQLite database \(base)/a/cairn.db"),
                "\(error.message)")
        }
        try await first.database.shutdown()
    }
}
