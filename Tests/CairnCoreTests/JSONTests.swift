import Testing
@testable import CairnCore

@Suite struct JSONValueTests {
    @Test func parsesNestedDocument() throws {
        let value = try JSONValue.parse(#"{"a": [1, -2.5e3, "x\n\u00e9\ud83d\ude00"], "b": {"c": null, "d": true}}"#)
        guard case .array(let items)? = value["a"] else { Issue.record("no array"); return }
        #expect(items.count == 3)
        #expect(items[1] == .number(-2500, raw: "-2.5e3"))
        #expect(items[2] == .string("x\né😀"))
        #expect(value["b"]?["c"] == .null)
        #expect(value["b"]?["d"] == .bool(true))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01x", "\"unterminated", "tru", "{\"a\":\"\\x\"}",
        "\"\\ud800\"", "[1] 2", "\"a\u{01}b\"", "-", "1.", "1e",
    ])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(throws: Never.self) { try JSONValue.parse(fine) }
    }
}

@Suite struct JSONWriterTests {
    @Test func writesProtoJSONConventions() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("nan"); writer.double(.nan)
        writer.key("inf"); writer.double(.infinity)
        writer.key("ninf"); writer.double(-.infinity)
        writer.key("one"); writer.double(1)
        writer.key("frac"); writer.double(0.25)
        writer.key("id"); writer.string("q\"\\\n\u{01}")
        writer.list("empty", [KeyValue]())
        writer.list("tags", [KeyValue(key: "k", value: "v")])
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"nan":"NaN","inf":"Infinity","ninf":"-Infinity","one":1.0,"frac":0.25,"id":"q\"\\\n\u0001","tags":[{"key":"k","value":"v"}]}"#)
    }

    @Test func roundTripsThroughParser() throws {
        let metric = Metric(key: "loss", value: 0.125, timestamp: 17, step: 3, modelId: "m-1")
        var writer = JSONWriter()
        writer.write(metric)
        let parsed = try JSONValue.parse(writer.bytes)
        #expect(parsed["key"] == .string("loss"))
        #expect(parsed["timestamp"] == .number(17, raw: "17"))
        #expect(parsed["model_id"] == .string("m-1"))
        #expect(parsed["dataset_name"] == nil)
    }
}
