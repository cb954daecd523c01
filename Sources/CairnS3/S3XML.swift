/// The little XML that S3 answers with (`ListBucketResult`, `Error`,
/// `InitiateMultipartUploadResult`, `DeleteResult`...) read into a tree, and the little it is
/// sent (`CompleteMultipartUpload`, `Delete`) written with escaping.
///
/// Not a general XML parser: no DTDs, attributes are skipped (S3's only one is `xmlns`),
/// namespaces are ignored. It refuses what it does not understand instead of guessing, and
/// bodies are bounded by the caller (a listing page is 1000 keys, well under a megabyte).
struct S3XML: Sendable, Equatable {
    var name: String
    var children: [S3XML]
    /// The text directly inside, entities decoded.
    var text: String

    init(name: String, children: [S3XML] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    subscript(_ name: String) -> S3XML? {
        children.first { $0.name == name }
    }

    /// Every child named `name`, in order.
    func all(_ name: String) -> [S3XML] {
        children.filter { $0.name == name }
    }

    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "malformed XML from the object store near byte \(offset)" }
    }

    /// Parses a document into its root element.
    static func parse(_ bytes: some Collection<UInt8>) throws -> S3XML {
        var parser = Parser(bytes: Array(bytes))
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        func fail() -> Malformed { Malformed(offset: index) }

        mutating func document() throws -> S3XML {
            var root: S3XML?
            while true {
                skipWhitespace()
                guard index < bytes.count else { break }
                guard bytes[index] == UInt8(ascii: "<") else { throw fail() }
                if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!") {
                    try skip(past: ">")
                } else {
                    guard root == nil else { throw fail() }
                    root = try element()
                }
            }
            guard let root else { throw fail() }
            return root
        }

        /// An element starting at `<`.
        mutating func element() throws -> S3XML {
            index += 1
            let name = readName()
            guard !name.isEmpty else { throw fail() }
            // Attributes are skipped, quoted values included (they may hold `>`).
            var selfClosing = false
            while true {
                guard index < bytes.count else { throw fail() }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    index += 1
                    while index < bytes.count, bytes[index] != byte { index += 1 }
                    index += 1
                } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") {
                    index += 2
                    selfClosing = true
                    break
                } else if byte == UInt8(ascii: ">") {
                    index += 1
                    break
                } else {
                    index += 1
                }
            }
            var node = S3XML(name: Self.localName(name))
            if selfClosing { return node }
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail() }
                if bytes[index] != UInt8(ascii: "<") {
                    let start = index
                    while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                    text += try Self.decodeEntities(bytes[start..<index], at: start)
                } else if starts(with: "</") {
                    index += 2
                    guard readName() == name else { throw fail() }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail() }
                    index += 1
                    node.text = String(decoding: text, as: UTF8.self)
                    return node
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    text += bytes[start..<(index - 3)]
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else {
                    node.children.append(try element())
                }
            }
        }

        mutating func readName() -> String {
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\t")
                    || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                {
                    break
                }
                index += 1
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func skipWhitespace() {
            while index < bytes.count,
                bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\n") || bytes[index] == UInt8(ascii: "\r")
                    || bytes[index] == UInt8(ascii: "\t")
            {
                index += 1
            }
        }

        func starts(with literal: String) -> Bool {
            bytes[index...].starts(with: literal.utf8)
        }

        mutating func skip(past literal: String) throws {
            let pattern = Array(literal.utf8)
            while index + pattern.count <= bytes.count {
                if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                    index += pattern.count
                    return
                }
                index += 1
            }
            throw fail()
        }

        /// `s3:Key` → `Key`.
        static func localName(_ name: String) -> String {
            name.split(separator: ":").last.map(String.init) ?? name
        }

        static func decodeEntities(_ slice: ArraySlice<UInt8>, at offset: Int) throws -> [UInt8] {
            guard slice.contains(UInt8(ascii: "&")) else { return Array(slice) }
            var out: [UInt8] = []
            var index = slice.startIndex
            while index < slice.endIndex {
                guard slice[index] == UInt8(ascii: "&") else {
                    out.append(slice[index])
                    index += 1
                    continue
                }
                guard let semicolon = slice[index...].firstIndex(of: UInt8(ascii: ";")), semicolon - index <= 10 else {
                    throw Malformed(offset: offset + index - slice.startIndex)
                }
                let entity = String(decoding: slice[(index + 1)..<semicolon], as: UTF8.self)
                switch entity {
                case "amp": out.append(UInt8(ascii: "&"))
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    let scalar: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        scalar = UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        scalar = UInt32(entity.dropFirst())
                    } else {
                        scalar = nil
                    }
                    guard let scalar, let character = Unicode.Scalar(scalar) else {
                        throw Malformed(offset: offset + index - slice.startIndex)
                    }
                    out += Array(String(Character(character)).utf8)
                }
                index = semicolon + 1
            }
            return out
        }
    }

    /// `text` escaped for an element's content.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Carriage returns would be normalised away by the reader; keys may hold them.
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
