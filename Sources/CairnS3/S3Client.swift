import AsyncHTTPClient
import CairnCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The S3 REST calls the artifact repository needs, signed with SigV4 and sent over
/// AsyncHTTPClient. Bodies sent are whole `ByteBuffer`s (one part at most, so memory is
/// bounded by the part size) with their SHA-256 signed; bodies received stream.
///
/// Failures are `S3Error` (the store answered) or `S3UnreachableError` (it did not);
/// requests whose body can be sent again are retried a few times on either when transient.
struct S3Client: Sendable {
    let configuration: S3Configuration
    let signer: SigV4Signer
    let http: HTTPClient
    let now: @Sendable () -> Date

    /// Attempts for a request that failed transiently (busy store, dropped connection).
    static let attempts = 3

    init(configuration: S3Configuration, http: HTTPClient, now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.http = http
        self.now = now
    }

    /// One signed request, ready to send.
    func request(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: ByteBuffer? = nil
    ) -> HTTPClientRequest {
        let (authority, path) = configuration.location(of: key)
        let payloadHash =
            body.map { buffer in buffer.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) } } ?? SigV4Signer.emptyPayloadHash
        var headers = [("host", authority), ("x-amz-content-sha256", payloadHash)] + extra
        headers += signer.authorizationHeaders(
            method: method.rawValue, canonicalPath: path, query: query, headers: headers, payloadHash: payloadHash, date: now())
        let queryString = query.map { "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: configuration.origin(authority) + path + (queryString.isEmpty ? "" : "?" + queryString))
        request.method = method
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        return request
    }

    /// Sends a request built by `make` (again for each attempt, so each is signed afresh),
    /// returning a 2xx answer with its body unread; a non-2xx answer is thrown as `S3Error`.
    /// `accept` lets a caller take a non-2xx status as an answer (404 for HEAD).
    func send(
        _ operation: String, timeout: Duration? = nil, accept: Set<Int> = [], _ make: () -> HTTPClientRequest
    ) async throws -> HTTPClientResponse {
        var attempt = 1
        while true {
            let failure: any Error
            do {
                let response = try await http.execute(make(), timeout: TimeAmount(timeout ?? configuration.requestTimeout))
                let status = Int(response.status.code)
                if (200..<300).contains(status) || accept.contains(status) { return response }
                let body = try await response.body.collect(upTo: 1 << 20)
                let error = S3Error.from(status: status, body: body.readableBytesView, operation: operation)
                guard error.isTransient else { throw error }
                failure = error
            } catch let error as S3Error {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                failure = S3UnreachableError(endpoint: configuration.endpoint.description, operation: operation, reason: Self.reason(error))
            }
            guard attempt < Self.attempts else { throw failure }
            // 0.1 s, then 0.4 s: enough for a dropped connection or a brief SlowDown.
            try await Task.sleep(for: .milliseconds(100 << (2 * (attempt - 1))))
            attempt += 1
        }
    }

    /// A transport failure in a few words.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout: return "timed out"
            case .connectTimeout: return "no connection within the connect timeout"
            case .remoteConnectionClosed: return "the connection closed without an answer"
            default: return "\(error)"
            }
        default:
            let text = "\(error)"
            if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
                return "connection refused"
            }
            return text
        }
    }

    // MARK: - Operations

    /// HeadBucket: whether the bucket exists and these credentials reach it.
    func headBucket() async throws {
        let response = try await send("HeadBucket") { request(.HEAD, key: nil) }
        try await drain(response)
    }

    struct ObjectHead: Sendable {
        var size: Int64
        var etag: String?
    }

    /// HeadObject; `nil` when there is no such key.
    func headObject(_ key: String) async throws -> ObjectHead? {
        let response = try await send("HeadObject", accept: [404]) { request(.HEAD, key: key) }
        try await drain(response)
        guard response.status.code != 404 else { return nil }
        let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        return ObjectHead(size: size, etag: response.headers.first(name: "etag"))
    }

    /// GetObject, the answer's body unread: it streams as the caller reads it. With `etag`,
    /// the object must still be that version (`If-Match`), else `PreconditionFailed`.
    func getObject(_ key: String, etag: String?) async throws -> HTTPClientResponse {
        // The transfer is bounded by the client's idle timeout, not by a total duration: a
        // 5 GiB download may take long, but never stalls silently for long.
        try await send("GetObject", timeout: .seconds(7 * 24 * 3600)) {
            request(.GET, key: key, headers: etag.map { [("if-match", $0)] } ?? [])
        }
    }

    /// PutObject of one buffer.
    func putObject(_ key: String, _ body: ByteBuffer) async throws {
        let response = try await send("PutObject", timeout: transferTimeout(body.readableBytes)) { request(.PUT, key: key, body: body) }
        try await drain(response)
    }

    /// CreateMultipartUpload; the upload id.
    func createMultipartUpload(_ key: String) async throws -> String {
        let response = try await send("CreateMultipartUpload") { request(.POST, key: key, query: [("uploads", "")]) }
        let xml = try await document(response)
        guard let id = xml["UploadId"]?.text, !id.isEmpty else {
            throw S3Error(status: 200, code: "MalformedAnswer", message: "no UploadId", operation: "CreateMultipartUpload")
        }
        return id
    }

    /// UploadPart; the part's ETag as S3 quotes it.
    func uploadPart(_ key: String, uploadID: String, number: Int, _ body: ByteBuffer) async throws -> String {
        let response = try await send("UploadPart", timeout: transferTimeout(body.readableBytes)) {
            request(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body)
        }
        try await drain(response)
        guard let etag = response.headers.first(name: "etag") else {
            throw S3Error(status: 200, code: "MalformedAnswer", message: "no ETag", operation: "UploadPart")
        }
        return etag
    }

    /// CompleteMultipartUpload with `parts` as (number, ETag), in ascending order.
    func completeMultipartUpload(_ key: String, uploadID: String, parts: [(Int, String)]) async throws {
        var xml = "<CompleteMultipartUpload>"
        for (number, etag) in parts {
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = ByteBuffer(string: xml)
        let response = try await send("CompleteMultipartUpload", timeout: .seconds(15 * 60)) {
            request(.POST, key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], body: body)
        }
        // S3 may answer 200 and still fail: the error is then the body.
        let answer = try await document(response)
        if answer.name == "Error" {
            throw S3Error(
                status: 200, code: answer["Code"]?.text ?? "InternalError", message: answer["Message"]?.text ?? "",
                operation: "CompleteMultipartUpload")
        }
    }

    /// AbortMultipartUpload; an upload already gone is not an error.
    func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        let response = try await send("AbortMultipartUpload", accept: [404]) {
            request(.DELETE, key: key, query: [("uploadId", uploadID)])
        }
        try await drain(response)
    }

    /// A presigned UploadPart URL, for a client to send the part straight to the bucket.
    func presignedUploadPartURL(_ key: String, uploadID: String, number: Int) -> String {
        presignedURL(
            method: "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
            lifetime: configuration.presignedURLLifetime)
    }

    /// A URL that performs `method` on `key` for `lifetime` seconds without credentials.
    func presignedURL(method: String, key: String, query: [(String, String)], lifetime: Int) -> String {
        let (authority, path) = configuration.location(of: key)
        let signed = signer.presignedQuery(
            method: method, canonicalPath: path, host: authority, query: query, expires: lifetime, date: now())
        return configuration.origin(authority) + path + "?" + signed
    }

    struct Listing: Sendable {
        var objects: [(key: String, size: Int64)] = []
        var prefixes: [String] = []
        var continuation: String?
    }

    /// One page of ListObjectsV2 under `prefix`, grouped at `delimiter` when given.
    func listObjects(prefix: String, delimiter: String?, continuation: String?, maxKeys: Int = 1000) async throws -> Listing {
        var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuation { query.append(("continuation-token", continuation)) }
        let response = try await send("ListObjectsV2") { request(.GET, key: nil, query: query) }
        let xml = try await document(response, limit: 16 << 20)
        var listing = Listing()
        for entry in xml.all("Contents") {
            guard let key = entry["Key"]?.text else { continue }
            listing.objects.append((key, entry["Size"].flatMap { Int64($0.text) } ?? 0))
        }
        for entry in xml.all("CommonPrefixes") {
            if let prefix = entry["Prefix"]?.text { listing.prefixes.append(prefix) }
        }
        if xml["IsTruncated"]?.text == "true" {
            guard let token = xml["NextContinuationToken"]?.text, !token.isEmpty else {
                throw S3Error(status: 200, code: "MalformedAnswer", message: "truncated without a token", operation: "ListObjectsV2")
            }
            listing.continuation = token
        }
        return listing
    }

    /// DeleteObjects for up to 1000 keys; throws the first key S3 could not delete.
    func deleteObjects(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        var xml = "<Delete><Quiet>true</Quiet>"
        for key in keys { xml += "<Object><Key>\(S3XML.escape(key))</Key></Object>" }
        xml += "</Delete>"
        let body = ByteBuffer(string: xml)
        // S3 requires the body's MD5 on this call.
        let md5 = Data(Insecure.MD5.hash(data: Array(xml.utf8))).base64EncodedString()
        let response = try await send("DeleteObjects") {
            request(
                .POST, key: nil, query: [("delete", "")], headers: [("content-md5", md5), ("content-type", "application/xml")], body: body)
        }
        let answer = try await document(response)
        if let failed = answer.all("Error").first {
            throw S3Error(
                status: 200, code: failed["Code"]?.text ?? "InternalError",
                message: "\(failed["Key"]?.text ?? ""): \(failed["Message"]?.text ?? "")", operation: "DeleteObjects")
        }
    }

    // MARK: - Helpers

    /// A minute plus a second per 100 KB: a part of 8 MiB gets ~2.5 minutes.
    func transferTimeout(_ bytes: Int) -> Duration {
        configuration.requestTimeout + .seconds(bytes / 100_000)
    }

    func document(_ response: HTTPClientResponse, limit: Int = 1 << 20) async throws -> S3XML {
        let body = try await response.body.collect(upTo: limit)
        return try S3XML.parse(body.readableBytesView)
    }

    func drain(_ response: HTTPClientResponse) async throws {
        for try await _ in response.body {}
    }
}
