import Crypto

/// Personal access tokens: 256 random bits the owner sees once, stored as their SHA-256. The
/// secret has full entropy, so a fast hash is enough to make a stolen table useless, and the
/// lookup by hash is one indexed read instead of a bcrypt per request.
public enum AccessTokens {
    /// Marks a Cairn token, so a leaked one is recognisable to secret scanners.
    public static let prefix = "cairn_pat_"

    public static func generate(prefix: String = AccessTokens.prefix) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes = Array(prefix.utf8)
        for _ in 0..<4 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                bytes.append(digits[Int(word >> 60)])
                word <<= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
