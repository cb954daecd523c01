import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnArtifacts

/// Links inside the root that lead outside it (mlflow#18964) are refused by every operation,
/// and nothing outside the root is read, written, listed or deleted. Links that stay inside
/// the root keep working.
@Suite final class SymlinkEscapeTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
    }

    /// The root holds escaping links of every shape, and in-root links next to them.
    func prepare() throws -> LocalArtifactRepository {
        let root = sandbox.root
        try sandbox.link(root + "/escape", to: "../outside")
        try sandbox.link(root + "/escape-abs", to: sandbox.outside)
        try sandbox.link(root + "/secret-link", to: "../outside/secret.txt")
        try sandbox.link(root + "/dangling", to: "../outside/nothing")
        try sandbox.link(root + "/dangling-dir", to: "../outside/newdir")
        try sandbox.link(root + "/loop-a", to: "loop-b")
        try sandbox.link(root + "/loop-b", to: "loop-a")
        try sandbox.link(root + "/hop1", to: "hop2")
        try sandbox.link(root + "/hop2", to: "real/up")
        try sandbox.make(directory: root + "/real")
        try sandbox.write("inside", to: root + "/real/file.txt")
        try sandbox.link(root + "/real/up", to: "../../outside")
        try sandbox.link(root + "/inner", to: "real")
        try sandbox.link(root + "/inner-file", to: "real/file.txt")
        try sandbox.link(root + "/to-root", to: ".")
        return try sandbox.repository()
    }

    static let escapes = [
        "escape", "escape/secret.txt", "escape/outdir", "escape/outdir/deep.txt", "escape/new.txt",
        "escape/newdir/x", "escape-abs", "escape-abs/secret.txt", "escape-abs/new.txt",
        "secret-link", "dangling", "dangling-dir", "dangling-dir/x", "loop-a", "loop-a/x",
        "real/up", "real/up/secret.txt", "real/up/new", "inner/up/secret.txt", "inner/up/outdir/x",
        "to-root/escape/secret.txt", "hop1", "hop1/secret.txt", "hop1/x/y",
    ]

    @Test(arguments: escapes)
    func everyOperationRefusesTheEscape(_ escape: String) async throws {
        let repository = try prepare()
        let outsideBefore = try sandbox.snapshot(sandbox.outside)
        let rootBefore = try sandbox.snapshot(sandbox.root)
        let target = try path(escape)

        await #expect(throws: ArtifactPath.invalid) { try await repository.read(target) }
        await #expect(throws: ArtifactPath.invalid) { try await repository.write(target, from: Chunks("pwned")) }
        await #expect(throws: ArtifactPath.invalid) { try await repository.list(target) }
        await #expect(throws: ArtifactPath.invalid) { try await repository.status(of: target) }
        await #expect(throws: ArtifactPath.invalid) { try await repository.delete(target) }

        #expect(try sandbox.snapshot(sandbox.outside) == outsideBefore)
        #expect(try sandbox.snapshot(sandbox.root) == rootBefore)
    }

    @Test func listingHidesEscapingLinksAndFollowsInnerOnes() async throws {
        let repository = try prepare()
        let rootListing = try await repository.list(.root)
        #expect(
            rootListing == [
                .directory("inner"),
                .file("inner-file", size: 6),
                .directory("real"),
                .directory("to-root"),
            ])
        let innerListing = try await repository.list(path("inner"))
        #expect(innerListing == [.file("file.txt", size: 6)])
        #expect(try await repository.list(path("to-root")) == repository.list(.root))
    }

    @Test func linksInsideTheRootWork() async throws {
        let repository = try prepare()
        let outsideBefore = try sandbox.snapshot(sandbox.outside)
        #expect(try await text(repository.read(path("inner/file.txt"))) == "inside")
        #expect(try await text(repository.read(path("inner-file"))) == "inside")
        #expect(try await text(repository.read(path("to-root/real/file.txt"))) == "inside")
        #expect(try await repository.status(of: path("inner")) == .directory)
        #expect(try await repository.status(of: path("to-root")) == .directory)

        try await repository.write(path("inner/new.txt"), from: Chunks("via link"))
        #expect(try sandbox.contents(of: sandbox.root + "/real/new.txt") == "via link")
        try await repository.write(path("inner-file"), from: Chunks("replaced"))
        #expect(try sandbox.contents(of: sandbox.root + "/real/file.txt") == "replaced")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.root + "/inner-file") == "real/file.txt")
        await #expect(throws: ArtifactPath.invalid) { try await repository.write(path("to-root"), from: Chunks("x")) }

        // Deleting a link removes the link, never what it points to.
        #expect(try await repository.delete(path("inner")))
        #expect(try await repository.delete(path("to-root")))
        #expect(try sandbox.contents(of: sandbox.root + "/real/file.txt") == "replaced")
        #expect(try await repository.status(of: path("real")) == .directory)
        #expect(try sandbox.snapshot(sandbox.outside) == outsideBefore)
    }

    /// Deleting a tree that contains an escaping link removes the link and leaves its target.
    @Test func treeDeletionDoesNotFollowLinks() async throws {
        let repository = try prepare()
        let outsideBefore = try sandbox.snapshot(sandbox.outside)
        #expect(try await repository.delete(path("real")))
        #expect(try sandbox.snapshot(sandbox.outside) == outsideBefore)
        #expect(try await repository.status(of: path("real")) == .missing)
    }

    /// The destination directory is swapped for an escaping link while the body is arriving:
    /// the commit resolves the path again, refuses it, and removes the temporary file.
    @Test func linkSwappedInDuringUploadIsRefused() async throws {
        let repository = try sandbox.repository(chunkSize: 64 << 10)
        try sandbox.make(directory: sandbox.root + "/swap")
        let outsideBefore = try sandbox.snapshot(sandbox.outside)
        let chunk = ByteBuffer(repeating: 9, count: 128 << 10)
        let root = sandbox.root
        let body = Chunks(Array(repeating: chunk, count: 4)) { index in
            guard index == 2 else { return }
            guard rename(root + "/swap", root + "/swap-old") == 0, symlink("../outside", root + "/swap") == 0 else {
                throw SandboxError.setup("swap")
            }
        }
        await #expect(throws: ArtifactPath.invalid) { try await repository.write(path("swap/x.bin"), from: body) }
        #expect(try sandbox.snapshot(sandbox.outside) == outsideBefore)
        #expect(try sandbox.everything() == ["swap", "swap-old"])
    }

    /// A root given through a link is canonicalised; links out of it are still caught.
    @Test func rootGivenThroughALinkIsStillEnforced() async throws {
        try sandbox.link(sandbox.base + "/root-alias", to: "root")
        let repository = try LocalArtifactRepository(rootDirectory: sandbox.base + "/root-alias")
        try sandbox.link(sandbox.root + "/out", to: sandbox.base + "/root-alias/../outside")
        await #expect(throws: ArtifactPath.invalid) { try await repository.read(path("out/secret.txt")) }
        try await repository.write(path("ok"), from: Chunks("fine"))
        #expect(try sandbox.contents(of: sandbox.root + "/ok") == "fine")
    }
}
