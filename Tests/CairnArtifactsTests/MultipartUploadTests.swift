import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnArtifacts

/// Multipart uploads on the local repository. The HTTP side is in
/// `CairnServerTests/ArtifactsAPITests`.
@Suite final class MultipartUploadTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
    }

    var staging: String { sandbox.root + "/.cairn-tmp-multipart" }

    /// Part `offset..<offset + count` of the test pattern, as one buffer.
    static func pattern(from offset: Int, count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        Pattern.forEachRun(from: offset, count: count) { buffer.writeBytes($0) }
        return buffer
    }

    @Test func largePartsJoinInPartNumberOrder() async throws {
        let repository = try sandbox.repository(chunkSize: 256 << 10, durable: true)
        let sizes = [5 << 20, 5 << 20, 1_234]
        let offsets = [0, sizes[0], sizes[0] + sizes[1]]
        let total = sizes.reduce(0, +)
        let upload = try await repository.createMultipartUpload(at: path("1/run/artifacts/model.bin"), parts: 3)
        var parts: [MultipartPart] = []
        for index in [1, 2, 0] {
            let body = Chunks([Self.pattern(from: offsets[index], count: sizes[index])])
            parts.append(try await repository.writePart(index + 1, of: upload, from: body))
        }
        #expect(Set(parts.map(\.number)) == [1, 2, 3])
        #expect(parts.allSatisfy { MultipartUpload.isLowercaseHex($0.etag, length: 64) })
        #expect(try await repository.status(of: path("1/run/artifacts/model.bin")) == .missing)

        #expect(try await repository.completeMultipartUpload(upload, at: path("1/run/artifacts/model.bin"), parts: parts) == Int64(total))
        let contents = try await repository.read(path("1/run/artifacts/model.bin"))
        #expect(contents.size == Int64(total))
        var offset = 0
        var mismatches = 0
        for try await chunk in contents {
            if !Pattern.matches(chunk, at: offset) { mismatches += 1 }
            offset += chunk.readableBytes
        }
        #expect(offset == total && mismatches == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging) == [])
        #expect(try await repository.list(.root) == [.directory("1")])
    }

    @Test func sameBytesSameETagAndAFailedPartKeepsTheEarlierOne() async throws {
        let repository = try sandbox.repository()
        let upload = try await repository.createMultipartUpload(at: path("f.txt"), parts: 1)
        let first = try await repository.writePart(1, of: upload, from: Chunks("same"))
        let again = try await repository.writePart(1, of: upload, from: Chunks("same"))
        #expect(first == again)
        // SHA-256 of "same".
        #expect(first.etag == "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5")
        await #expect(throws: InjectedFailure.self) {
            try await repository.writePart(1, of: upload, from: Chunks([ByteBuffer(string: "other")], failAt: 1))
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: staging).sorted()
        #expect(left == [upload.rawValue, "\(upload)/1.\(first.etag)", "\(upload)/upload"])
        try await repository.completeMultipartUpload(upload, at: path("f.txt"), parts: [first])
        #expect(try sandbox.contents(of: sandbox.root + "/f.txt") == "same")
    }

    @Test func refusalsChangeNothing() async throws {
        let repository = try sandbox.repository()
        let upload = try await repository.createMultipartUpload(at: path("a/f.bin"), parts: 2)
        let part = try await repository.writePart(1, of: upload, from: Chunks("one"))
        await #expect(throws: CairnError.self) { try await repository.writePart(3, of: upload, from: Chunks("x")) }
        await #expect(throws: CairnError.self) { try await repository.writePart(0, of: upload, from: Chunks("x")) }
        let missing = MultipartPart(number: 2, etag: part.etag)
        await #expect(throws: CairnError.self) {
            try await repository.completeMultipartUpload(upload, at: path("a/f.bin"), parts: [part, missing])
        }
        await #expect(throws: CairnError.self) { try await repository.completeMultipartUpload(upload, at: path("a/g.bin"), parts: [part]) }
        await #expect(throws: CairnError.self) { try await repository.abortMultipartUpload(upload, at: path("b/f.bin")) }
        await #expect(throws: CairnError.self) {
            try await repository.createMultipartUpload(at: path("x"), parts: MultipartUpload.maxParts + 1)
        }
        await #expect(throws: CairnError.self) { try await repository.createMultipartUpload(at: .root, parts: 1) }
        #expect(try await repository.list(.root) == [])
        try await repository.completeMultipartUpload(upload, at: path("a/f.bin"), parts: [part])
        #expect(try sandbox.contents(of: sandbox.root + "/a/f.bin") == "one")
    }

    @Test func uploadIDsAreRandomAndValidated() throws {
        let ids = Set((0..<100).map { _ in MultipartUploadID.random() })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { MultipartUploadID.isValid($0.rawValue) })
        for bad in ["", "../x", String(repeating: "A", count: 32), String(repeating: "0", count: 31), String(repeating: "0", count: 33)] {
            #expect(throws: CairnError.self) { try MultipartUploadID(bad) }
        }
    }

    /// An object store's own ids (S3's are opaque base64-like text) pass their own check,
    /// and the local repository never takes one for a staging directory.
    @Test func objectStoreIDsAreValidatedAndUnknownLocally() async throws {
        let s3Style = "2~ZWJjZDEyMzQ1Njc4OTA.abc_def-ghi+jkl/mno="
        #expect(try MultipartUploadID(objectStoreID: s3Style).rawValue == s3Style)
        for bad in ["", "a b", "a\u{0}b", "é", "<x>", "a\"b", String(repeating: "a", count: 1025)] {
            #expect(throws: CairnError.self) { try MultipartUploadID(objectStoreID: bad) }
        }
        let repository = try sandbox.repository()
        #expect(throws: CairnError.self) { try repository.uploadID(s3Style) }
        let foreign = try MultipartUploadID(objectStoreID: "../../outside")
        await #expect(throws: CairnError.self) {
            try await repository.writePart(1, of: foreign, from: Chunks("x"))
        }
        try await repository.abortMultipartUpload(foreign, at: try ArtifactPath("f.bin"))
        #expect(try await repository.partUploadURLs(for: foreign, at: try ArtifactPath("f.bin"), parts: 2) == nil)
    }
}
