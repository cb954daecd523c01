import CairnCore
import Foundation
import Logging
import Testing

@testable import CairnMonitor

/// The inference log read back: what a monitor window and an export see of what
/// `InferenceLogWriter` wrote. Timestamps are taken relative to the wall clock because the
/// reader prunes segments by their file times, which are real.
@Suite final class InferenceLogReaderTests: Sendable {
    let directory: String
    /// A millisecond comfortably before every segment this test writes.
    let base: Int64

    init() throws {
        directory = NSTemporaryDirectory() + "cairn-inference-read-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        base = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func writer() throws -> InferenceLogWriter {
        try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
    }

    func record(
        _ id: String, at offset: Int64, model: String = "churn", version: String = "1", status: Int = 200,
        inputs: String = #"{"dataframe_split": {"columns": ["a"], "data": [[1]]}}"#, outputs: String = #"{"predictions": [0]}"#
    ) -> InferenceRecord {
        InferenceRecord(
            requestID: id, timestamp: base + offset, model: model, version: version,
            inputs: Array(inputs.utf8), outputs: Array(outputs.utf8), latencyMicroseconds: 100 + offset, status: status)
    }

    func read(_ query: InferenceLogQuery = InferenceLogQuery()) throws -> InferenceLogReader.Result {
        try InferenceLogReader(directory: directory).read(query)
    }

    func ids(_ query: InferenceLogQuery = InferenceLogQuery()) throws -> [String] {
        try read(query).entries.map(\.requestID)
    }

    /// Two writers sharing the directory, as `cairn server` and a `cairn serve` do, with their
    /// records interleaved in time: two segments, one log.
    func writeTwoSegments() throws {
        let first = try writer()
        let second = try writer()
        for (id, offset, model, version) in [("a1", 1_000, "churn", "1"), ("a2", 3_000, "churn", "2"), ("a3", 5_000, "fraud", "1")]
            as [(String, Int64, String, String)]
        {
            first.record(record(id, at: offset, model: model, version: version))
        }
        for (id, offset, model, version) in [("b1", 2_000, "churn", "1"), ("b2", 4_000, "churn", "1"), ("b3", 6_000, "churn", "2")]
            as [(String, Int64, String, String)]
        {
            second.record(record(id, at: offset, model: model, version: version))
        }
        try first.flush()
        try second.flush()
        #expect(try first.segments().count == 2)
    }

    @Test func segmentsFromTwoWritersReadAsOneLogOldestFirst() throws {
        try writeTwoSegments()
        let result = try read()
        #expect(result.entries.map(\.requestID) == ["a1", "b1", "a2", "b2", "a3", "b3"])
        #expect(result.skippedLines == 0)
        let first = try #require(result.entries.first)
        #expect(first.timestamp == base + 1_000)
        #expect(first.model == "churn")
        #expect(first.version == "1")
        #expect(first.status == 200)
        #expect(first.latencyMicroseconds == 1_100)
        #expect(first.succeeded)
    }

    @Test func anEmptyOrMissingDirectoryIsAnEmptyLog() throws {
        #expect(try read().entries.isEmpty)
        let missing = InferenceLogReader(directory: directory + "/never-created")
        #expect(try missing.read(InferenceLogQuery()).entries.isEmpty)
    }

    @Test func filtersByModelAndVersion() throws {
        try writeTwoSegments()
        #expect(try ids(InferenceLogQuery(model: "churn")) == ["a1", "b1", "a2", "b2", "b3"])
        #expect(try ids(InferenceLogQuery(model: "churn", version: "1")) == ["a1", "b1", "b2"])
        #expect(try ids(InferenceLogQuery(model: "churn", version: "2")) == ["a2", "b3"])
        #expect(try ids(InferenceLogQuery(model: "fraud")) == ["a3"])
        #expect(try ids(InferenceLogQuery(model: "fraud", version: "2")).isEmpty)
        #expect(try ids(InferenceLogQuery(model: "nope")).isEmpty)
        // A version alone filters across models.
        #expect(try ids(InferenceLogQuery(version: "2")) == ["a2", "b3"])
    }

    @Test func sinceIsInclusiveAndUntilExclusive() throws {
        try writeTwoSegments()
        #expect(try ids(InferenceLogQuery(since: base + 2_000)) == ["b1", "a2", "b2", "a3", "b3"])
        #expect(try ids(InferenceLogQuery(since: base + 2_001)) == ["a2", "b2", "a3", "b3"])
        #expect(try ids(InferenceLogQuery(until: base + 4_000)) == ["a1", "b1", "a2"])
        #expect(try ids(InferenceLogQuery(until: base + 4_001)) == ["a1", "b1", "a2", "b2"])
        #expect(try ids(InferenceLogQuery(since: base + 2_000, until: base + 4_000)) == ["b1", "a2"])
        #expect(try ids(InferenceLogQuery(since: base + 3_000, until: base + 3_000)).isEmpty)
        #expect(try ids(InferenceLogQuery(model: "churn", version: "1", since: base + 1_500, until: base + 6_500)) == ["b1", "b2"])
    }

    /// A record is stamped when its request is answered and its segment is opened at the next
    /// flush, so a segment's name is later than its first records: an upper time bound between
    /// the two must still find them.
    @Test func untilFindsRecordsLoggedBeforeTheirSegmentWasOpened() throws {
        let log = try writer()
        log.record(record("early", at: 0))
        log.record(record("later", at: 30_000))
        try log.flush()
        #expect(try ids(InferenceLogQuery(until: base + 10_000)) == ["early"])
        #expect(try ids(InferenceLogQuery(since: base, until: base + 30_001)) == ["early", "later"])
    }

    @Test func lastRecordsKeepsTheNewestAcrossSegments() throws {
        try writeTwoSegments()
        #expect(try ids(InferenceLogQuery(lastRecords: 1)) == ["b3"])
        #expect(try ids(InferenceLogQuery(lastRecords: 3)) == ["b2", "a3", "b3"])
        #expect(try ids(InferenceLogQuery(lastRecords: 100)) == ["a1", "b1", "a2", "b2", "a3", "b3"])
        #expect(try ids(InferenceLogQuery(model: "churn", version: "1", lastRecords: 2)) == ["b1", "b2"])
        #expect(try ids(InferenceLogQuery(model: "churn", until: base + 5_000, lastRecords: 2)) == ["a2", "b2"])
        #expect(try ids(InferenceLogQuery(lastRecords: 0)).isEmpty)
    }

    /// Segments are visited newest-created first, but a segment created earlier by another
    /// writer may still be written to after newer ones closed: its recent records count.
    @Test func lastRecordsReadsALongLivedSegmentBehindClosedNewerOnes() throws {
        func segment(_ created: Int64, closedAt modified: Int64, _ records: [(String, Int64)]) throws {
            var bytes: [UInt8] = []
            for (id, timestamp) in records {
                bytes += InferenceRecord(
                    requestID: id, timestamp: timestamp, model: "m", version: "1", inputs: Array("{}".utf8),
                    outputs: Array("{}".utf8), latencyMicroseconds: 1, status: 200
                ).line()
            }
            let path = "\(directory)/inference-\(created)-\(UUID().uuidString.prefix(8)).jsonl"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: Double(modified) / 1000)], ofItemAtPath: path)
        }
        let start = base - 3_600_000
        try segment(start, closedAt: start + 50_000, [("long-1", start + 1_000), ("long-2", start + 49_000)])
        try segment(start + 10_000, closedAt: start + 20_000, [("mid-1", start + 11_000), ("mid-2", start + 19_000)])
        try segment(start + 30_000, closedAt: start + 40_000, [("new-1", start + 31_000), ("new-2", start + 39_000)])
        #expect(try ids(InferenceLogQuery(lastRecords: 2)) == ["new-2", "long-2"])
        #expect(try ids(InferenceLogQuery(lastRecords: 3)) == ["new-1", "new-2", "long-2"])
        #expect(try ids(InferenceLogQuery(lastRecords: 5)) == ["mid-1", "mid-2", "new-1", "new-2", "long-2"])
    }

    @Test func tornAndForeignLinesAreSkippedAndCounted() throws {
        let log = try writer()
        log.record(record("before", at: 1_000))
        log.record(record("after", at: 2_000))
        try log.flush()
        let path = try #require(try log.segments().first)
        let lines = try #require(FileManager.default.contents(atPath: path)).split(separator: 0x0A, omittingEmptySubsequences: false)
        try #require(lines.count == 3)
        // A write torn at a crash, a foreign line, an object missing fields and an empty line
        // between two good records: the scan carries on past each.
        let garbage = [
            #"{"request_id": "torn", "timestamp_ms": 12"#, "not json at all", #"{"request_id": "x", "timestamp_ms": 1}"#, "",
        ].map { Data($0.utf8) }
        let rewritten = ([lines[0]] + garbage + [lines[1], lines[2]]).map { Data($0) }
        try Data(rewritten.joined(separator: [0x0A])).write(to: URL(fileURLWithPath: path))
        // A file that is not a segment is not read at all.
        #expect(FileManager.default.createFile(atPath: directory + "/notes.txt", contents: Data("garbage\n".utf8)))
        let result = try read()
        #expect(result.entries.map(\.requestID) == ["before", "after"])
        #expect(result.skippedLines == 3)
    }

    @Test func hostilePayloadsRoundTripByteExact() throws {
        let id = #"evil,"inputs":{"x":1},"outputs":"\"quoted\" ✓ 🚀"#
        let inputs =
            #"{"dataframe_records": [{"outputs": {"inputs": "}{\"", "nested": [{"outputs": []}]}, "text": "line\nbreak, \"quoted\" é ✓ 🚀 \u0000"}]}"#
        let outputs = #"{"predictions": ["a,\"b\"", "ünïcødé"], "outputs": {"inputs": [1, {"}": "]"}]}}"#
        let log = try writer()
        log.record(record(id, at: 1_000, model: "m,\"q\"", version: "v\n1", inputs: inputs, outputs: outputs))
        // An empty body is logged as null, so the line stays JSON.
        log.record(record("empty", at: 2_000, inputs: "", outputs: ""))
        try log.flush()
        let entries = try read().entries
        try #require(entries.count == 2)
        #expect(entries[0].requestID == id)
        #expect(entries[0].model == "m,\"q\"")
        #expect(entries[0].version == "v\n1")
        #expect(Array(entries[0].inputs) == Array(inputs.utf8))
        #expect(Array(entries[0].outputs) == Array(outputs.utf8))
        #expect(Array(entries[1].inputs) == Array("null".utf8))
        #expect(Array(entries[1].outputs) == Array("null".utf8))
        // The model and version filters see the decoded strings.
        #expect(try ids(InferenceLogQuery(model: "m,\"q\"", version: "v\n1")) == [id])
    }

    @Test func parseRefusesWhatTheWriterNeverWrites() {
        func parse(_ text: String) -> InferenceLogEntry? { InferenceLogReader.parse(ArraySlice(text.utf8)) }
        let good =
            #"{"request_id":"r","timestamp_ms":5,"model":"m","version":"1","status":200,"latency_us":3,"inputs":{"a":[1]},"outputs":null}"#
        let entry = parse(good)
        #expect(entry?.requestID == "r")
        #expect(entry.map { Array($0.inputs) } == Array(#"{"a":[1]}"#.utf8))
        #expect(entry.map { Array($0.line) } == Array(good.utf8))
        #expect(parse(good.replacingOccurrences(of: #""status":200"#, with: #""status":"200""#)) == nil)
        #expect(parse(good.replacingOccurrences(of: #","outputs":null"#, with: "")) == nil)
        #expect(parse(good.replacingOccurrences(of: #""timestamp_ms":5"#, with: #""timestamp_ms":5.5"#)) == nil)
        #expect(parse(String(good.dropLast())) == nil)
        #expect(parse("[]") == nil)
        #expect(parse("") == nil)
        // Nesting deep enough to exhaust a naive recursive scanner is refused, not a crash.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(parse(good.replacingOccurrences(of: #""outputs":null"#, with: #""outputs":\#(deep)"#)) == nil)
    }

    // MARK: - Export

    @Test func jsonlExportIsTheLinesAsWritten() throws {
        let log = try writer()
        for index in 0..<4 {
            log.record(record("r\(index)", at: Int64(index) * 1_000, inputs: #"{"inputs": {"a": [\#(index)]}}"#))
        }
        try log.flush()
        let segment = try #require(try log.segments().first)
        let written = try #require(FileManager.default.contents(atPath: segment))
        let entries = try read().entries
        #expect(InferenceLogExportFormat.jsonl.render(entries) == [UInt8](written))
        #expect(InferenceLogExportFormat.jsonl.render(Array(entries.suffix(1))) == Array(entries[3].line) + [0x0A])
        #expect(InferenceLogExportFormat.jsonl.render([]).isEmpty)
        #expect(InferenceLogExportFormat.jsonl.contentType == "application/x-ndjson")
    }

    @Test func csvExportQuotesFieldsSoTheyParseBack() throws {
        let id = "id,with \"quotes\"\nand a newline"
        let inputs = #"{"dataframe_split": {"columns": ["a,b"], "data": [["x\"y"]]}}"#
        let outputs = #"{"predictions": ["p\r\nq"]}"#
        let log = try writer()
        log.record(record(id, at: 1_000, model: "m,1", version: "2", inputs: inputs, outputs: outputs))
        log.record(record("plain", at: 2_000, model: "m", status: 503, inputs: "[1]", outputs: "2"))
        try log.flush()
        let entries = try read().entries
        let text = String(decoding: InferenceLogExportFormat.csv.render(entries), as: UTF8.self)
        let rows = try Self.parseCSV(text)
        try #require(rows.count == 3)
        #expect(
            rows[0] == [
                "request_id", "timestamp_ms", "model", "version", "status", "latency_us", "row", "a,b", "prediction", "feedback_label",
            ])
        #expect(rows[1] == [id, "\(base + 1_000)", "m,1", "2", "200", "1100", "0", "x\"y", "p\r\nq", ""])
        #expect(rows[2] == ["plain", "\(base + 2_000)", "m", "1", "503", "2100", "", "", "", ""])
        // Fields without a delimiter stay bare.
        #expect(text.hasSuffix("\nplain,\(base + 2_000),m,1,503,2100,,,,\n"))
        #expect(
            InferenceLogExportFormat.csv.render([])
                == Array("request_id,timestamp_ms,model,version,status,latency_us,row,feedback_label\n".utf8))
    }

    /// A NaN the client sent and a value it left out are told apart in the export, as in
    /// the request: `NaN` and an empty cell (pandas reads both as NaN), positional columns too.
    @Test func csvExportWritesASentNaNAsNaNAndAMissingValueAsEmpty() throws {
        let log = try writer()
        log.record(
            record(
                "named", at: 1_000, inputs: #"{"dataframe_split": {"columns": ["a"], "data": [[1.5], [NaN], [null], [-Infinity]]}}"#,
                outputs: #"{"predictions": [0, 1, 0, 1]}"#))
        log.record(record("positional", at: 2_000, inputs: #"{"inputs": [[NaN], [null]]}"#, outputs: #"{"predictions": [0, 1]}"#))
        try log.flush()
        let rows = try Self.parseCSV(String(decoding: InferenceLogExportFormat.csv.render(try read().entries), as: UTF8.self))
        try #require(rows.count == 7)
        let column = try #require(rows[0].firstIndex(of: "a"))
        #expect(rows[1...4].map { $0[column] } == ["1.5", "NaN", "", "-inf"])
        let positional = try #require(rows[0].firstIndex(of: "0"))
        #expect(rows[5...6].map { $0[positional] } == ["NaN", ""])
    }

    /// RFC 4180 as a spreadsheet reads it: quoted fields may hold commas, doubled quotes and
    /// line breaks; every record ends with a line break.
    static func parseCSV(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let scalar = characters.popFirst() {
            if quoted {
                if scalar == "\"" {
                    if characters.first == "\"" {
                        characters.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty else { throw CSVError.strayQuote }
                quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        guard !quoted, row.isEmpty, field.isEmpty else { throw CSVError.unterminated }
        return rows
    }

    enum CSVError: Error { case strayQuote, unterminated }
}
