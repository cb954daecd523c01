/// The members of a JSON object, in the order they were written.
///
/// Order matters where a client means it: pandas builds a frame's columns from record keys in
/// the order they were sent, so a scoring request `{"tenure": 100, "monthly": 70}` for a model
/// whose signature names no columns must reach the model in that order, not sorted. Equality
/// ignores order, as JSON's does.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    private var entries: [Element] = []
    /// Key → position, kept only once an object is large enough that a linear scan would cost
    /// more than the hash (most request objects have a handful of keys).
    private var positions: [String: Int]? = nil
    private static let indexedCount = 12

    public init() {}

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// An object from a dictionary, which has no order: its keys are taken sorted, so the
    /// result is the same on every run.
    public init(_ dictionary: [String: JSONValue]) {
        for key in dictionary.keys.sorted() { self[key] = dictionary[key] }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Keys in the order they were first written.
    public var keys: [String] { entries.map(\.key) }
    public var values: [JSONValue] { entries.map(\.value) }

    /// The members as a dictionary, for code that needs no order.
    public var dictionary: [String: JSONValue] {
        Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// A repeated key keeps its first position and its last value, as Python's `json` does.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let at = position(of: key) {
                if let newValue {
                    entries[at].value = newValue
                } else {
                    entries.remove(at: at)
                    reindex()
                }
            } else if let newValue {
                entries.append((key: key, value: newValue))
                if positions != nil {
                    positions![key] = entries.count - 1
                } else if entries.count > Self.indexedCount {
                    reindex()
                }
            }
        }
    }

    private mutating func reindex() {
        guard entries.count > Self.indexedCount else {
            positions = nil
            return
        }
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() { index[entry.key] = offset }
        positions = index
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.entries.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[Element]> { entries.makeIterator() }

    public var underestimatedCount: Int { entries.count }
}
