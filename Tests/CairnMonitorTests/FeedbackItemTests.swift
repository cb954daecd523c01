import CairnCore
import Testing

@testable import CairnMonitor

@Suite struct FeedbackItemTests {
    static func item(_ json: String) throws -> FeedbackItem {
        guard case .object(let fields) = try JSONValue.parse(Array(json.utf8)) else { throw CairnError(.badRequest, "not an object") }
        return try FeedbackItem(fields: fields.dictionary)
    }

    @Test func wellFormedItems() throws {
        #expect(try Self.item(#"{"request_id": "r1", "label": 1}"#) == FeedbackItem(requestID: "r1", labels: [.number(1, raw: "1")]))
        let rows = try Self.item(#"{"request_id": "r2", "labels": ["a", null, true]}"#)
        #expect(rows.labels == [.string("a"), .null, .bool(true)] && rows.row == nil)
        #expect(try Self.item(#"{"request_id": "r3", "row": 4, "label": "x"}"#).row == 4)
    }

    @Test(arguments: [
        #"{"label": 1}"#, #"{"request_id": "", "label": 1}"#, #"{"request_id": 7, "label": 1}"#,
        #"{"request_id": "\#(String(repeating: "x", count: 129))", "label": 1}"#, #"{"request_id": "a\u0000b", "label": 1}"#,
        #"{"request_id": "b"}"#, #"{"request_id": "b", "label": 1, "labels": [1]}"#, #"{"request_id": "b", "labels": []}"#,
        #"{"request_id": "b", "labels": 1}"#, #"{"request_id": "b", "label": {"nested": 1}}"#, #"{"request_id": "b", "labels": [[1]]}"#,
        #"{"request_id": "b", "label": 1e400}"#, #"{"request_id": "b", "row": -1, "label": 1}"#,
        #"{"request_id": "b", "row": 1.5, "label": 1}"#,
        #"{"request_id": "b", "row": 0, "labels": [1]}"#,
    ])
    func malformedItemsAreRefused(json: String) {
        #expect(throws: CairnError.self) { try Self.item(json) }
        do { _ = try Self.item(json) } catch let error as CairnError { #expect(error.code == .invalidParameterValue) } catch {}
    }
}
