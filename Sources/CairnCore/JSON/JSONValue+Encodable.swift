/// A parsed document written back through `Encodable`, so a Cairn API body can carry JSON it
/// stored as text (a monitor's spec) inside a Codable DTO. Objects encode as dictionaries,
/// which no key strategy renames; integral numbers keep every digit.
extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let value, let raw):
            if let exact = Int64(raw) { try container.encode(exact) } else { try container.encode(value) }
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields.dictionary)
        }
    }
}
