import Testing

@testable import CairnCore

private typealias S = SearchTestSupport

/// Where in the filter an error is: the runs table page draws a caret under that byte.
@Suite("Search error positions")
struct SearchErrorPositionTests {
    @Test(
        "each error points at the part it is about",
        arguments: [
            // (filter, offset of the culprit)
            ("metrics.a > 1 OR params.b = 'x'", 14), // OR between clauses
            ("params.a = 'x' ; tags.b = 'y'", 15), // stray character
            ("tags.a = 'unterminated", 9), // the opening quote
            ("metrics.a > 1st", 12), // not a number
            ("bogus.a = 'x'", 0), // unknown entity: the identifier
            ("attributes.nope = 'x'", 0), // unknown attribute key
            ("params.a ~ 'x'", 9), // unknown comparator
            ("metrics.a > 'high'", 12), // a string for a metric: the value
            ("params.a = ", 11), // missing value: the end of the input
            ("params.a = 'x' AND metrics.b = 'y'", 31), // second clause's value
            ("tags.é = 'x' OR a = 'b'", 14), // byte offsets: é is two bytes
        ])
    func positions(text: String, offset: Int) throws {
        let error = try #require(S.filterError(text))
        #expect(error.position == offset, "\(error.message)")
    }

    @Test func validFiltersStillParse() throws {
        #expect(try SearchFilter.parse("params.a = 'x' AND metrics.b > 1", for: .runs).clauses.count == 2)
    }
}
