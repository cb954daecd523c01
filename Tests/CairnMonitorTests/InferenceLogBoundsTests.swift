import CairnCore
import CairnStatistics
import Foundation
import Logging
import Prometheus
import Testing

@testable import CairnMonitor

/// What one logged request may cost: the per-record cap (a sample of the rows, with their
/// original indexes) and the reader's payload budget.
@Suite final class InferenceLogBoundsTests: Sendable {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "cairn-inference-bounds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `rows` rows where `a` is the row's index and the prediction ten times it, so a kept
    /// row shows where it came from.
    static func request(rows: Int, id: String = "big", status: Int = 200, positional: Bool = false) -> InferenceRecord {
        let data = (0..<rows).map { "[\($0), \"city-\($0 % 7)\"]" }.joined(separator: ",")
        let inputs = positional ? #"{"instances": [\#(data)]}"# : #"{"dataframe_split": {"columns": ["a", "city"], "data": [\#(data)]}}"#
        let outputs =
            status == 200
            ? #"{"predictions": [\#((0..<rows).map { String($0 * 10) }.joined(separator: ","))]}"#
            : #"{"error_code": "BAD_REQUEST", "message": "no"}"#
        return InferenceRecord(
            requestID: id, timestamp: Int64(Date().timeIntervalSince1970 * 1000) - 1_000, model: "m", version: "1",
            inputs: Array(inputs.utf8), outputs: Array(outputs.utf8), latencyMicroseconds: 10, status: status)
    }

    static func entry(_ record: InferenceRecord) -> InferenceLogEntry {
        var line = record.line()
        line.removeLast()
        return InferenceLogReader.parse(line[...])!
    }

    @Test func aRecordOverTheCapKeepsAUniformSampleOfItsRowsWithTheirIndexes() throws {
        let original = Self.request(rows: 5_000)
        let size = original.inputs.count + original.outputs.count
        #expect(size > 64 << 10)
        let (bounded, omitted) = original.bounded(maxBytes: 16 << 10)
        #expect(bounded.inputs.count + bounded.outputs.count <= 16 << 10)
        let indexes = try #require(bounded.rowIndexes)
        #expect(bounded.rowCount == 5_000)
        #expect(omitted == 5_000 - indexes.count)
        #expect(indexes.count > 100, "the sample fills the cap, not a token few rows")
        #expect(indexes == indexes.sorted() && Set(indexes).count == indexes.count && indexes.allSatisfy { (0..<5_000).contains($0) })
        // Uniform, not the first rows: the sample reaches into the last fifth of the request.
        #expect(indexes.contains { $0 >= 4_000 })

        // Read back, each kept row and its prediction are the original row's, at its original index.
        let window = MonitorWindow(entries: [Self.entry(bounded)])
        #expect(window.rowIndexes == indexes)
        #expect(window.requestRows == ["big": 5_000], "feedback must still label all 5,000 rows")
        guard case .numeric(let a)? = window.featureColumn("a", kind: .numeric) else {
            Issue.record("no column a")
            return
        }
        #expect(a == indexes.map(Double.init))
        #expect(window.featureColumn("city", kind: .categorical) == .categorical(indexes.map { "city-\($0 % 7)" }))
        #expect(window.predictions.map { $0?.label } == indexes.map { String($0 * 10) })
        // A record within the cap is untouched.
        #expect(Self.request(rows: 3).bounded(maxBytes: 16 << 10).record.rowIndexes == nil)
    }

    @Test func aPositionalRequestStaysPositionalAndTakesTheReferenceNames() throws {
        let (bounded, _) = Self.request(rows: 2_000, positional: true).bounded(maxBytes: 8 << 10)
        let indexes = try #require(bounded.rowIndexes)
        let window = MonitorWindow(entries: [Self.entry(bounded)], positionalNames: ["age", "town"])
        #expect(window.unreadableRequests == 0)
        guard case .numeric(let age)? = window.featureColumn("age", kind: .numeric) else {
            Issue.record("no column age")
            return
        }
        #expect(age == indexes.map(Double.init))
    }

    @Test func openInferenceOutputsAreCutToTheSameRows() throws {
        let rows = 3_000
        var record = Self.request(rows: rows)
        let labels = (0..<rows).map(String.init).joined(separator: ",")
        let scores = (0..<rows).flatMap { ["0.\($0 % 10)", "0.5"] }.joined(separator: ",")
        record.outputs = Array(
            #"{"model_name": "m", "outputs": [{"name": "label", "shape": [\#(rows)], "datatype": "INT64", "data": [\#(labels)]}, {"name": "p", "shape": [\#(rows), 2], "datatype": "FP64", "data": [\#(scores)]}]}"#
                .utf8)
        let (bounded, _) = record.bounded(maxBytes: 24 << 10)
        let indexes = try #require(bounded.rowIndexes)
        let outputs = try JSONValue.parse(bounded.outputs)
        guard case .array(let tensors)? = outputs["outputs"] else {
            Issue.record("no outputs")
            return
        }
        #expect(tensors[0]["data"] == .array(indexes.map { .number(Double($0), raw: String($0)) }))
        #expect(tensors[0]["shape"] == .array([.number(Double(indexes.count), raw: String(indexes.count))]))
        guard case .array(let pairs)? = tensors[1]["data"] else {
            Issue.record("no p")
            return
        }
        #expect(pairs.count == indexes.count * 2)
        #expect(bounded.omittedBytes == nil)
    }

    @Test func aRefusedBodyOverTheCapKeepsItsErrorButNotItsPayload() {
        let (bounded, omitted) = Self.request(rows: 5_000, status: 400).bounded(maxBytes: 4 << 10)
        #expect(omitted == 0)
        #expect(bounded.inputs.isEmpty)
        #expect(bounded.rowIndexes == nil)
        #expect(String(decoding: bounded.outputs, as: UTF8.self).contains("BAD_REQUEST"))
        let entry = Self.entry(bounded)
        #expect(entry.omittedBytes == Self.request(rows: 5_000, status: 400).inputs.count)
        #expect(String(decoding: entry.inputs, as: UTF8.self) == "null")
    }

    @Test func aSampledRequestKeepsOnlyItsSampledRows() {
        let sampled = LoggedRequest(status: 200, timestamp: 0, rows: 10, keptRows: [1, 5, 9])
        #expect([1, 5, 9].allSatisfy(sampled.keeps(row:)))
        #expect(![0, 2, 4, 6, 8].contains(where: sampled.keeps(row:)))
        #expect(LoggedRequest(status: 200, timestamp: 0, rows: 10).keeps(row: 7))
    }

    @Test func theWriterCapsRecordsAndCountsThemInMetrics() throws {
        let metrics = PrometheusCollectorRegistry()
        let writer = try InferenceLogWriter(
            options: .init(directory: directory, maxRecordBytes: 32 << 10), logger: Logger(label: "test"), metrics: metrics)
        for (offset, record) in [
            Self.request(rows: 20_000), Self.request(rows: 2, id: "small"), Self.request(rows: 1, id: #"quoted "id" \ too"#),
        ].enumerated() {
            var record = record
            record.timestamp += Int64(offset)
            writer.record(record)
        }
        try writer.flush()
        let segment = try #require(try writer.segments().first)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
        #expect(size < 40 << 10, "the 20,000-row request costs the log about the cap, not its 700 kB")
        let entries = try InferenceLogReader(directory: directory).read(InferenceLogQuery()).entries
        #expect(entries.map(\.requestID) == ["big", "small", #"quoted "id" \ too"#])
        let kept = try #require(entries[0].rowIndexes?.count)
        #expect(entries[0].rowCount == 20_000)
        #expect(entries[1].rowCount == nil)
        #expect(writer.truncatedCount == 1)
        #expect(writer.rowsOmittedCount == 20_000 - kept)
        var emitted: [UInt8] = []
        metrics.emit(into: &emitted)
        let text = String(decoding: emitted, as: UTF8.self)
        #expect(text.contains("cairn_inference_log_records_truncated_total 1"))
        #expect(text.contains("cairn_inference_log_rows_omitted_total \(20_000 - kept)"))
        // What feedback is checked against: the rows the request carried, not those kept.
        #expect(
            try InferenceLogReader(directory: directory).lookup(["big", "small", "ghost", #"quoted "id" \ too"#]) == [
                "big": LoggedRequest(status: 200, timestamp: entries[0].timestamp, rows: 20_000, keptRows: entries[0].rowIndexes),
                "small": LoggedRequest(status: 200, timestamp: entries[1].timestamp, rows: 2),
                #"quoted "id" \ too"#: LoggedRequest(status: 200, timestamp: entries[2].timestamp, rows: 1),
            ])
    }

    @Test func aReadKeepsThePayloadOfOnlyTheNewestRecordsWithinItsBudget() throws {
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        let start = Int64(Date().timeIntervalSince1970 * 1000) - 10_000
        for index in 0..<40 {
            var record = Self.request(rows: 20, id: "r\(index)")
            record.timestamp = start + Int64(index)
            writer.record(record)
        }
        try writer.flush()
        let all = try InferenceLogReader(directory: directory).read(InferenceLogQuery())
        let line = all.entries.map(\.line.count).max()!
        let result = try InferenceLogReader(directory: directory).read(InferenceLogQuery(maxPayloadBytes: line * 10))
        #expect(result.entries.count == 40, "every record keeps its status and latency")
        #expect(result.payloadOmitted == 30)
        #expect(result.entries.suffix(10).allSatisfy { !$0.payloadOmitted && !$0.inputs.isEmpty })
        #expect(result.entries.prefix(30).allSatisfy { $0.payloadOmitted && $0.line.isEmpty })
        // The window decodes the ten it has and says how many it left out.
        let window = MonitorWindow(entries: result.entries)
        #expect(window.rowCount == 200)
        #expect(window.undecodedRequests == 30)
        #expect(window.entries.count == 40)
        #expect(MonitorWindow(entries: all.entries, maxRows: 50).rowCount == 60, "whole requests, newest first, up to the row bound")
    }

    @Test func linesAreReadAcrossChunkBoundaries() throws {
        let path = directory + "/lines.txt"
        let lines = ["a", "", "bcdefghijklmnop", "q", String(repeating: "r", count: 50), "last-without-newline"]
        #expect(FileManager.default.createFile(atPath: path, contents: Data(lines.joined(separator: "\n").utf8)))
        for chunk in [1, 3, 7, 64, 4096] {
            var read: [String] = []
            try InferenceLogReader.forEachLine(path: path, chunkBytes: chunk) { line in
                read.append(String(decoding: line, as: UTF8.self))
                return true
            }
            #expect(read == lines.filter { !$0.isEmpty }, "chunk \(chunk)")
        }
    }
}
