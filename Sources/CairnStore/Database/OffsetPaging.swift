import SQLKit

extension PageToken {
    /// ` LIMIT ? OFFSET ?` for one row more than a page: the extra row tells whether another
    /// page exists without a count query.
    static func limitClause(limit: Int, offset: Int) -> SQLQueryString {
        " LIMIT \(bind: limit + 1) OFFSET \(bind: offset)"
    }

    /// The page of `rows` fetched with `limitClause`, with the next token when the extra
    /// row came back.
    static func page<Item: Sendable>(_ rows: [Item], limit: Int, offset: Int) -> Page<Item> {
        guard rows.count > limit else { return Page(items: rows, nextPageToken: nil) }
        return Page(items: Array(rows.prefix(limit)), nextPageToken: encode(offset: offset + limit))
    }
}
