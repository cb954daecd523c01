import CairnCore
import Foundation
import Logging
import Testing
@testable import CairnMonitor

@Suite struct InferenceLogWriterTests {
    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "cairn-inference-log-\(UUID().uuidString)"
    }

    func record(_ id: String, inputs: String = #"{"inputs": [[1, 2]]}"#) -> InferenceRecord {
        InferenceRecord(requestID: id, timestamp: 1_700_000_000_000, model: "churn", version: "3",
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
}
