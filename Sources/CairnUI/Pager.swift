/// Page links for a list whose size is known: first, last, and the pages around the current
/// one, each a real link, so any page of any list is one click and one URL away.
public struct Pager: Sendable {
    public struct Item: Sendable {
        public var number: Int
        public var href: String
        public var current: Bool
        /// An ellipsis before this page: pages were skipped.
        public var gapBefore: Bool
    }

    public var items: [Item]
    public var previousHref: String?
    public var nextHref: String?
    /// `26–50 of 312`, or `No results`.
    public var summary: String
    /// More than one page: the links are worth showing.
    public var hasPages: Bool
    public var pageCount: Int
    /// The page asked for is past the last one (a stale or hand-edited link): nothing to show.
    public var pastEnd: Bool

    /// - Parameters:
    ///   - page: the current page, from 1.
    ///   - href: the URL of a page number.
    public init(page: Int, pageSize: Int, total: Int, href: (Int) -> String) {
        let pageCount = max(1, (total + pageSize - 1) / pageSize)
        self.pageCount = pageCount
        let first = (page - 1) * pageSize + 1
        let last = min(total, page * pageSize)
        pastEnd = page > pageCount
        summary =
            pastEnd
            ? "No page \(page): \(pageCount) page\(pageCount == 1 ? "" : "s"), \(total) in all"
            : total == 0 ? "No results" : "\(first)–\(last) of \(total)"
        // A page past the end (a stale link) shows the last pages around where it would be.
        let low = max(1, min(page - 2, pageCount))
        let high = max(low, min(pageCount, page + 2))
        let shown = Set([1, pageCount] + Array(low...high)).sorted()
        var items: [Item] = []
        var previous = 0
        for number in shown {
            items.append(Item(number: number, href: href(number), current: number == page, gapBefore: number > previous + 1))
            previous = number
        }
        self.items = items
        previousHref = page > 1 ? href(min(page - 1, pageCount)) : nil
        nextHref = page < pageCount ? href(page + 1) : nil
        // Past the end, the links lead back even when there is one page.
        hasPages = pageCount > 1 || pastEnd
    }
}
