/// The one percent-decoder. `path` mode decodes a URL path, where `+` is a literal plus (as
/// Flask decodes MLflow's path parameters); `form` mode decodes
/// `application/x-www-form-urlencoded` (query strings as `requests` writes them), where `+` is
/// a space.
public enum PercentDecoding {
    public enum Mode: Sendable {
        case path
        case form
    }

    public enum Failure: Error, Equatable {
        /// A `%` not followed by two hex digits.
        case malformedEscape
        /// The decoded bytes are not UTF-8.
        case invalidUTF8
    }

    /// Strict decoding, for input Cairn parses itself: a malformed escape or bytes that are
    /// not UTF-8 are an error, never guessed at.
    public static func decode(_ text: some StringProtocol, mode: Mode) throws(Failure) -> String {
        guard let bytes = decoded(text.utf8, mode: mode, keepMalformed: false) else { throw .malformedEscape }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }

    /// One lenient round, as Python's `unquote`: a malformed escape stays as it is written.
    /// For checking what another decoder (a client, a file system) would make of a path.
    public static func unquote(_ bytes: some Collection<UInt8>, mode: Mode) -> [UInt8] {
        decoded(bytes, mode: mode, keepMalformed: true)!
    }

    /// Lenient decoding, as Werkzeug decodes the query strings of MLflow's server: a malformed
    /// escape stays as it is written, and a byte that is not part of valid UTF-8 is written
    /// back as `%XX` (upper case), so `name=%ff` means the name `%FF`, never an error.
    public static func decodeLeniently(_ text: some StringProtocol, mode: Mode) -> String {
        let bytes = unquote(text.utf8, mode: mode)
        if let string = String(validating: bytes, as: UTF8.self) { return string }
        var result = ""
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length =
                switch lead {
                case 0x00...0x7F: 1
                case 0xC2...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF4: 4
                default: 0
                }
            if length > 0, index + length <= bytes.count, let scalar = String(validating: bytes[index..<index + length], as: UTF8.self) {
                result += scalar
                index += length
            } else {
                let digits = Array("0123456789ABCDEF".utf8)
                result += String(decoding: [UInt8(ascii: "%"), digits[Int(lead >> 4)], digits[Int(lead & 0x0F)]], as: UTF8.self)
                index += 1
            }
        }
        return result
    }

    private static func decoded(_ input: some Collection<UInt8>, mode: Mode, keepMalformed: Bool) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = input.startIndex
        while index != input.endIndex {
            let byte = input[index]
            input.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "+") where mode == .form:
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                var next = index
                if next != input.endIndex, let high = hexValue(input[next]) {
                    input.formIndex(after: &next)
                    if next != input.endIndex, let low = hexValue(input[next]) {
                        input.formIndex(after: &next)
                        bytes.append(high << 4 | low)
                        index = next
                        continue
                    }
                }
                guard keepMalformed else { return nil }
                bytes.append(byte)
            default:
                bytes.append(byte)
            }
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
