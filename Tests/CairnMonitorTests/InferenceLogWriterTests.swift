import CairnCore
import Foundation
import Logging
import Prometheus
import Testing

@testable import CairnMonitor

@Suite struct InferenceLogWriterTests {
    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "cairn-inference-log-\(UUID().uuidString)"
    }

    func record(_ id: String, inputs: String = #"{"inputs": [[1, 2]]}"#) -> InferenceRecord {
        InferenceRecord(
            requestID: id, timestamp: 1_700_000_000_000, model: "churn", version: "3",
            inputs: Array(inputs.utf8), outputs: Array(#"{"predictions": [1]}"#.utf8), latencyMicroseconds: 250, status: 200)
    }

    func lines(_ writer: InferenceLogWriter) throws -> [JSONValue] {
        try writer.segments().flatMap { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        }
    }

    @Test func recordsBecomeJSONLinesInOrder() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        for index in 0..<5 { #expect(writer.record(record("r\(index)"))) }
        try writer.flush()
        let written = try lines(writer)
        #expect(written.map { $0["request_id"] } == (0..<5).map { .string("r\($0)") })
        #expect(written[0]["model"] == .string("churn"))
        #expect(written[0]["version"] == .string("3"))
        #expect(written[0]["status"] == .number(200, raw: "200"))
        #expect(written[0]["inputs"]?["inputs"] != nil, "the body is spliced in as JSON, not as a string")
        #expect(written[0]["outputs"]?["predictions"] == .array([.number(1, raw: "1")]))
        #expect(writer.writtenCount == 5)
    }

    @Test func aFullBufferDropsAndCountsWithoutLosingWhatFits() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try InferenceLogWriter(options: .init(directory: directory, capacity: 3), logger: Logger(label: "test"))
        let accepted = (0..<5).map { writer.record(record("r\($0)")) }
        #expect(accepted == [true, true, true, false, false])
        #expect(writer.droppedCount == 2)
        try writer.flush()
        #expect(try lines(writer).count == 3)
        // After a flush the buffer has room again.
        #expect(writer.record(record("r5")))
    }

    @Test func segmentsRotateBySizeAndSamplingCanTurnLoggingOff() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try InferenceLogWriter(options: .init(directory: directory, segmentBytes: 1024), logger: Logger(label: "test"))
        for round in 0..<4 {
            for index in 0..<10 { writer.record(record("r\(round)-\(index)")) }
            try writer.flush()
        }
        #expect(try writer.segments().count > 1)
        #expect(try lines(writer).count == 40)
        let off = try InferenceLogWriter(options: .init(directory: directory, sampleRate: 0), logger: Logger(label: "test"))
        #expect(!(0..<100).contains { _ in off.sampled() })
    }

    @Test func aPrettyPrintedBodyStaysOneLine() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        writer.record(record("pretty", inputs: "{\r\n  \"inputs\": [\n    [1, \"a\\nb\"]\n  ]\n}\n"))
        writer.record(record("next"))
        try writer.flush()
        let written = try lines(writer)
        #expect(written.map { $0["request_id"] } == [.string("pretty"), .string("next")])
        #expect(
            written[0]["inputs"]?["inputs"] == .array([.array([.number(1, raw: "1"), .string("a\nb")])]),
            "line breaks between tokens become spaces; an escaped one inside a string is kept")
    }

    @Test func theByteBoundDropsLargeRecordsAndCounts() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let large = "{\"inputs\": [\"" + String(repeating: "x", count: 4_000) + "\"]}"
        let metrics = PrometheusCollectorRegistry()
        let writer = try InferenceLogWriter(
            options: .init(directory: directory, capacityBytes: 10_000), logger: Logger(label: "test"), metrics: metrics)
        let accepted = (0..<4).map { writer.record(record("r\($0)", inputs: large)) }
        #expect(accepted == [true, true, false, false])
        #expect(writer.droppedCount == 2)
        #expect(writer.record(record("small")), "a record that still fits is taken")
        try writer.flush()
        #expect(try lines(writer).map { $0["request_id"] } == [.string("r0"), .string("r1"), .string("small")])
        #expect(writer.writtenCount == 3)
        var emitted: [UInt8] = []
        metrics.emit(into: &emitted)
        let text = String(decoding: emitted, as: UTF8.self)
        #expect(text.contains("cairn_inference_log_records_written_total 3"))
        #expect(text.contains("cairn_inference_log_records_dropped_total 2"))
        #expect(text.contains("# TYPE cairn_inference_log_records_dropped_total counter"))
    }

    @Test func aFailedWriteCountsItsRecordsAsDroppedAndTheLogCarriesOn() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test"))
        try FileManager.default.removeItem(atPath: directory)
        writer.record(record("lost"))
        #expect(throws: (any Error).self) { try writer.flush() }
        #expect(writer.droppedCount == 1)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        writer.record(record("kept"))
        try writer.flush()
        #expect(try lines(writer).map { $0["request_id"] } == [.string("kept")])
    }

    @Test func segmentsPastRetentionAreDeletedAndSegmentsRotateByAge() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Left by an earlier run: one segment past the retention, one within it.
        let old = "\(directory)/inference-1000-aaaaaaaa.jsonl"
        let recent = "\(directory)/inference-2000-bbbbbbbb.jsonl"
        for (path, age) in [(old, 7_200.0), (recent, 600.0)] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data("{}\n".utf8)))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
        }
        let writer = try InferenceLogWriter(
            options: .init(directory: directory, retention: .seconds(3_600), segmentAge: .zero), logger: Logger(label: "test"))
        for index in 0..<3 {
            writer.record(record("r\(index)"))
            try writer.flush()
        }
        let segments = try writer.segments()
        #expect(!segments.contains(old))
        #expect(segments.contains(recent), "a segment within the retention is kept")
        #expect(segments.count == 4, "with no age allowed, each flush starts a segment")
    }
}
