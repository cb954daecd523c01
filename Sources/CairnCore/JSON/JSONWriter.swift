/// Appends JSON to a byte buffer.
///
/// Responses are written directly rather than through `JSONEncoder`: a metric history page
/// holds tens of thousands of objects, and MLflow's proto-JSON needs `"NaN"`/`"Infinity"` for
/// non-finite doubles and omitted (not `null`) unset fields, which is natural to express here.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// One entry per open container: whether a value was already written in it.
    private var needsComma: [Bool] = []
    /// Set by `key(_:)`: the next value belongs to that key and takes no comma.
    private var afterKey = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The bytes written so far, leaving the writer empty but inside the same containers, so a
    /// long document can be sent in pieces as it is written.
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = needsComma.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"name":` inside an object; the next value written is that key's value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    public mutating func int(_ value: Int64) {
        separate()
        appendDecimal(value)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// A double in proto-JSON: non-finite values become the strings MLflow uses.
    /// How a NaN or an infinity is spelt: proto-JSON's quoted strings (MLflow's REST API), or
    /// the bare words Python's `json` writes (MLflow's scoring server), which `json.loads`
    /// reads back as floats.
    public enum NonFinite: Sendable { case quoted, bare }

    public mutating func double(_ value: Double, nonFinite: NonFinite = .quoted) {
        separate()
        if !value.isFinite {
            let word = value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity"
            bytes.append(contentsOf: (nonFinite == .quoted ? "\"\(word)\"" : word).utf8)
        } else if value == value.rounded(), abs(value) < 1e15 {
            // Integral values print like Python's json ("1.0"), keeping them doubles.
            appendDecimal(Int64(value))
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0"))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Writes already-serialised JSON as one value.
    public mutating func raw(_ json: String) {
        raw(json.utf8)
    }

    /// Writes already-serialised JSON, given as UTF-8 bytes, as one value.
    public mutating func raw(_ json: some Collection<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(_, let raw): self.raw(raw)
        case .string(let text): string(text)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let fields):
            beginObject()
            for (name, item) in fields.sorted(by: { $0.key < $1.key }) {
                key(name)
                self.value(item)
            }
            endObject()
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Digits straight into the buffer: a page of runs or a history chunk writes thousands of
    /// integers, and `String(value)` would allocate for each.
    private mutating func appendDecimal(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (keys, ids, names) need no escaping: copy them whole.
        let copied =
            text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
                guard !utf8.contains(where: Self.needsEscape) else { return false }
                bytes.append(contentsOf: utf8)
                return true
            } ?? false
        if !copied {
            for byte in text.utf8 { appendEscaped(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0..<0x20:
            bytes.append(contentsOf: Array("\\u00".utf8))
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0xF)])
        default: bytes.append(byte)
        }
    }
}

/// A type that writes itself as MLflow proto-JSON.
public protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

extension JSONWriter {
    public mutating func write(_ value: some JSONWritable) {
        value.write(to: &self)
    }

    /// Writes `"name": [ … ]`, omitting the key when the list is empty, as MLflow does.
    public mutating func list<T: JSONWritable>(_ name: String, _ items: [T]) {
        guard !items.isEmpty else { return }
        key(name)
        beginArray()
        for item in items { item.write(to: &self) }
        endArray()
    }

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func field(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        int(value)
    }
}
