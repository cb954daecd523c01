import CairnPipelines
import Foundation
import NIOPosix
import Testing

@Suite struct ContentHasherTests {
    func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-hash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(path)/data/sub", withIntermediateDirectories: true)
        return path
    }

    @Test func filesHashAsSha256AndDirectoriesAsTheirSortedManifest() async throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "hello\n".write(toFile: "\(root)/data/a.txt", atomically: true, encoding: .utf8)
        try "world\n".write(toFile: "\(root)/data/sub/b.txt", atomically: true, encoding: .utf8)
        let hasher = ContentHasher(threadPool: .singleton, state: FileStateTable(), parallelism: 2)
        let file = try await hasher.digest(of: "\(root)/data/a.txt")
        #expect(file == .file(digest: sha256Hex(Array("hello\n".utf8)), size: 6))
        guard case .directory(let digest, let files) = try await hasher.digest(of: "\(root)/data") else {
            Issue.record("not a directory")
            return
        }
        #expect(files.map(\.path) == ["a.txt", "sub/b.txt"])
        let manifest = "a.txt\0\(sha256Hex(Array("hello\n".utf8)))\nsub/b.txt\0\(sha256Hex(Array("world\n".utf8)))\n"
        #expect(digest == sha256Hex(Array(manifest.utf8)))
        #expect(try await hasher.digest(of: "\(root)/absent") == .missing)
        // Walked again unchanged: the remembered manifest, the same digest and entries.
        #expect(try await hasher.digest(of: "\(root)/data") == .directory(digest: digest, files: files))

        // One changed file changes the directory's digest.
        try "world!\n".write(toFile: "\(root)/data/sub/b.txt", atomically: true, encoding: .utf8)
        #expect(try await hasher.digest(of: "\(root)/data").digest != digest)
    }

    /// A folder big enough to be `stat`ed in several shares: the manifest is the same whatever
    /// the parallelism, links to files are followed, links to folders and non-files left out.
    @Test func aLargeFolderIsWalkedInSharesWithTheSameManifest() async throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var expected: [(String, String)] = []
        for index in 0..<6000 {
            let relative = index % 3 == 0 ? "sub/f\(index).txt" : "f\(index).txt"
            try "\(index)\n".write(toFile: "\(root)/data/\(relative)", atomically: false, encoding: .utf8)
            expected.append((relative, sha256Hex(Array("\(index)\n".utf8))))
        }
        try "linked\n".write(toFile: "\(root)/target.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/data/link.txt", withDestinationPath: "\(root)/target.txt")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/data/loop", withDestinationPath: "\(root)/data")
        #expect(mkfifo("\(root)/data/pipe", 0o600) == 0)
        expected.append(("link.txt", sha256Hex(Array("linked\n".utf8))))
        expected.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }

        for parallelism in [1, 2, 3] {
            let hasher = ContentHasher(threadPool: .singleton, state: FileStateTable(), parallelism: parallelism)
            guard case .directory(let digest, let files) = try await hasher.digest(of: "\(root)/data") else {
                Issue.record("not a directory")
                return
            }
            #expect(files.map(\.path) == expected.map(\.0))
            #expect(files.map(\.digest) == expected.map(\.1))
            let manifest = expected.map { "\($0.0)\0\($0.1)\n" }.joined()
            #expect(digest == sha256Hex(Array(manifest.utf8)))
            // Warm: the same answer from the remembered walk.
            #expect(try await hasher.digest(of: "\(root)/data") == .directory(digest: digest, files: files))
        }
    }

    @Test func unchangedFilesAreNotReadAgainAndTheTableSurvivesARestart() async throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for index in 0..<50 { try "row \(index)\n".write(toFile: "\(root)/data/f\(index).csv", atomically: true, encoding: .utf8) }
        let stateFile = "\(root)/state/filestate.bin"
        let table = FileStateTable(file: stateFile)
        let hasher = ContentHasher(threadPool: .singleton, state: table, parallelism: 4)
        let first = try await hasher.digest(of: "\(root)/data")
        #expect(table.count == 50)

        // A remembered digest is trusted while the identity holds: planting a wrong one proves
        // the file is not read again.
        let planted = String(repeating: "0", count: 64)
        let path = "\(root)/data/f0.csv"
        var status = stat()
        stat(path, &status)
        let identity = FileIdentity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            mtimeNanoseconds: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
        #expect(table.digest(for: path, identity: identity) != nil)
        table.record(path, identity: identity, digest: planted)
        guard case .directory(_, let files) = try await hasher.digest(of: "\(root)/data") else { return }
        #expect(files.first { $0.path == "f0.csv" }?.digest == planted)
        try table.saveIfChanged()

        // Reloaded from disk: the same entries.
        let reloaded = FileStateTable.load(file: stateFile)
        #expect(reloaded.count == 50)
        #expect(reloaded.digest(for: path, identity: identity) == planted)

        // A changed size is a changed identity: re-read.
        try "row 0 changed\n".write(toFile: path, atomically: false, encoding: .utf8)
        let rehashed = ContentHasher(threadPool: .singleton, state: reloaded, parallelism: 4)
        guard case .directory(_, let after) = try await rehashed.digest(of: "\(root)/data") else { return }
        #expect(after.first { $0.path == "f0.csv" }?.digest == sha256Hex(Array("row 0 changed\n".utf8)))
        #expect(first.digest != nil)
    }

    @Test func aCorruptStateFileIsAnEmptyTable() throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "CFS1garbage".write(toFile: "\(root)/state.bin", atomically: true, encoding: .utf8)
        #expect(FileStateTable.load(file: "\(root)/state.bin").count == 0)
    }
}
