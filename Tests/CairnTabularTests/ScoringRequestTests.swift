import CairnCore
import Testing

@testable import CairnTabular

@Suite struct ScoringRequestTests {
    func parse(_ text: String) throws -> ScoringRequest { try ScoringRequest.parseJSON(Array(text.utf8)) }

    @Test func dataframeSplitKeepsColumnsAndInfersTypes() throws {
        let request = try parse(#"{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2.5, "x"], [3, null, "y"]]}}"#)
        #expect(request.frame.rowCount == 2)
        #expect(request.frame.columnNames == ["a", "b", "c"])
        #expect(request.frame.columns[0].values == .int64([1, 3]))
        guard case .double(let b) = request.frame.columns[1].values else {
            Issue.record("b is not double")
            return
        }
        #expect(b[0] == 2.5 && b[1].isNaN)
        #expect(request.frame.columns[2].values == .string(["x", "y"]))
        #expect(!request.positional)
    }

    @Test func splitWithoutColumnsIsPositional() throws {
        let request = try parse(#"{"dataframe_split": {"data": [[1.0, 2.0]]}}"#)
        #expect(request.positional)
        #expect(request.frame.columns.count == 2)
    }

    @Test func recordsFillMissingKeysWithNull() throws {
        let request = try parse(#"{"dataframe_records": [{"a": 1, "b": "u"}, {"a": 2}]}"#)
        #expect(request.frame.column(named: "a")?.values == .int64([1, 2]))
        #expect(request.frame.column(named: "b")?.values == .string(["u", nil]))
    }

    @Test func instancesAndInputsForms() throws {
        let rows = try parse(#"{"instances": [[1, 2], [3, 4]]}"#)
        #expect(rows.positional && rows.frame.rowCount == 2)
        let columns = try parse(#"{"inputs": {"x": [1.5, 2.5], "y": ["a", "b"]}, "params": {"k": 1}}"#)
        #expect(columns.frame.column(named: "x")?.values == .double([1.5, 2.5]))
        #expect(columns.params["k"] != nil)
        let records = try parse(#"{"instances": [{"x": 1}, {"x": 2}]}"#)
        #expect(records.frame.column(named: "x")?.values == .int64([1, 2]))
    }

    @Test(arguments: [
        #"[1, 2]"#,
        #"{"dataframe_split": {"data": []}, "inputs": []}"#,
        #"{"unknown": 1}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[[1]]]}}"#,
        #"{"dataframe_records": [1]}"#,
        #"{"inputs": {"a": [1, 2], "b": [1]}}"#,
        #"{"inputs": [1], "params": 3}"#,
        "{not json",
    ])
    func badBodiesAreBadRequests(_ body: String) {
        #expect(throws: CairnError.self) { try parse(body) }
        do { _ = try parse(body) } catch let error as CairnError { #expect(error.code == .badRequest) } catch {}
    }

    @Test func csvTypesColumnsLikePandas() throws {
        let frame = try CSVParser.parseDocument(Array("a,b,c\n1,2.5,x\n3,,\"y, z\"\r\n".utf8))
        #expect(frame.rowCount == 2)
        #expect(frame.column(named: "a")?.values == .int64([1, 3]))
        #expect(frame.column(named: "c")?.values == .string(["x", "y, z"]))
    }

    @Test func csvParserHandlesChunkBoundariesAndQuotes() throws {
        var parser = CSVParser()
        var records = try parser.feed(Array("h1,h2\n\"a\"\"b".utf8))
        records += try parser.feed(Array("\",2\n3,4".utf8))
        if let last = try parser.finish() { records.append(last) }
        #expect(records == [["h1", "h2"], ["a\"b", "2"], ["3", "4"]])
    }

    @Test func csvErrors() {
        #expect(throws: CairnError.self) { try CSVParser.parseDocument(Array("a,b\n1\n".utf8)) }
        #expect(throws: CairnError.self) { try CSVParser.parseDocument(Array("a\n\"open".utf8)) }
        #expect(throws: CairnError.self) { try CSVParser.parseDocument(Array("".utf8)) }
    }

    @Test func csvNumbersAreDecimalAndTextColumnsStayText() throws {
        let frame = try CSVParser.parseDocument(
            Array("\u{FEFF}hex,spaced,code,flag\n0x10, 1.5 ,007,true\n0X1P-2,2,123,false\n".utf8), textColumns: ["code", "flag"])
        #expect(frame.columnNames == ["hex", "spaced", "code", "flag"], "the byte-order mark is not part of the first name")
        #expect(frame.column(named: "hex")?.values == .string(["0x10", "0X1P-2"]))
        #expect(frame.column(named: "spaced")?.values == .double([1.5, 2]))
        #expect(frame.column(named: "code")?.values == .string(["007", "123"]))
        #expect(frame.column(named: "flag")?.values == .string(["true", "false"]))
        #expect(CSVParser.cell("nan(0x1)") == .string("nan(0x1)"))
        for number in ["1", "-2.5", "+3", ".5", "1.", "1e5", "2E-3"] { #expect(CSVParser.isDecimal(number[...]), "\(number)") }
        for text in ["0x10", "1e", "e5", "1.2.3", "--1", "1_000", ""] { #expect(!CSVParser.isDecimal(text[...]), "\(text)") }
    }

    @Test func splitIndexMustHaveALabelPerRowAndNullParamsAreNone() throws {
        for body in [
            #"{"dataframe_split": {"index": [1], "columns": ["a"], "data": [[1], [2]]}}"#,
            #"{"dataframe_split": {"index": 5, "columns": ["a"], "data": [[1]]}}"#,
        ] {
            #expect(ScoringBodyReader.read(Array(body.utf8)) == nil)
            #expect(throws: CairnError.self, "\(body)") { try ScoringRequest.parseJSON(Array(body.utf8)) }
        }
        let indexed = try ScoringRequest.parseJSON(
            Array(#"{"dataframe_split": {"index": [7, 8], "columns": ["a"], "data": [[1], [2]]}}"#.utf8))
        #expect(indexed.frame.rowCount == 2)
        #expect(
            try ScoringRequest.parseJSON(Array(#"{"dataframe_split": {"columns": ["a"], "data": [[1]]}, "params": null}"#.utf8)).params
                .isEmpty)
        #expect(throws: CairnError.self) {
            try ScoringRequest.parseJSON(Array(#"{"dataframe_split": {"columns": ["a"], "data": [[01037.7]]}}"#.utf8))
        }
    }
}

@Suite struct ScoringBodyReaderTests {
    /// The general path: a JSON tree, then the same decoding.
    func general(_ text: String) throws -> ScoringRequest {
        guard case .object(let fields) = try JSONValue.parse(text) else { throw CairnError(.badRequest, "not an object") }
        let key = fields.keys.first { ScoringRequest.inputKeys.contains($0) }!
        let (frame, positional) = try ScoringRequest.decode(key: key, payload: fields[key]!)
        var params: [String: JSONValue] = [:]
        if case .object(let given)? = fields["params"] { params = given.dictionary }
        return ScoringRequest(frame: frame, positional: positional, params: params)
    }

    @Test(arguments: [
        #"{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [3, -0.125]]}}"#,
        #"{"dataframe_split": {"data": [[1e5, 0.1], [-3E-2, 12345678901234567]], "columns": ["x", "y"], "index": [7, 8]}}"#,
        #"{"dataframe_split": {"columns": ["p", "q"], "data": [[0.30000000000000004, 1.7976931348623157e308], [5e-324, -0.0]]}}"#,
        #"{"dataframe_split": {"columns": ["s", "n"], "data": [["a\"b\u00e9", null], ["plain", 3]]}}"#,
        #"{"dataframe_split": {"columns": ["t"], "data": [[true], [false]]}, "params": {"k": [1, {"z": 2}]}}"#,
        #"{"instances": [[1, 2], [3, 4.5]]}"#,
        #"{"inputs": [[0.1234567890123456789, 123456789012345.6]]}"#,
        #" { "dataframe_split" : { "columns" : [ "a" ] , "data" : [ [ 1 ] ] } } "#,
    ])
    func fastPathAgreesWithTheGeneralParser(_ body: String) throws {
        let fast = try #require(ScoringBodyReader.read(Array(body.utf8)))
        let slow = try general(body)
        #expect(fast.positional == slow.positional)
        #expect(fast.params == slow.params)
        #expect(fast.frame.columnNames == slow.frame.columnNames)
        for (a, b) in zip(fast.frame.columns, slow.frame.columns) {
            switch (a.values, b.values) {
            case (.double(let x), .double(let y)):
                #expect(x.count == y.count)
                for (u, v) in zip(x, y) { #expect(u.bitPattern == v.bitPattern || (u.isNaN && v.isNaN), "\(u) vs \(v)") }
            default:
                #expect(a.values == b.values)
            }
        }
    }

    @Test(arguments: [
        #"{"dataframe_split": {"columns": ["a"], "data": [[01]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1.]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[[1]]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1]]}} x"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1]], "data": [[2]]}}"#,
        #"{"dataframe_records": [{"a": 1}]}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[-]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "data": [[1e]]}}"#,
        #"{"dataframe_split": {"columns": ["a"], "index": , "data": [[1]]}}"#,
    ])
    func anythingElseFallsBack(_ body: String) {
        #expect(ScoringBodyReader.read(Array(body.utf8)) == nil)
    }
}
