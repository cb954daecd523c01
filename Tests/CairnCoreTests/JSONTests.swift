import Testing

@testable import CairnCore

@Suite struct JSONValueTests {
    @Test func parsesNestedDocument() throws {
        let value = try JSONValue.parse(#"{"a": [1, -2.5e3, "x\n\u00e9\ud83d\ude00"], "b": {"c": null, "d": true}}"#)
        guard case .array(let items)? = value["a"] else {
            Issue.record("no array")
            return
        }
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

    @Test func objectsKeepTheOrderKeysWereWritten() throws {
        let value = try JSONValue.parse(#"{"tenure": 1, "monthly": 2, "calls": 3, "age": 4, "tenure": 5}"#)
        guard case .object(let fields) = value else {
            Issue.record("not an object")
            return
        }
        #expect(fields.keys == ["tenure", "monthly", "calls", "age"])
        #expect(fields["tenure"] == .number(5, raw: "5"), "a repeated key keeps its place and its last value")
        // Order does not make two objects different, as in JSON.
        #expect(try JSONValue.parse(#"{"a": 1, "b": 2}"#) == JSONValue.parse(#"{"b": 2, "a": 1}"#))
        #expect(try JSONValue.parse(#"{"a": 1, "b": 2}"#) != JSONValue.parse(#"{"a": 1, "b": 3}"#))
        // Large objects index their keys; removal keeps the rest in order.
        var large = JSONObject()
        for i in 0..<40 { large["k\(39 - i)"] = .number(Double(i), raw: "\(i)") }
        large["k20"] = nil
        #expect(large.count == 39 && large["k20"] == nil && large["k0"] == .number(39, raw: "39"))
        #expect(large.keys.first == "k39" && large.keys.last == "k0")
    }

    @Test func readsPythonsNonFiniteLiterals() throws {
        let value = try JSONValue.parse("[NaN, Infinity, -Infinity, 1e400, -1]")
        guard case .array(let items) = value, items.count == 5 else {
            Issue.record("not five items")
            return
        }
        guard case .number(let nan, let nanRaw) = items[0], case .number(let inf, let infRaw) = items[1],
            case .number(let negInf, let negInfRaw) = items[2], case .number(let big, let bigRaw) = items[3]
        else {
            Issue.record("not numbers")
            return
        }
        #expect(nan.isNaN && JSONValue.isNonFiniteLiteral(nanRaw))
        #expect(inf == .infinity && JSONValue.isNonFiniteLiteral(infRaw))
        #expect(negInf == -.infinity && JSONValue.isNonFiniteLiteral(negInfRaw))
        // Digits beyond a double are an infinity too, but one the client did not write.
        #expect(big == .infinity && !JSONValue.isNonFiniteLiteral(bigRaw))
        for bad in ["nan", "-NaN", "Inf", "-Infinit", "NaNa", "+Infinity"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
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
        writer.key("nan")
        writer.double(.nan)
        writer.key("inf")
        writer.double(.infinity)
        writer.key("ninf")
        writer.double(-.infinity)
        writer.key("one")
        writer.double(1)
        writer.key("frac")
        writer.double(0.25)
        writer.key("id")
        writer.string("q\"\\\n\u{01}")
        writer.list("empty", [KeyValue]())
        writer.list("tags", [KeyValue(key: "k", value: "v")])
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(
            text
                == #"{"nan":"NaN","inf":"Infinity","ninf":"-Infinity","one":1.0,"frac":0.25,"id":"q\"\\\n\u0001","tags":[{"key":"k","value":"v"}]}"#
        )
    }

    @Test func writesIntegersAndStringsWithoutLoss() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for value in [Int64(0), 7, -7, 1_000_000_007, .max, .min] { writer.int(value) }
        for value in [-3.0, 1e15 - 1, 1e15, 0.1] { writer.double(value) }
        for text in ["plain", "ünïcödé ✓", "tab\tend", "", String(repeating: "long-id-", count: 40)] { writer.string(text) }
        writer.endArray()
        let expected =
            "[0,7,-7,1000000007,9223372036854775807,-9223372036854775808,-3.0,999999999999999.0,1000000000000000.0,0.1,"
            + #""plain","ünïcödé ✓","tab\tend","","# + "\"" + String(repeating: "long-id-", count: 40) + "\"]"
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    /// A long document goes out in pieces: taking the bytes keeps the writer inside its
    /// containers, so the pieces join into the document written in one go.
    @Test func takingBytesKeepsTheOpenContainers() throws {
        let metrics = (0..<5).map { Metric(key: "m", value: Double($0) / 4, timestamp: Int64($0), step: Int64($0)) }
        var whole = JSONWriter()
        whole.beginObject()
        whole.list("metrics", metrics)
        whole.endObject()

        var pieces: [UInt8] = []
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("metrics")
        writer.beginArray()
        for chunk in [metrics[0..<2], metrics[2..<3], metrics[3..<5]] {
            for metric in chunk { writer.write(metric) }
            pieces += writer.takeBytes()
            #expect(writer.bytes.isEmpty)
        }
        writer.endArray()
        writer.endObject()
        pieces += writer.takeBytes()
        #expect(pieces == whole.bytes)
        _ = try JSONValue.parse(pieces)
    }

    @Test func roundTripsThroughParser() throws {
        let metric = Metric(key: "loss", value: 0.125, timestamp: 17, step: 3, modelID: "m-1")
        var writer = JSONWriter()
        writer.write(metric)
        let parsed = try JSONValue.parse(writer.bytes)
        #expect(parsed["key"] == .string("loss"))
        #expect(parsed["timestamp"] == .number(17, raw: "17"))
        #expect(parsed["model_id"] == .string("m-1"))
        #expect(parsed["dataset_name"] == nil)
    }
}
