/// Why a search filter or order_by string was refused. The server answers it as MLflow's
/// `INVALID_PARAMETER_VALUE` (HTTP 400), see `cairnError`. `message` follows MLflow's wording
/// where practical; `reason` is the stable, machine-checkable part.
public struct SearchGrammarError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Input over a `SearchLimits` bound.
        case tooLarge
        /// Not tokenizable or not shaped like a clause: unterminated quote, stray character,
        /// missing comparator or value, malformed list or number.
        case syntax
        /// Something other than a clause between `AND`s, e.g. `OR`, parentheses, a second
        /// clause without `AND`.
        case invalidClause
        /// Unknown entity prefix, or one this kind does not support.
        case invalidEntity
        /// Unknown attribute / dataset key or order key.
        case invalidKey
        /// Comparator not allowed for the entity/key (or not a comparator MLflow knows).
        case invalidComparator
        /// Value of the wrong type: a string for a metric, an unquoted string, a list where
        /// lists are not allowed, a non-finite number.
        case invalidValue
        /// The same key twice in one order_by list.
        case duplicateOrderKey
    }

    public var reason: Reason
    public var message: String
    /// The UTF-8 byte offset in the input the error is about, when it is about one place
    /// (a stray character, the clause or value that is wrong): a page points at it.
    public var position: Int?

    public init(_ reason: Reason, _ message: String, at position: Int? = nil) {
        self.reason = reason
        self.message = message
        self.position = position
    }

    /// The same error placed at `offset`, unless a more precise place is already known.
    func at(_ offset: Int) -> SearchGrammarError {
        var located = self
        if located.position == nil { located.position = offset }
        return located
    }

    public var description: String { message }

    /// The MLflow-shaped error the server renders: always `INVALID_PARAMETER_VALUE`.
    public var cairnError: CairnError { .invalidParameter(message) }
}

extension SearchGrammarError {
    /// User text echoed in messages is cut, so a 100 KB filter does not come back in the error.
    static func excerpt(_ text: some StringProtocol, limit: Int = 200) -> String {
        if text.count <= limit { return String(text) }
        return String(text.prefix(limit)) + "…"
    }

    /// Python-set-like rendering, as MLflow prints its comparator sets: `{'=', '!='}`.
    static func setDescription(_ items: [String]) -> String {
        "{" + items.map { "'\($0)'" }.joined(separator: ", ") + "}"
    }

    /// Python-list-like rendering: `['metric', 'parameter']`.
    static func listDescription(_ items: [String]) -> String {
        "[" + items.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }
}
