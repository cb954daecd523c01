import Crypto
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as S3 and every other AWS API check it:
/// the canonical request, the string to sign, the derived signing key and the `Authorization`
/// header, or the same signature carried in a presigned URL's query string.
///
/// Written here rather than taken from an SDK: Soto is not among the project's packages, and
/// the algorithm is small. It is checked against AWS's published test-suite vectors.
///
/// Paths are passed already URI-encoded (`canonicalPath`), exactly as they go on the wire, so
/// the string signed and the string sent cannot differ; S3 encodes a key once, keeping `/`.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// `x-amz-content-sha256` for a body whose hash is not computed (presigned URLs).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The SHA-256 of no bytes, the payload hash of every bodiless request.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request so that it is signed: `x-amz-date`, the session token
    /// when there is one, and `Authorization`. `headers` must hold `host` and every other
    /// header to be signed (S3 wants `x-amz-content-sha256` among them); all of them are signed.
    public func authorizationHeaders(
        method: String, canonicalPath: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, date: Date
    ) -> [(String, String)] {
        let stamp = AMZDate(date)
        var added = [("x-amz-date", stamp.full)]
        if let token = credentials.sessionToken, !headers.contains(where: { $0.0.lowercased() == "x-amz-security-token" }) {
            added.append(("x-amz-security-token", token))
        }
        let canonical = Self.canonicalHeaders(headers + added)
        let request = [
            method, canonicalPath, Self.canonicalQuery(query), canonical.text, canonical.signed, payloadHash,
        ].joined(separator: "\n")
        let signature = signature(of: request, at: stamp)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(stamp)), SignedHeaders=\(canonical.signed), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    /// The query items of a presigned URL (the given `query` first, then the `X-Amz-*`
    /// items ending with the signature), already encoded and joined with `&`. Only `host` is
    /// signed and the payload is `UNSIGNED-PAYLOAD`, as S3's presigned URLs are: whoever holds
    /// the URL may send any body, for `expires` seconds from `date`.
    public func presignedQuery(method: String, canonicalPath: String, host: String, query: [(String, String)], expires: Int, date: Date)
        -> String
    {
        let stamp = AMZDate(date)
        var items = query
        items.append(("X-Amz-Algorithm", Self.algorithm))
        items.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(stamp))"))
        items.append(("X-Amz-Date", stamp.full))
        items.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        items.append(("X-Amz-SignedHeaders", "host"))
        let canonical = Self.canonicalHeaders([("host", host)])
        let request = [
            method, canonicalPath, Self.canonicalQuery(items), canonical.text, canonical.signed, Self.unsignedPayload,
        ].joined(separator: "\n")
        items.append(("X-Amz-Signature", signature(of: request, at: stamp)))
        return items.map { "\(Self.uriEncode($0.0))=\(Self.uriEncode($0.1))" }.joined(separator: "&")
    }

    // MARK: - The steps, internal for the tests

    /// `<date>/<region>/<service>/aws4_request`.
    func scope(_ stamp: AMZDate) -> String {
        "\(stamp.day)/\(region)/\(service)/aws4_request"
    }

    func stringToSign(_ canonicalRequest: String, at stamp: AMZDate) -> String {
        [Self.algorithm, stamp.full, scope(stamp), Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// HMAC chain from `AWS4<secret>` over the date, region, service and `aws4_request`.
    func signingKey(_ stamp: AMZDate) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [stamp.day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Self.hmac(key, part))
        }
        return key
    }

    func signature(of canonicalRequest: String, at stamp: AMZDate) -> String {
        Self.hex(Self.hmac(signingKey(stamp), stringToSign(canonicalRequest, at: stamp)))
    }

    static func hmac(_ key: SymmetricKey, _ message: String) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)
        return code.withUnsafeBytes { Array($0) }
    }

    /// Lower-case names sorted, values trimmed with inner runs of spaces collapsed, repeated
    /// names joined with `,` in the order given.
    static func canonicalHeaders(_ headers: [(String, String)]) -> (text: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let names = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let text = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (text, names.joined(separator: ";"))
    }

    /// Every name and value URI-encoded, sorted by encoded name, then value.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (uriEncode($0.0), uriEncode($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// AWS's `UriEncode`: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX` in upper-case hex;
    /// `/` kept when `keepSlash` (object keys in a path).
    public static func uriEncode(_ string: String, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex SHA-256 of `bytes`, for `x-amz-content-sha256`.
    public static func payloadHash(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hex(hasher.finalize())
    }
}

/// A signing time in SigV4's two forms, `20150830T123600Z` and `20150830`, always UTC.
struct AMZDate: Sendable {
    let full: String
    let day: String

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        self.day = pad(year, 4) + pad(month, 2) + pad(day, 2)
        self.full =
            self.day + "T" + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }
}
