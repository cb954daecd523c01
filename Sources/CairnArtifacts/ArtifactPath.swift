import CairnCore

/// A location inside an artifact root, validated once when it is built from client input.
///
/// Repositories only accept `ArtifactPath`, so no code path can hand them a raw string: the
/// checks below are the single gate between a request and the disk (or an object store key).
/// MLflow's advisory history is the reason for each rule: validation that ran before
/// percent-decoding (#10650), `#` fragments (#11376), endpoints that forgot to call the check
/// (#7891, #21945). Refusals use MLflow's exact answer, 400 INVALID_PARAMETER_VALUE
/// "Invalid path", and never echo the offending input.
///
/// Rules, applied to the path as received and to every percent-decoded form of it:
/// * no absolute paths (`/x`, a Windows drive `C:`), no backslashes, no `#`;
/// * no `..` segment;
/// * no NUL or other control characters, and decoded forms must be valid UTF-8.
///
/// Rules for the literal path, the one that names the file:
/// * no empty segment inside the path (`a//b`); one trailing `/` and `.` segments are dropped;
/// * at most ``maxLength`` bytes and ``maxSegmentLength`` bytes per segment (S3's key limit and
///   `NAME_MAX`), so a long name is a 400 and not an `ENAMETOOLONG` 500;
/// * no segment starting with the prefix reserved for in-flight uploads.
///
/// Symbolic links are a property of the disk, not of the string; `LocalArtifactRepository`
/// checks them when it walks the path.
public struct ArtifactPath: Sendable, Hashable, CustomStringConvertible {
    /// The segments, each non-empty and none of them `.` or `..`. Empty for the root.
    public let segments: [String]

    /// Longest accepted path in UTF-8 bytes: S3's object key limit.
    public static let maxLength = 1024
    /// Longest accepted segment in UTF-8 bytes: `NAME_MAX` on Linux and macOS.
    public static let maxSegmentLength = 255
    /// How many percent-decoding rounds are checked before the path is refused as obfuscated.
    static let maxDecodingRounds = 10
    /// Names starting with this are in-flight uploads: never addressable, never listed.
    static let reservedPrefix = ".cairn-tmp-"

    /// The error every refused path gets, matching MLflow's `validate_path_is_safe`.
    public static var invalid: CairnError { .invalidParameter("Invalid path") }

    /// The artifact root itself.
    public static let root = ArtifactPath(checkedSegments: [])

    private init(checkedSegments: [String]) {
        self.segments = checkedSegments
    }

    /// Validates a client-supplied relative path such as `1/abc/artifacts/model/MLmodel`.
    /// `""`, `"."` and `"/"`-free equivalents name the root.
    /// - Throws: `CairnError` INVALID_PARAMETER_VALUE "Invalid path".
    public init(_ string: String) throws {
        let bytes = Array(string.utf8)
        guard bytes.count <= Self.maxLength else { throw Self.invalid }
        try Self.checkTraversal(bytes)
        var layer = bytes
        for round in 0...Self.maxDecodingRounds {
            guard let decoded = Self.percentDecoded(layer) else { break }
            guard round < Self.maxDecodingRounds, Self.isValidUTF8(decoded) else { throw Self.invalid }
            try Self.checkTraversal(decoded)
            layer = decoded
        }
        self.segments = try Self.literalSegments(bytes)
    }

    /// Whether `name` could be one segment of a valid path. Listings use it to hide entries a
    /// client could never address (the MLflow client refuses unsafe names in a listing).
    public static func isValidSegment(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", !name.utf8.contains(UInt8(ascii: "/")),
            let path = try? ArtifactPath(name)
        else { return false }
        return path.segments == [name]
    }

    public var isRoot: Bool { segments.isEmpty }

    /// The last segment; `nil` for the root.
    public var name: String? { segments.last }

    /// The enclosing directory; `nil` for the root.
    public var parent: ArtifactPath? {
        isRoot ? nil : ArtifactPath(checkedSegments: Array(segments.dropLast()))
    }

    /// `self` followed by `other`, e.g. a run's artifact directory plus a client path.
    /// - Throws: "Invalid path" when the result is longer than ``maxLength``.
    public func appending(_ other: ArtifactPath) throws -> ArtifactPath {
        let joined = ArtifactPath(checkedSegments: segments + other.segments)
        guard joined.description.utf8.count <= Self.maxLength else { throw Self.invalid }
        return joined
    }

    /// Whether `self` is `other` or lies below it.
    public func hasPrefix(_ other: ArtifactPath) -> Bool {
        segments.starts(with: other.segments)
    }

    /// Segments joined with `/`; `""` for the root.
    public var description: String { segments.joined(separator: "/") }

    // MARK: - Checks

    /// Traversal rules that must hold for the literal path and for each decoded form.
    private static func checkTraversal(_ bytes: [UInt8]) throws {
        for byte in bytes {
            // C0 controls (NUL truncates C strings), DEL, `\` (a separator on Windows and for
            // some object stores), `#` (a URI fragment, CVE-2024-1594 and friends).
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "#") {
                throw invalid
            }
        }
        if bytes.first == UInt8(ascii: "/") { throw invalid }
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"), isASCIILetter(bytes[0]) { throw invalid }
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        where segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
            throw invalid
        }
    }

    /// Splits the literal path; the traversal checks have already passed.
    private static func literalSegments(_ bytes: [UInt8]) throws -> [String] {
        var parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        if parts.count == 1, parts[0].isEmpty { return [] }
        var segments: [String] = []
        segments.reserveCapacity(parts.count)
        for part in parts {
            guard !part.isEmpty, part.count <= maxSegmentLength else { throw invalid }
            if part.count == 1, part.first == UInt8(ascii: ".") { continue }
            if part.starts(with: reservedPrefix.utf8) { throw invalid }
            segments.append(String(decoding: part, as: UTF8.self))
        }
        return segments
    }

    /// One round of `%XX` decoding, like Python's `unquote` (malformed escapes stay literal);
    /// `nil` when there was nothing to decode.
    static func percentDecoded(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.contains(UInt8(ascii: "%")) else { return nil }
        let output = PercentDecoding.unquote(bytes, mode: .path)
        // Every decoded escape shortens the bytes, so an unchanged length means none was.
        return output.count == bytes.count ? nil : output
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// Overlong encodings (`%c0%ae` for `.`) and other invalid sequences are refused rather
    /// than guessed at.
    private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
