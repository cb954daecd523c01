import CairnCore
import Foundation
import Logging
import Testing

@testable import CairnMonitor

/// The columnar sidecar a writer keeps beside each segment: a window read through it equals
/// the window read from the JSON, and a sidecar that is missing, torn, corrupt or does not
/// match its segment is passed over for the JSON.
@Suite final class InferenceLogSidecarTests: Sendable {
    let directory: String
    let base = Int64(Date().timeIntervalSince1970 * 1000) - 60_000

    init() throws {
        directory = NSTemporaryDirectory() + "cairn-inference-sidecar-\(UUID().uuidString)"
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Every shape of record a window has to read: named and positional inputs, mixed
    /// schemas, missing values, texts, booleans, integers, failed and unreadable requests,
    /// capped (sampled) records, predictions of each form, another model.
    func records() -> [InferenceRecord] {
        var records: [(String, Int, String, String)] = [
            (
                #"{"dataframe_split": {"columns": ["a", "city"], "data": [[1, "paris"], [2.5, null], [null, "rome"]]}}"#, 200,
                #"{"predictions": [0, 1, 1]}"#, "churn"
            ),
            (#"{"dataframe_records": [{"a": 3, "flag": true}, {"a": 4}]}"#, 200, #"{"predictions": ["yes", "no"]}"#, "churn"),
            (#"{"inputs": {"a": [5], "city": ["oslo"]}}"#, 200, #"{"predictions": [[0.2, 0.8]]}"#, "churn"),
            (
                #"{"inputs": [[1, 2, 3], [4, 5, 6]]}"#, 200,
                #"{"predictions": [{"label": 1, "probabilities": [0.3, 0.7]}, {"label": 0, "probabilities": [0.9, 0.1]}]}"#, "churn"
            ),
            (#"{"instances": [1, 2]}"#, 200, #"{"predictions": [1, 2]}"#, "churn"),
            (#"{"inputs": {"a": [6]}}"#, 500, #"{"error_code": "INTERNAL_ERROR"}"#, "churn"),
            (#""a,city\n7,lima\n""#, 200, #"{"predictions": [true]}"#, "churn"),
            (#"{"inputs": {"a": [8, 9]}}"#, 200, #"{"predictions": [1]}"#, "churn"),
            (
                #"{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [10, 11]}]}"#, 200,
                #"{"outputs": [{"name": "y", "shape": [2], "datatype": "FP64", "data": [0.5, 1.5]}]}"#, "churn"
            ),
            (#"{"inputs": {"a": [12]}}"#, 200, #"{"predictions": [0]}"#, "fraud"),
            (#"{"inputs": {"a": [1e308], "b": [-0.0]}}"#, 200, "", "churn"),
        ].map { ($0.0, $0.1, $0.2, $0.3) }
        // Runs of one schema, as steady traffic is.
        for index in 0..<40 {
            records.append(
                (
                    #"{"inputs": {"a": [\#(index), \#(index + 1)], "city": ["c\#(index % 3)", null]}}"#, 200,
                    #"{"predictions": [\#(index), 0]}"#, "churn"
                ))
        }
        var result = records.enumerated().map { index, record in
            InferenceRecord(
                requestID: "r\(index)", timestamp: base + Int64(index * 10), model: record.3, version: "1",
                inputs: Array(record.0.utf8), outputs: Array(record.2.utf8), latencyMicroseconds: Int64(100 + index), status: record.1)
        }
        // Over the per-record cap: logged as a sample of its rows with their indexes.
        let rows = (0..<3_000).map { "[\($0), \"city-\($0 % 7)\"]" }.joined(separator: ",")
        result.append(
            InferenceRecord(
                requestID: "big", timestamp: base + 5_000, model: "churn", version: "1",
                inputs: Array(#"{"dataframe_split": {"columns": ["a", "city"], "data": [\#(rows)]}}"#.utf8),
                outputs: Array(#"{"predictions": [\#((0..<3_000).map(String.init).joined(separator: ","))]}"#.utf8), latencyMicroseconds: 9,
                status: 200))
        // Out of time order, as concurrent requests finish.
        result.swapAt(20, 21)
        return result
    }

    /// Writes `records` in several flushes (several blocks) over several segments.
    @discardableResult
    func write() throws -> InferenceLogWriter {
        let writer = try InferenceLogWriter(
            options: .init(directory: directory, segmentBytes: 4 << 10, maxRecordBytes: 8 << 10), logger: Logger(label: "test"))
        for (index, record) in records().enumerated() {
            writer.record(record)
            if index % 7 == 6 { try writer.flush() }
        }
        try writer.flush()
        return writer
    }

    /// Both paths over the same query and window options.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var query: InferenceLogQuery
        var rowLimit: Int? = nil
        var positionalNames: [String]? = nil
        var maxRows: Int? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "everything", query: InferenceLogQuery()),
        Case(name: "one model", query: InferenceLogQuery(model: "churn", version: "1")),
        Case(name: "positional names", query: InferenceLogQuery(model: "churn"), positionalNames: ["x", "y", "z"]),
        Case(name: "last records", query: InferenceLogQuery(lastRecords: 17)),
        Case(name: "payload budget", query: InferenceLogQuery(maxPayloadBytes: 3_000)),
        Case(name: "row limit and max rows", query: InferenceLogQuery(model: "churn"), rowLimit: 30, maxRows: 20),
    ]

    func window(_ test: Case, directory: String? = nil) throws -> (MonitorWindow, LoggedWindow) {
        let logged = try InferenceLogReader(directory: directory ?? self.directory).readWindow(test.query)
        return (MonitorWindow(logged, rowLimit: test.rowLimit, positionalNames: test.positionalNames, maxRows: test.maxRows), logged)
    }

    /// The window as monitors read it before the sidecar: every line parsed.
    func jsonWindow(_ test: Case, directory: String? = nil) throws -> MonitorWindow {
        let read = try InferenceLogReader(directory: directory ?? self.directory).read(test.query)
        return MonitorWindow(entries: read.entries, rowLimit: test.rowLimit, positionalNames: test.positionalNames, maxRows: test.maxRows)
    }

    /// Field by field, NaN cells (missing values) comparing equal to NaN.
    static func expectEqual(
        _ a: MonitorWindow, _ b: MonitorWindow, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.entries == b.entries, comment, sourceLocation: sourceLocation)
        #expect(a.rowRequestIDs == b.rowRequestIDs, comment, sourceLocation: sourceLocation)
        #expect(a.rowIndexes == b.rowIndexes, comment, sourceLocation: sourceLocation)
        #expect(a.requestRows == b.requestRows, comment, sourceLocation: sourceLocation)
        #expect(a.predictions == b.predictions, comment, sourceLocation: sourceLocation)
        #expect(a.unreadableRequests == b.unreadableRequests, comment, sourceLocation: sourceLocation)
        #expect(a.undecodedRequests == b.undecodedRequests, comment, sourceLocation: sourceLocation)
        #expect(Set(a.columns.keys) == Set(b.columns.keys), comment, sourceLocation: sourceLocation)
        for (name, column) in a.columns {
            let other = b.columns[name]
            #expect(column.numbers.map(\.bitPattern) == other?.numbers.map(\.bitPattern), "column \(name)", sourceLocation: sourceLocation)
            #expect(column.texts == other?.texts, "column \(name)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: cases)
    func aWindowReadThroughTheSidecarEqualsTheJSONs(_ test: Case) throws {
        let writer = try write()
        #expect(try writer.segments().count > 2)
        #expect(try writer.segments().allSatisfy { FileManager.default.fileExists(atPath: InferenceLogSidecar.path(ofSegment: $0)) })
        let (window, logged) = try window(test)
        #expect(logged.blocks.count > 2, "the records come from the sidecar")
        #expect(logged.entries.isEmpty, "no line was parsed")
        #expect(window.rowCount > 0)
        Self.expectEqual(window, try jsonWindow(test))
        #expect(logged.skippedLines == 0)

        // The same segments without their sidecars read the same through the same call.
        let plain = path("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        for segment in try writer.segments() {
            try FileManager.default.copyItem(atPath: segment, toPath: plain + "/" + (segment as NSString).lastPathComponent)
        }
        let (fromJSON, loggedJSON) = try self.window(test, directory: plain)
        #expect(loggedJSON.blocks.isEmpty)
        Self.expectEqual(window, fromJSON)
    }

    func record(_ id: String, _ value: Int, at offset: Int64 = 0) -> InferenceRecord {
        InferenceRecord(
            requestID: id, timestamp: base + offset, model: "m", version: "1", inputs: Array(#"{"inputs": {"a": [\#(value)]}}"#.utf8),
            outputs: Array(#"{"predictions": [0]}"#.utf8), latencyMicroseconds: 1, status: 200)
    }

    /// Rewrites the first `[from]` of a segment as `[to]` in place (same length), as an
    /// editor or a redaction script writing into the file would, and moves its mtime a
    /// second on, as any write after the writer's own clock tick does.
    func editInPlace(_ segment: String, from: Int, to: Int) throws {
        let content = try #require(FileManager.default.contents(atPath: segment))
        let needle = Array("[\(from)]".utf8)
        let at = try #require((0...(content.count - needle.count)).first { Array(content[$0..<($0 + needle.count)]) == needle })
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.modificationDate] as? Date)
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        try handle.seek(toOffset: UInt64(at))
        try handle.write(contentsOf: Array("[\(to)]".utf8))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: modified.addingTimeInterval(1)], ofItemAtPath: segment)
        #expect(try FileManager.default.contents(atPath: segment)?.count == content.count)
    }

    @Test func anUntouchedSegmentIsReadFromItsSidecar() throws {
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        writer.record(record("r", 1))
        try writer.flush()
        let logged = try InferenceLogReader(directory: directory).readWindow(InferenceLogQuery())
        #expect(logged.blocks.count == 1)
        #expect(logged.entries.isEmpty)
        #expect(MonitorWindow(logged).columns["a"]?.numbers == [1])
    }

    /// A same-length edit keeps every block's range whole lines starting with the right id:
    /// only the segment's mtime says the sidecar no longer describes it.
    @Test func aSegmentEditedInPlaceIsReadFromItsJSON() throws {
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        writer.record(record("r", 1))
        try writer.flush()
        let segment = try #require(try writer.segments().first)
        try editInPlace(segment, from: 1, to: 7)
        let logged = try InferenceLogReader(directory: directory).readWindow(InferenceLogQuery())
        #expect(logged.blocks.isEmpty, "the edited segment's sidecar is not trusted")
        #expect(MonitorWindow(logged).columns["a"]?.numbers == [7])
        #expect(try jsonWindow(Case(name: "", query: InferenceLogQuery())).columns["a"]?.numbers == [7])
    }

    /// An edit between two flushes: the writer sees its segment changed and starts a new one,
    /// so the next block cannot vouch for the edited bytes.
    @Test func aWriterLeavesASegmentSomeoneElseWroteTo() throws {
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        writer.record(record("r1", 1))
        try writer.flush()
        let first = try #require(try writer.segments().first)
        try editInPlace(first, from: 1, to: 7)
        writer.record(record("r2", 2, at: 10))
        try writer.flush()
        #expect(try writer.segments().count == 2)
        let logged = try InferenceLogReader(directory: directory).readWindow(InferenceLogQuery())
        #expect(logged.blocks.count == 1, "the new segment's sidecar is used")
        #expect(logged.entries.count == 1, "the edited segment is parsed")
        #expect(MonitorWindow(logged).columns["a"]?.numbers == [7, 2])
    }

    /// A block recorded the segment's mtime and inode: the same bytes in another file (a
    /// copy put back in place) are not vouched for.
    @Test func aSegmentReplacedByACopyIsReadFromItsJSON() throws {
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        writer.record(record("r", 1))
        try writer.flush()
        let segment = try #require(try writer.segments().first)
        let copy = path("copy")
        try FileManager.default.copyItem(atPath: segment, toPath: copy)
        let modified = try FileManager.default.attributesOfItem(atPath: segment)[.modificationDate]
        try FileManager.default.removeItem(atPath: segment)
        try FileManager.default.moveItem(atPath: copy, toPath: segment)
        if let modified { try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: segment) }
        let logged = try InferenceLogReader(directory: directory).readWindow(InferenceLogQuery())
        #expect(logged.blocks.isEmpty)
        #expect(logged.entries.count == 1)
    }

    /// After a crash: the sidecar cut short, a block torn or zero-filled, lines that reached
    /// the segment but not the sidecar, a segment cut short. Each reads as the JSON does.
    @Test(arguments: ["truncated", "corrupt", "zero-filled", "lines past the sidecar", "segment cut short", "sidecar of another segment"])
    func aSidecarThatDoesNotMatchItsSegmentIsPassedOver(_ damage: String) throws {
        let writer = try write()
        let segments = try writer.segments()
        let segment = segments[segments.count / 2]
        let sidecar = InferenceLogSidecar.path(ofSegment: segment)
        var bytes = try #require(FileManager.default.contents(atPath: sidecar))
        switch damage {
        case "truncated":
            bytes = bytes.prefix(bytes.count * 2 / 3)
        case "corrupt":
            bytes[bytes.count - 40] ^= 0x5A
        case "zero-filled":
            bytes.replaceSubrange((bytes.count / 2)..<bytes.count, with: Data(count: bytes.count - bytes.count / 2))
        case "lines past the sidecar":
            var line = InferenceRecord(
                requestID: "late", timestamp: base + 7_000, model: "churn", version: "1", inputs: Array(#"{"inputs": {"a": [99]}}"#.utf8),
                outputs: Array(#"{"predictions": [1]}"#.utf8), latencyMicroseconds: 1, status: 200
            ).line()
            line += Array(#"{"torn": "#.utf8)
            let handle = try #require(FileHandle(forWritingAtPath: segment))
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
            try handle.close()
        case "segment cut short":
            let content = try #require(FileManager.default.contents(atPath: segment))
            let cut = content.prefix(content.count / 2)
            try cut.prefix(through: cut.lastIndex(of: UInt8(ascii: "\n"))!).write(to: URL(fileURLWithPath: segment))
        default:
            bytes = try #require(FileManager.default.contents(atPath: InferenceLogSidecar.path(ofSegment: segments[0])))
        }
        try bytes.write(to: URL(fileURLWithPath: sidecar))
        for test in Self.cases {
            let (window, logged) = try window(test)
            Self.expectEqual(window, try jsonWindow(test), "\(damage), \(test.name)")
            #expect(logged.skippedLines == (try InferenceLogReader(directory: directory).read(test.query).skippedLines))
        }
        let (_, logged) = try window(Self.cases[0])
        #expect(!logged.entries.isEmpty, "what the sidecar does not hold is read from the JSON")
        #expect(!logged.blocks.isEmpty, "the other segments still use theirs")
    }

    @Test func blocksRoundTripAndRejectWhatDoesNotMatch() throws {
        var builder = LoggedRecordsBuilder()
        for record in records() {
            var line = record.line()
            line.removeLast()
            builder.append(line: line[...])
        }
        builder.append(line: Array("not json".utf8)[...])
        let block = InferenceLogSidecar.block(
            builder.records, segment: "s.jsonl", segmentRange: 0..<100, state: SegmentState(size: 100, modified: 1, inode: 2))
        let lineBreakAtTheEnd: (Int, Int) -> [UInt8] = { offset, _ in offset == 99 ? [0x0A] : [0x20] }
        let decoded = InferenceLogSidecar.blocks(block, segment: "s.jsonl", segmentBytes: 100, segmentBytesAt: lineBreakAtTheEnd)
        #expect(decoded.count == 1)
        #expect(decoded.first?.records == builder.records)
        #expect(decoded.first?.records.skippedLines == 1)
        #expect(decoded.first?.state == SegmentState(size: 100, modified: 1, inode: 2))
        // A range that does not end on a line break, runs past the segment, or a block of
        // another segment is not trusted.
        #expect(InferenceLogSidecar.blocks(block, segment: "s.jsonl", segmentBytes: 100) { _, _ in [0x20] }.isEmpty)
        #expect(InferenceLogSidecar.blocks(block, segment: "s.jsonl", segmentBytes: 99) { _, _ in [0x0A] }.isEmpty)
        #expect(InferenceLogSidecar.blocks(block, segment: "t.jsonl", segmentBytes: 100, segmentBytesAt: lineBreakAtTheEnd).isEmpty)
        // Every prefix of a block is rejected, never a trap.
        for length in stride(from: 0, to: block.count, by: 97) {
            #expect(
                InferenceLogSidecar.blocks(
                    Array(block.prefix(length)), segment: "s.jsonl", segmentBytes: 100, segmentBytesAt: lineBreakAtTheEnd
                ).isEmpty)
        }
    }

    @Test func retentionRemovesASidecarWithItsSegment() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let old = path("inference-1000-aaaaaaaa.jsonl")
        let orphan = path("inference-1500-cccccccc.cols")
        for file in [old, InferenceLogSidecar.path(ofSegment: old), orphan] {
            #expect(FileManager.default.createFile(atPath: file, contents: Data("{}\n".utf8)))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7_200)], ofItemAtPath: file)
        }
        let writer = try InferenceLogWriter(options: .init(directory: directory, retention: .seconds(3_600)), logger: Logger(label: "test"))
        writer.record(records()[0])
        try writer.flush()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 2, "the new segment and its sidecar: \(files)")
        #expect(files.allSatisfy { !$0.contains("aaaaaaaa") && !$0.contains("cccccccc") })
    }
}
