import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnArtifacts

/// The start-up sweep of what killed uploads leave behind.
@Suite final class StaleUploadSweepTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
    }

    var staging: String { sandbox.root + "/.cairn-tmp-multipart" }

    func age(_ path: String, hours: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -hours * 3_600)], ofItemAtPath: path)
    }

    @Test func removesOnlyIdleLeftoversWithReservedNames() async throws {
        let repository = try sandbox.repository()
        try await repository.write(path("1/run/model.pkl"), from: Chunks("model"))
        // Left by uploads killed long ago, at the root and deep in the tree.
        for leftover in ["/.cairn-tmp-0123456789abcdef", "/1/run/.cairn-tmp-00000000000000aa"] {
            try sandbox.write("partial", to: sandbox.root + leftover)
            try age(sandbox.root + leftover, hours: 2)
        }
        // A temporary file still being written to: an upload in progress.
        try sandbox.write("fresh", to: sandbox.root + "/1/.cairn-tmp-00000000000000bb")
        // Not Cairn's names, however old.
        try sandbox.write("dotfile", to: sandbox.root + "/1/run/.cairn-notes")
        try sandbox.make(directory: sandbox.root + "/1/.cairn-tmp-dir")
        try sandbox.write("inner", to: sandbox.root + "/1/.cairn-tmp-dir/inner")
        for name in ["/1/run/.cairn-notes", "/1/.cairn-tmp-dir/inner", "/1/.cairn-tmp-dir"] { try age(sandbox.root + name, hours: 48) }
        // Reachable only through a link, which the sweep never follows.
        try sandbox.write("outside", to: sandbox.outside + "/.cairn-tmp-outside")
        try age(sandbox.outside + "/.cairn-tmp-outside", hours: 48)
        try sandbox.link(sandbox.root + "/escape", to: sandbox.outside)
        // One multipart upload idle for two days, one active.
        let abandoned = try await repository.createMultipartUpload(at: path("1/run/big.bin"), parts: 2)
        let part = try await repository.writePart(1, of: abandoned, from: Chunks("part"))
        for name in ["", "/upload", "/1.\(part.etag)"] { try age("\(staging)/\(abandoned)\(name)", hours: 48) }
        let active = try await repository.createMultipartUpload(at: path("1/run/other.bin"), parts: 1)
        try age("\(staging)/\(active)", hours: 48) // its manifest is fresh

        let sweep = try await repository.removeStaleUploads()
        #expect(sweep == StaleUploadSweep(temporaryFiles: 2, multipartUploads: 1))
        let fileManager = FileManager.default
        #expect(!fileManager.fileExists(atPath: sandbox.root + "/.cairn-tmp-0123456789abcdef"))
        #expect(!fileManager.fileExists(atPath: sandbox.root + "/1/run/.cairn-tmp-00000000000000aa"))
        for kept in ["/1/.cairn-tmp-00000000000000bb", "/1/run/.cairn-notes", "/1/.cairn-tmp-dir/inner", "/1/run/model.pkl"] {
            #expect(fileManager.fileExists(atPath: sandbox.root + kept), "\(kept)")
        }
        #expect(try sandbox.contents(of: sandbox.outside + "/.cairn-tmp-outside") == "outside")
        #expect(try fileManager.contentsOfDirectory(atPath: staging) == [active.rawValue])
        await #expect(throws: CairnError.self) { try await repository.writePart(2, of: abandoned, from: Chunks("late")) }
        _ = try await repository.writePart(1, of: active, from: Chunks("still open"))

        // With no idle time required, every leftover goes; normal files stay.
        let all = try await repository.removeStaleUploads(temporaryFilesIdleFor: .zero, multipartUploadsIdleFor: .zero)
        #expect(all == StaleUploadSweep(temporaryFiles: 1, multipartUploads: 1))
        #expect(try fileManager.contentsOfDirectory(atPath: staging) == [])
        #expect(try await text(repository.read(path("1/run/model.pkl"))) == "model")
        #expect(try await repository.list(path("1")) == [.directory("run")])
    }
}
