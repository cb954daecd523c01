import CairnArtifacts
import CairnCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CairnServer

/// The proxied artifact API and multipart uploads over HTTP, against a local repository in a
/// scratch directory. A class suite so each test's directory lives exactly as long as the test.
@Suite final class ArtifactsAPITests: Sendable {
    /// Holds `root`; nothing may ever appear here beside it.
    let base: String
    var root: String { base + "/artifacts" }

    static let artifacts = "/api/2.0/mlflow-artifacts/artifacts"
    static let mpu = "/api/2.0/mlflow-artifacts/mpu"

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-artifacts-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/artifacts", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let repository = try LocalArtifactRepository(rootDirectory: root, configuration: .init(durableWrites: false))
        try await APIFixture.withApp(artifacts: repository, body)
    }

    /// Every name under the root, hidden ones included.
    func everything() throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root).sorted()
    }

    /// Names left in the multipart staging directory.
    func staged() throws -> [String] {
        let staging = root + "/.cairn-tmp-multipart"
        guard FileManager.default.fileExists(atPath: staging) else { return [] }
        return try FileManager.default.subpathsOfDirectory(atPath: staging)
    }

    // MARK: Plain transfers

    /// MLflow's answer to an upload whose path ends in a slash: it names a folder, and stored it
    /// would be a file in the way of that folder's later files.
    @Test func anUploadToAFolderPathIsRefusedAndWritesNothing() async throws {
        try await withApp { client in
            for uri in ["\(Self.artifacts)/1/run/artifacts/docs/", "\(Self.artifacts)/1/run/artifacts/docs%2F"] {
                let response = try await client.put(uri, "contents")
                #expect(response.status == .badRequest, "\(uri)")
                let body = try json(response)
                #expect(body["error_code"] == .string("INVALID_PARAMETER_VALUE"))
                #expect(body["message"] == .string("Artifact path must include a filename (cannot end with '/')"))
            }
            #expect(try everything().isEmpty)
            // The folder stays usable for files.
            #expect(try await client.put("\(Self.artifacts)/1/run/artifacts/docs/notes.txt", "hello").status == .ok)
            #expect(try everything() == ["1", "1/run", "1/run/artifacts", "1/run/artifacts/docs", "1/run/artifacts/docs/notes.txt"])
        }
    }

    @Test func putGetListDeleteRoundTrip() async throws {
        try await withApp { client in
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
            let put = try await client.execute(
                uri: "\(Self.artifacts)/1/run/artifacts/data/blob.bin", method: .put, body: ByteBuffer(bytes: bytes))
            #expect(put.status == .ok)
            #expect(try json(put) == .object([:]))
            #expect(try await client.put("\(Self.artifacts)/1/run/artifacts/notes.txt", "hello").status == .ok)

            let got = try await client.get("\(Self.artifacts)/1/run/artifacts/data/blob.bin")
            #expect(got.status == .ok)
            #expect(Array(got.body.readableBytesView) == bytes)
            #expect(got.headers[.contentLength] == "300000")
            #expect(got.headers[.contentType] == "application/octet-stream")
            let text = try await client.get("\(Self.artifacts)/1/run/artifacts/notes.txt")
            #expect(String(buffer: text.body) == "hello")
            #expect(text.headers[.contentType] == "text/plain")

            let top = try json(try await client.get("\(Self.artifacts)?path=1/run/artifacts"))
            #expect(
                top
                    == .object([
                        "files": .array([
                            .object(["path": .string("data"), "is_dir": .bool(true)]),
                            .object(["path": .string("notes.txt"), "is_dir": .bool(false), "file_size": .number(5, raw: "5")]),
                        ])
                    ]))
            let inner = try json(try await client.get("\(Self.artifacts)?path=1/run/artifacts/data"))
            #expect(
                inner
                    == .object([
                        "files": .array([
                            .object(["path": .string("blob.bin"), "is_dir": .bool(false), "file_size": .number(300_000, raw: "300000")])
                        ])
                    ]))

            #expect(try await client.delete("\(Self.artifacts)/1/run/artifacts/data").status == .ok)
            try expectError(try await client.get("\(Self.artifacts)/1/run/artifacts/data/blob.bin"), .resourceDoesNotExist)
            #expect(try json(try await client.get("\(Self.artifacts)?path=1/run/artifacts/data")) == .object([:]))
            // Deleting again is fine: clients retry.
            #expect(try await client.delete("\(Self.artifacts)/1/run/artifacts/data").status == .ok)
        }
        #expect(try everything() == ["1", "1/run", "1/run/artifacts", "1/run/artifacts/notes.txt"])
    }

    @Test func traversalAttemptsAreRefusedAndTouchNothing() async throws {
        try await withApp { client in
            for hostile in [
                "../outside.txt", "%2e%2e/outside.txt", "%252e%252e/outside.txt", "a/..%2f..%2foutside.txt",
                "%2fetc%2fpasswd", "..%5coutside.txt", "a%00b.txt", "a%23b", ".cairn-tmp-multipart/x", "%ZZ",
            ] {
                let uri = "\(Self.artifacts)/\(hostile)"
                try expectError(try await client.put(uri, "x"), .invalidParameterValue)
                try expectError(try await client.get(uri), .invalidParameterValue)
                try expectError(try await client.delete(uri), .invalidParameterValue)
                try expectError(
                    try await client.post("\(Self.mpu)/create/\(hostile)", #"{"path":"f.bin","num_parts":1}"#), .invalidParameterValue)
            }
            for hostile in ["..", "../x", "%2e%2e", "/etc"] {
                try expectError(try await client.get("\(Self.artifacts)?path=\(hostile)"), .invalidParameterValue)
            }
            // The client's local file name is validated like a path.
            for local in ["..", ".", "dir/", "a\\u0000b", ".cairn-tmp-x", ""] {
                try expectError(
                    try await client.post("\(Self.mpu)/create/1/run", #"{"path":"\#(local)","num_parts":1}"#),
                    .invalidParameterValue
                )
            }
        }
        #expect(try everything() == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["artifacts"])
    }

    // MARK: Multipart upload

    /// The client's sequence: create, parts in parallel (here out of order), complete with the
    /// ETags as the part answers gave them (quoted).
    @Test func multipartUploadAssemblesPartsInOrder() async throws {
        try await withApp { client in
            let info = try json(try await client.get("/api/3.0/mlflow/server-info"))
            #expect(info["multipart_uploads_enabled"] == .bool(true))

            let parts: [[UInt8]] = [
                (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) },
                (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) },
                (0..<12_345).map { UInt8(truncatingIfNeeded: $0 &+ 101) },
            ]
            let created = try await client.post(
                "\(Self.mpu)/create/1/run/artifacts/models", #"{"path":"/home/me/data/big.bin","num_parts":3}"#)
            #expect(created.status == .ok)
            let body = try json(created)
            guard case .string(let upload)? = body["upload_id"], case .array(let credentials)? = body["credentials"] else {
                Issue.record("create answered \(String(buffer: created.body))")
                return
            }
            #expect(upload.count == 32)
            #expect(credentials.count == 3)
            var etags: [Int: String] = [:]
            for index in [2, 0, 1] {
                guard case .string(let url)? = credentials[index]["url"] else {
                    Issue.record("no url")
                    return
                }
                #expect(credentials[index]["part_number"] == .number(Double(index + 1), raw: String(index + 1)))
                #expect(url == "http://localhost/api/cairn/v1/artifacts/mpu/\(upload)/parts/\(index + 1)")
                let uri = String(url.dropFirst("http://localhost".count))
                let answer = try await client.execute(uri: uri, method: .put, body: ByteBuffer(bytes: parts[index]))
                #expect(answer.status == .ok)
                etags[index + 1] = answer.headers[.eTag]
            }
            #expect(etags.values.allSatisfy { $0.hasPrefix("\"") && $0.count == 66 })
            // Nothing is visible before completion.
            try expectError(try await client.get("\(Self.artifacts)/1/run/artifacts/models/big.bin"), .resourceDoesNotExist)

            let listed = (1...3).map {
                #"{"part_number":\#($0),"etag":"\#(etags[$0]!.replacingOccurrences(of: "\"", with: "\\\""))","url":null}"#
            }
            let complete = try await client.post(
                "\(Self.mpu)/complete/1/run/artifacts/models",
                #"{"path":"/home/me/data/big.bin","upload_id":"\#(upload)","parts":[\#(listed.joined(separator: ","))]}"#
            )
            #expect(complete.status == .ok)
            let got = try await client.get("\(Self.artifacts)/1/run/artifacts/models/big.bin")
            #expect(Array(got.body.readableBytesView) == parts.flatMap { $0 })
            let listing = try json(try await client.get("\(Self.artifacts)?path=1/run/artifacts/models"))
            #expect(
                listing
                    == .object([
                        "files": .array([
                            .object(["path": .string("big.bin"), "is_dir": .bool(false), "file_size": .number(1_412_345, raw: "1412345")])
                        ])
                    ]))
            // Completing again finds nothing to complete.
            try expectError(
                try await client.post(
                    "\(Self.mpu)/complete/1/run/artifacts/models", #"{"path":"big.bin","upload_id":"\#(upload)","parts":[]}"#),
                .resourceDoesNotExist
            )
        }
        #expect(try staged() == [])
        #expect(try everything().filter { $0.contains(".cairn-tmp-") && $0 != ".cairn-tmp-multipart" } == [])
    }

    @Test func abortLeavesNothing() async throws {
        try await withApp { client in
            let upload = try await self.create(client, "1/run/artifacts", file: "model.pkl", parts: 2)
            #expect(try await client.execute(uri: Self.part(upload, 1), method: .put, body: ByteBuffer(string: "part one")).status == .ok)
            #expect(try self.staged().count == 3) // the upload's directory, its manifest, part 1
            let abort = #"{"path":"model.pkl","upload_id":"\#(upload)"}"#
            #expect(try await client.post("\(Self.mpu)/abort/1/run/artifacts", abort).status == .ok)
            #expect(try self.staged() == [])
            // Aborting twice is fine (the client aborts after any failure); the upload is gone.
            #expect(try await client.post("\(Self.mpu)/abort/1/run/artifacts", abort).status == .ok)
            try expectError(
                try await client.execute(uri: Self.part(upload, 2), method: .put, body: ByteBuffer(string: "late")), .resourceDoesNotExist)
            try expectError(
                try await client.post("\(Self.mpu)/complete/1/run/artifacts", #"{"path":"model.pkl","upload_id":"\#(upload)","parts":[]}"#),
                .resourceDoesNotExist
            )
            #expect(try json(try await client.get("\(Self.artifacts)?path=1/run/artifacts")) == .object([:]))
        }
        #expect(try everything() == [".cairn-tmp-multipart"])
    }

    @Test func badMultipartRequestsChangeNothing() async throws {
        try await withApp { client in
            let upload = try await self.create(client, "1/run", file: "f.bin", parts: 2)
            let one = try await client.execute(uri: Self.part(upload, 1), method: .put, body: ByteBuffer(string: "first part "))
            let etag = try #require(one.headers[.eTag])
            let otherHash = String(repeating: "ab", count: 32)
            func complete(_ parts: String, path: String = "f.bin", id: String = upload, at directory: String = "1/run") async throws
                -> TestResponse
            {
                try await client.post("\(Self.mpu)/complete/\(directory)", #"{"path":"\#(path)","upload_id":"\#(id)","parts":[\#(parts)]}"#)
            }
            let quoted = etag.replacingOccurrences(of: "\"", with: "\\\"")

            // Upload ids: malformed ones are refused before they get near the disk.
            for bad in ["..%2f..%2fx", "ABCDEF0123456789ABCDEF0123456789", "abc", String(repeating: "g", count: 32), upload + "0"] {
                try expectError(
                    try await client.execute(
                        uri: "/api/cairn/v1/artifacts/mpu/\(bad)/parts/1", method: .put, body: ByteBuffer(string: "x")),
                    .invalidParameterValue)
                try expectError(try await complete(#"{"part_number":1,"etag":"\#(quoted)"}"#, id: bad), .invalidParameterValue)
                try expectError(
                    try await client.post("\(Self.mpu)/abort/1/run", #"{"path":"f.bin","upload_id":"\#(bad)"}"#), .invalidParameterValue)
            }
            let unknown = String(repeating: "0", count: 32)
            try expectError(
                try await client.execute(uri: Self.part(unknown, 1), method: .put, body: ByteBuffer(string: "x")), .resourceDoesNotExist)
            try expectError(try await complete(#"{"part_number":1,"etag":"\#(quoted)"}"#, id: unknown), .resourceDoesNotExist)

            // Part numbers outside the upload, or not numbers.
            for bad in ["0", "3", "-1", "abc", "99999", "1.0", "+1"] {
                try expectError(
                    try await client.execute(
                        uri: "/api/cairn/v1/artifacts/mpu/\(upload)/parts/\(bad)", method: .put, body: ByteBuffer(string: "x")),
                    .invalidParameterValue)
            }
            // A missing part, a wrong ETag, a part listed twice, a number out of range.
            try expectError(
                try await complete(#"{"part_number":1,"etag":"\#(quoted)"},{"part_number":2,"etag":"\"\#(otherHash)\""}"#),
                .invalidParameterValue)
            try expectError(try await complete(#"{"part_number":1,"etag":"\"\#(otherHash)\""}"#), .invalidParameterValue)
            try expectError(try await complete(#"{"part_number":1,"etag":"../../x"}"#), .invalidParameterValue)
            try expectError(
                try await complete(#"{"part_number":1,"etag":"\#(quoted)"},{"part_number":1,"etag":"\#(quoted)"}"#), .invalidParameterValue)
            try expectError(try await complete(#"{"part_number":3,"etag":"\#(quoted)"}"#), .invalidParameterValue)
            try expectError(try await complete(#"{"etag":"\#(quoted)"}"#), .invalidParameterValue)
            try expectError(
                try await client.post("\(Self.mpu)/complete/1/run", #"{"path":"f.bin","upload_id":"\#(upload)"}"#), .invalidParameterValue)
            // Another destination than the upload was created for.
            try expectError(try await complete(#"{"part_number":1,"etag":"\#(quoted)"}"#, path: "g.bin"), .invalidParameterValue)
            try expectError(try await complete(#"{"part_number":1,"etag":"\#(quoted)"}"#, at: "1/other"), .invalidParameterValue)
            try expectError(
                try await client.post("\(Self.mpu)/abort/1/run", #"{"path":"g.bin","upload_id":"\#(upload)"}"#), .invalidParameterValue)
            // Bad creations.
            for parts in ["-1", "10001", "\"many\""] {
                try expectError(
                    try await client.post("\(Self.mpu)/create/1/run", #"{"path":"f.bin","num_parts":\#(parts)}"#), .invalidParameterValue)
            }
            try expectError(try await client.post("\(Self.mpu)/create/1/run", #"{"num_parts":1}"#), .invalidParameterValue)
            #expect(try await client.put("\(Self.artifacts)/1/dir/inner.txt", "x").status == .ok)
            try expectError(try await client.post("\(Self.mpu)/create/1", #"{"path":"dir","num_parts":1}"#), .invalidParameterValue)

            // None of that wrote anything, and the upload still completes.
            try expectError(try await client.get("\(Self.artifacts)/1/run/f.bin"), .resourceDoesNotExist)
            #expect(try await complete(#"{"part_number":1,"etag":"\#(quoted)"}"#).status == .ok)
            #expect(String(buffer: try await client.get("\(Self.artifacts)/1/run/f.bin").body) == "first part ")
        }
        #expect(try staged() == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["artifacts"])
    }

    /// A client that retries a part may get a new ETag; complete takes the part it names.
    @Test func retriedPartUsesTheNamedAttempt() async throws {
        try await withApp { client in
            let upload = try await self.create(client, "run", file: "f.txt", parts: 1)
            let first = try await client.execute(uri: Self.part(upload, 1), method: .put, body: ByteBuffer(string: "first"))
            let second = try await client.execute(uri: Self.part(upload, 1), method: .put, body: ByteBuffer(string: "second"))
            let etag = try #require(second.headers[.eTag]).replacingOccurrences(of: "\"", with: "")
            #expect(first.headers[.eTag] != second.headers[.eTag])
            let complete = try await client.post(
                "\(Self.mpu)/complete/run", #"{"path":"f.txt","upload_id":"\#(upload)","parts":[{"part_number":1,"etag":"\#(etag)"}]}"#)
            #expect(complete.status == .ok)
            #expect(String(buffer: try await client.get("\(Self.artifacts)/run/f.txt").body) == "second")
        }
    }

    @Test func partURLsUseOnlyABareHost() {
        for good in ["localhost", "localhost:5000", "127.0.0.1:80", "[::1]:5000", "cairn.example.com", "my_host"] {
            #expect(MultipartUploadsController<AppRequestContext>.isBareAuthority(good))
        }
        for bad in ["", "evil.com/x?", "user@host", "host#x", "a b", "host%2f", String(repeating: "a", count: 300)] {
            #expect(!MultipartUploadsController<AppRequestContext>.isBareAuthority(bad))
        }
    }

    // MARK: Helpers

    static func part(_ upload: String, _ number: Int) -> String {
        "/api/cairn/v1/artifacts/mpu/\(upload)/parts/\(number)"
    }

    func create(_ client: any TestClientProtocol, _ directory: String, file: String, parts: Int) async throws -> String {
        let created = try await client.post("\(Self.mpu)/create/\(directory)", #"{"path":"\#(file)","num_parts":\#(parts)}"#)
        #expect(created.status == .ok)
        guard case .string(let upload)? = try json(created)["upload_id"] else {
            throw CairnError.notFound("create answered \(String(buffer: created.body))")
        }
        return upload
    }
}

extension TestClientProtocol {
    func put(_ path: String, _ text: String) async throws -> TestResponse {
        try await execute(uri: path, method: .put, body: ByteBuffer(string: text))
    }
}
