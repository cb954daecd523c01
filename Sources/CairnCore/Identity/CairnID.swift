/// The one generator of Cairn's ids: runs, monitors, alerts, logged models and requests.
/// 128 random bits as 32 lowercase hex digits, the shape MLflow gives run ids (`uuid4().hex`),
/// so an id is safe in a URL, a file name and a log line without escaping.
public enum CairnID {
    public static func make(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes = Array(prefix.utf8)
        bytes.reserveCapacity(bytes.count + 32)
        for _ in 0..<2 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                bytes.append(digits[Int(word >> 60)])
                word <<= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
