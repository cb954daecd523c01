import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnArtifacts

/// A class suite so each test's sandbox lives exactly as long as the test.
@Suite final class LocalArtifactRepositoryTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
    }

    // MARK: Round trips

    @Test func smallFileRoundTrip() async throws {
        let repository = try sandbox.repository(durable: true)
        let written = try await repository.write(path("a.txt"), from: Chunks("hello"))
        #expect(written == 5)
        #expect(try await repository.status(of: path("a.txt")) == .file(size: 5))
        let contents = try await repository.read(path("a.txt"))
        #expect(contents.size == 5)
        #expect(try await text(contents) == "hello")
        #expect(try sandbox.contents(of: sandbox.root + "/a.txt") == "hello")
    }

    @Test func emptyFileRoundTrip() async throws {
        let repository = try sandbox.repository()
        #expect(try await repository.write(path("empty"), from: Chunks([])) == 0)
        #expect(try await repository.write(path("empty-chunks"), from: Chunks([ByteBuffer(), ByteBuffer()])) == 0)
        let contents = try await repository.read(path("empty"))
        #expect(contents.size == 0)
        #expect(try await collect(contents).isEmpty)
        #expect(try await repository.list(.root) == [.file("empty", size: 0), .file("empty-chunks", size: 0)])
    }

    /// 24 MiB plus a tail, sent in irregular pieces (1 byte to 300 KiB), read back in
    /// 256 KiB chunks: content identical, no chunk larger than configured.
    @Test func multiMegabyteStreamRoundTrip() async throws {
        let chunkSize = 256 << 10
        let repository = try sandbox.repository(chunkSize: chunkSize, durable: true)
        let total = 24 << 20 + 12_345
        let body = Pattern(total: total, sizes: [65_536, 1, 300 << 10, 4_096, 17])
        #expect(try await repository.write(path("1/run/artifacts/big.bin"), from: body) == Int64(total))
        #expect(try await repository.status(of: path("1/run/artifacts/big.bin")) == .file(size: Int64(total)))

        let contents = try await repository.read(path("1/run/artifacts/big.bin"))
        #expect(contents.size == Int64(total))
        var offset = 0
        var mismatches = 0
        var largest = 0
        for try await chunk in contents {
            largest = max(largest, chunk.readableBytes)
            if !Pattern.matches(chunk, at: offset) { mismatches += 1 }
            offset += chunk.readableBytes
        }
        #expect(offset == total)
        #expect(mismatches == 0)
        #expect(largest == chunkSize)
    }

    /// A client trickling one byte per chunk: batches are capped by count, content intact.
    @Test func manyTinyChunks() async throws {
        let repository = try sandbox.repository()
        let body = Pattern(total: 5_000, sizes: [1])
        #expect(try await repository.write(path("tiny"), from: body) == 5_000)
        let bytes = try await collect(repository.read(path("tiny")))
        #expect(bytes == (0..<5_000).map(Pattern.byte(at:)))
    }

    @Test func nestedFoldersAreCreated() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("1/abc/artifacts/model/MLmodel"), from: Chunks("flavors: {}"))
        try await repository.write(path("1/abc/artifacts/model/data/weights.bin"), from: Chunks("0123456789"))
        #expect(
            try await repository.list(path("1/abc/artifacts/model")) == [
                .file("MLmodel", size: 11),
                .directory("data"),
            ])
        #expect(try await repository.list(path("1/abc/artifacts/model/data")) == [.file("weights.bin", size: 10)])
        #expect(try await repository.status(of: path("1/abc")) == .directory)
        #expect(try await text(repository.read(path("1/abc/artifacts/model/MLmodel"))) == "flavors: {}")
    }

    @Test func overwriteReplacesWholeFile() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("f"), from: Chunks("a much longer first version"))
        try await repository.write(path("f"), from: Chunks("short"))
        #expect(try await text(repository.read(path("f"))) == "short")
    }

    /// Files are replaced by rename: a download that started before an overwrite finishes
    /// with the old bytes, never a mix.
    @Test func readerKeepsTheVersionItOpened() async throws {
        let repository = try sandbox.repository(chunkSize: 64 << 10)
        try await repository.write(path("m"), from: Pattern(total: 1 << 20, sizes: [65_536]))
        let old = try await repository.read(path("m"))
        try await repository.write(path("m"), from: Chunks("new"))
        let bytes = try await collect(old)
        #expect(bytes.count == 1 << 20)
        #expect(bytes.prefix(4) == [0, 31, 62, 93])
        #expect(try await text(repository.read(path("m"))) == "new")
    }

    @Test func concurrentReadsAndWrites() async throws {
        let repository = try sandbox.repository()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let name = try path("run/artifacts/file-\(index % 4)")
                    try await repository.write(name, from: Pattern(total: 100_000 + index, sizes: [8_192]))
                    let size = try await repository.read(name).size
                    #expect(size >= 100_000 && size < 100_016)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await repository.list(path("run/artifacts")).count == 4)
        #expect(try sandbox.everything().filter { $0.contains(".cairn-tmp-") }.isEmpty)
    }

    // MARK: Listing

    @Test func listingShowsBasenamesAndSizesOfFilesOnly() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("exp/run/b.txt"), from: Chunks("bb"))
        try await repository.write(path("exp/run/a.txt"), from: Chunks("a"))
        try await repository.write(path("exp/run/sub/c.txt"), from: Chunks("ccc"))
        try await repository.write(path("exp/run/.hidden"), from: Chunks(""))
        let entries = try await repository.list(path("exp/run"))
        #expect(
            entries == [
                .file(".hidden", size: 0),
                .file("a.txt", size: 1),
                .file("b.txt", size: 2),
                .directory("sub"),
            ])
        #expect(entries.allSatisfy { !$0.name.contains("/") })
        #expect(entries.first { $0.isDirectory }?.size == nil)
        #expect(try await repository.list(.root) == [.directory("exp")])
    }

    @Test func listingMissingPathOrFileIsEmpty() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("d/file"), from: Chunks("x"))
        #expect(try await repository.list(path("nope")).isEmpty)
        #expect(try await repository.list(path("d/nope/deeper")).isEmpty)
        #expect(try await repository.list(path("d/file")).isEmpty)
        #expect(try await repository.list(path("d/file/below")).isEmpty)
    }

    /// Leftovers of a killed upload, and names no client could ask for, are never listed.
    @Test func listingHidesTemporaryAndUnaddressableNames() async throws {
        let repository = try sandbox.repository()
        try sandbox.write("partial", to: sandbox.root + "/.cairn-tmp-0123456789abcdef")
        try sandbox.write("x", to: sandbox.root + "/bad#name")
        try sandbox.write("x", to: sandbox.root + "/back\\slash")
        try sandbox.write("x", to: sandbox.root + "/%2e%2e")
        try sandbox.write("x", to: sandbox.root + "/good")
        #expect(try await repository.list(.root) == [.file("good", size: 1)])
        await #expect(throws: ArtifactPath.invalid) { try await repository.read(path(".cairn-tmp-0123456789abcdef")) }
    }

    // MARK: Status, errors

    @Test func statusOfEachKind() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("d/f"), from: Chunks("abc"))
        #expect(try await repository.status(of: .root) == .directory)
        #expect(try await repository.status(of: path("d")) == .directory)
        let file = try await repository.status(of: path("d/f"))
        #expect(file == .file(size: 3) && file.isFile && file.size == 3 && file.exists)
        #expect(try await repository.status(of: path("d/g")) == .missing)
        #expect(try await repository.status(of: path("x/y/z")) == .missing)
        #expect(try await repository.status(of: path("d/f/below")) == .missing)
    }

    @Test func readErrorsHaveMLflowShape() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("d/f"), from: Chunks("abc"))
        await #expect(throws: CairnError.notFound("No such artifact: 'd/missing'")) { try await repository.read(path("d/missing")) }
        await #expect(throws: CairnError.notFound("No such artifact: 'nope/x'")) { try await repository.read(path("nope/x")) }
        await #expect(throws: CairnError.notFound("No such artifact: 'd/f/x'")) { try await repository.read(path("d/f/x")) }
        let isDirectory = try await #require(throws: CairnError.self) { try await repository.read(path("d")) }
        #expect(isDirectory.code == .invalidParameterValue)
        let root = try await #require(throws: CairnError.self) { try await repository.read(.root) }
        #expect(root.code == .invalidParameterValue)
    }

    @Test func writeConflictsAreClientErrors() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("d/f"), from: Chunks("abc"))
        let onDirectory = try await #require(throws: CairnError.self) { try await repository.write(path("d"), from: Chunks("x")) }
        #expect(onDirectory.code == .invalidParameterValue)
        let belowFile = try await #require(throws: CairnError.self) { try await repository.write(path("d/f/g"), from: Chunks("x")) }
        #expect(belowFile.code == .invalidParameterValue)
        await #expect(throws: ArtifactPath.invalid) { try await repository.write(.root, from: Chunks("x")) }
        #expect(try await text(repository.read(path("d/f"))) == "abc")
        #expect(try sandbox.everything() == ["d", "d/f"])
    }

    /// A FIFO planted in the root must neither hang a thread nor be served.
    @Test func specialFilesAreNotArtifacts() async throws {
        let repository = try sandbox.repository()
        #expect(mkfifo(sandbox.root + "/pipe", 0o644) == 0)
        await #expect(throws: CairnError.notFound("No such artifact: 'pipe'")) { try await repository.read(path("pipe")) }
        #expect(try await repository.status(of: path("pipe")) == .missing)
        #expect(try await repository.list(.root).isEmpty)
    }

    // MARK: Delete

    @Test func deleteFileAndTree() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("run/a.txt"), from: Chunks("a"))
        try await repository.write(path("run/m/MLmodel"), from: Chunks("m"))
        try await repository.write(path("run/m/data/x/y/z.bin"), from: Chunks("z"))
        try sandbox.write("stale", to: sandbox.root + "/run/m/.cairn-tmp-00000000000000aa")
        #expect(try await repository.delete(path("run/a.txt")))
        #expect(try await repository.status(of: path("run/a.txt")) == .missing)
        #expect(try await repository.delete(path("run/m")))
        #expect(try await repository.list(path("run")).isEmpty)
        #expect(try sandbox.everything() == ["run"])
        #expect(try await repository.delete(path("run/m")) == false)
        #expect(try await repository.delete(path("never/was")) == false)
        await #expect(throws: CairnError.self) { try await repository.delete(.root) }
    }

    // MARK: Atomicity

    /// A body that fails half-way leaves the previous version in place and no temporary file.
    @Test func failedUploadLeavesPreviousVersion() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("m/model.bin"), from: Chunks("version 1"))
        let chunk = ByteBuffer(repeating: 0xAB, count: 512 << 10)
        let failing = Chunks(Array(repeating: chunk, count: 8), failAt: 5)
        await #expect(throws: InjectedFailure()) { try await repository.write(path("m/model.bin"), from: failing) }
        #expect(try await text(repository.read(path("m/model.bin"))) == "version 1")
        #expect(try sandbox.everything() == ["m", "m/model.bin"])
    }

    /// A failed upload into directories that did not exist leaves no directories behind.
    @Test func failedUploadLeavesNothing() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("1/keep"), from: Chunks("k"))
        let chunk = ByteBuffer(repeating: 1, count: 700 << 10)
        let failing = Chunks(Array(repeating: chunk, count: 4), failAt: 3)
        await #expect(throws: InjectedFailure()) { try await repository.write(path("1/new/dirs/file.bin"), from: failing) }
        await #expect(throws: InjectedFailure()) { try await repository.write(path("fresh.bin"), from: Chunks([chunk], failAt: 0)) }
        #expect(try sandbox.everything() == ["1", "1/keep"])
        #expect(try await repository.status(of: path("1/new/dirs/file.bin")) == .missing)
    }

    /// While the body is still arriving, only a hidden temporary file exists.
    @Test func nothingVisibleBeforeTheBodyEnds() async throws {
        let repository = try sandbox.repository(chunkSize: 64 << 10)
        let chunk = ByteBuffer(repeating: 7, count: 128 << 10)
        let observed = ObservedListing()
        let body = Chunks(Array(repeating: chunk, count: 4)) { index in
            if index == 3 {
                let listing = try await repository.list(.root) + repository.list(path("out"))
                await observed.set(listing, try await repository.status(of: path("out/x")))
            }
        }
        try await repository.write(path("out/x"), from: body)
        let (listing, status) = await observed.value
        #expect(listing == [])
        #expect(status == .missing)
        #expect(try await repository.status(of: path("out/x")) == .file(size: 512 << 10))
    }

    /// `AsyncStream` ends quietly when its task is cancelled; that must not commit a
    /// truncated file.
    @Test func cancelledUploadIsNotCommitted() async throws {
        let repository = try sandbox.repository()
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        continuation.yield(ByteBuffer(string: "partial"))
        let upload = Task { try await repository.write(path("c/file"), from: stream) }
        try await Task.sleep(for: .milliseconds(100))
        upload.cancel()
        await #expect(throws: CancellationError.self) { try await upload.value }
        #expect(try sandbox.everything().isEmpty)
    }

    @Test func rootIsCreatedAndCanonical() throws {
        try sandbox.link(sandbox.base + "/alias", to: sandbox.root)
        let repository = try LocalArtifactRepository(rootDirectory: sandbox.base + "/alias/new/nested")
        #expect(repository.rootDirectory == sandbox.root + "/new/nested")
    }
}

actor ObservedListing {
    var value: ([ArtifactEntry], ArtifactStatus) = ([.directory("unset")], .directory)

    func set(_ listing: [ArtifactEntry], _ status: ArtifactStatus) {
        value = (listing, status)
    }
}
