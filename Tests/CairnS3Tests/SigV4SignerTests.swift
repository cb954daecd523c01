import Foundation
import Testing

@testable import CairnS3

/// SigV4 against AWS's published vectors: the generic test suite (credentials AKIDEXAMPLE,
/// 2015-08-30T12:36:00Z, us-east-1, service `service`), the IAM example of "Signature Version
/// 4 signing process", and the S3 API reference's header and query-string examples.
@Suite struct SigV4SignerTests {
    static let suiteCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
    static let s3Credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z

    struct Vector: Sendable, CustomStringConvertible {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var payloadHash = SigV4Signer.emptyPayloadHash
        var signedHeaders = "host;x-amz-date"
        var signature: String
        var description: String { name }
    }

    static let suite: [Vector] = [
        Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-unreserved",
            query: [
                (
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                )
            ],
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            name: "get-vanilla-utf8-query", query: [("ሴ", "bar")],
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            name: "get-utf8", path: "/" + SigV4Signer.uriEncode("ሴ"),
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            name: "get-header-value-trim", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "get-header-key-duplicate", headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(name: "post-vanilla", method: "POST", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "post-vanilla-query", method: "POST", query: [("Param1", "value1")],
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            name: "post-vanilla-query-nonunreserved", method: "POST", query: [("@#$%^", ""), ("+", "/,?><`\";:\\|][{}")],
            signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"),
        Vector(
            name: "post-header-key-sort", method: "POST", headers: [("My-Header1", "value1")], signedHeaders: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Vector(
            name: "post-header-value-case", method: "POST", headers: [("My-Header1", "VALUE1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            payloadHash: sha256Hex("Param1=value1"), signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ]

    @Test(arguments: SigV4SignerTests.suite) func awsTestSuite(_ vector: Vector) {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let added = signer.authorizationHeaders(
            method: vector.method, canonicalPath: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com")] + vector.headers, payloadHash: vector.payloadHash, date: Self.suiteDate)
        #expect(added.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
        #expect(
            added.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)"
        )
    }

    @Test func sessionTokenIsSignedAndSent() {
        var credentials = Self.suiteCredentials
        credentials.sessionToken =
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let added = signer.authorizationHeaders(
            method: "POST", canonicalPath: "/", query: [], headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        // post-sts-header-before: the token is one of the signed headers.
        #expect(added.first { $0.0 == "x-amz-security-token" }?.1 == credentials.sessionToken)
        #expect(
            added.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        )
    }

    /// "Signature Version 4 signing process": GET ?Action=ListUsers&Version=2010-05-08 on IAM.
    @Test func iamExample() {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "iam")
        let added = signer.authorizationHeaders(
            method: "GET", canonicalPath: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
            headers: [("Host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(
            added.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        )
    }

    /// The S3 API reference's "Signature Calculations for the Authorization Header" examples.
    @Test func s3HeaderExamples() {
        let signer = SigV4Signer(credentials: Self.s3Credentials, region: "us-east-1")
        func signature(_ method: String, _ path: String, _ query: [(String, String)], _ headers: [(String, String)], _ hash: String)
            -> String?
        {
            let all = [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", hash)] + headers
            let added = signer.authorizationHeaders(
                method: method, canonicalPath: path, query: query, headers: all, payloadHash: hash, date: Self.s3Date)
            return added.first { $0.0 == "Authorization" }?.1.components(separatedBy: "Signature=").last
        }
        let empty = SigV4Signer.emptyPayloadHash
        // GET Object with a range.
        #expect(
            signature("GET", "/test.txt", [], [("Range", "bytes=0-9")], empty)
                == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        // PUT Object: "Welcome to Amazon S3." to a key with `$`, which the path encodes.
        let hash = sha256Hex("Welcome to Amazon S3.")
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(
            signature(
                "PUT", "/" + SigV4Signer.uriEncode("test$file.text", keepSlash: true), [],
                [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")], hash)
                == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        // GET Bucket (list objects) with a query.
        #expect(
            signature("GET", "/", [("max-keys", "2"), ("prefix", "J")], [], empty)
                == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// The S3 API reference's "Authenticating Requests: Using Query Parameters" example.
    @Test func presignedURLExample() {
        let signer = SigV4Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let query = signer.presignedQuery(
            method: "GET", canonicalPath: "/test.txt", host: "examplebucket.s3.amazonaws.com", query: [], expires: 86_400, date: Self.s3Date
        )
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    @Test func aWrongSecretSignsDifferently() {
        var credentials = Self.suiteCredentials
        credentials.secretAccessKey += "x"
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let added = signer.authorizationHeaders(
            method: "GET", canonicalPath: "/", query: [], headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(
            added.first { $0.0 == "Authorization" }?.1.hasSuffix("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
                == false)
    }

    @Test func uriEncoding() {
        #expect(SigV4Signer.uriEncode("a b+c/d~e") == "a%20b%2Bc%2Fd~e")
        #expect(SigV4Signer.uriEncode("dir/a b.txt", keepSlash: true) == "dir/a%20b.txt")
        #expect(SigV4Signer.uriEncode("é") == "%C3%A9")
    }

    @Test func datesAreUTC() {
        #expect(AMZDate(Date(timeIntervalSince1970: 0)).full == "19700101T000000Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 951_782_400)).day == "20000229")
        #expect(AMZDate(Date(timeIntervalSince1970: 4_102_444_799)).full == "20991231T235959Z")
    }
}

/// The hex SHA-256 of `text`'s UTF-8.
func sha256Hex(_ text: String) -> String {
    Array(text.utf8).withUnsafeBytes { SigV4Signer.payloadHash($0) }
}
