/// A file the UI serves from the binary (`/static-files/…`), with a version derived from its
/// content: links carry it in the query, so a cached copy can live forever and a new build is
/// fetched at once.
public struct UIAsset: Sendable {
    public var name: String
    public var contentType: String
    public var body: String
    /// FNV-1a of the body, 16 hex digits: a cache key, not a security measure.
    public var version: String

    public init(name: String, contentType: String, body: String) {
        self.name = name
        self.contentType = contentType
        self.body = body
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        version = String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `/static-files/<name>?v=<version>`, to put under the static prefix.
    public var path: String { "/static-files/\(name)?v=\(version)" }

    public static let stylesheet = UIAsset(name: "cairn.css", contentType: "text/css; charset=utf-8", body: Stylesheet.css)
    public static let script = UIAsset(name: "cairn.js", contentType: "text/javascript; charset=utf-8", body: Script.js)
    public static let all = [stylesheet, script]
}
