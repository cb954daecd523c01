import CairnCore
import Foundation
import Logging
import Testing

@testable import CairnMonitor

/// A streamed export: the same records, order and bytes as rendering `read`'s entries at
/// once, produced in chunks that each hold about a chunk's worth of lines.
@Suite final class InferenceLogExportPlanTests: Sendable {
    let directory: String
    let base = Int64(Date().timeIntervalSince1970 * 1000) - 60_000

    init() throws {
        directory = NSTemporaryDirectory() + "cairn-inference-export-\(UUID().uuidString)"
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Two writers sharing the directory, records tied on time across them, mixed schemas,
    /// positional inputs, a failed request, a sampled one.
    func write() throws {
        let writers = try (0..<2).map { _ in
            try InferenceLogWriter(
                options: .init(directory: directory, segmentBytes: 2 << 10, maxRecordBytes: 4 << 10), logger: Logger(label: "test"))
        }
        let bodies: [(String, String, Int)] = [
            (#"{"dataframe_split": {"columns": ["a", "city"], "data": [[1, "paris"], [2.5, null]]}}"#, #"{"predictions": [0, 1]}"#, 200),
            (#"{"inputs": [[1, 2, 3]]}"#, #"{"predictions": [{"label": 1, "probabilities": [0.3, 0.7]}]}"#, 200),
            (#"{"dataframe_records": [{"b": true}]}"#, #"{"predictions": ["yes"]}"#, 200),
            (#""not,a\ncsv""#, #"{"error_code": "BAD_REQUEST"}"#, 400),
        ]
        for index in 0..<60 {
            let (inputs, outputs, status) = bodies[index % bodies.count]
            // Pairs of records share a millisecond; their ids order them, not their writer.
            writers[index % 2].record(
                InferenceRecord(
                    requestID: "r\(99 - index)", timestamp: base + Int64(index / 2), model: index % 5 == 4 ? "other" : "m", version: "1",
                    inputs: Array(inputs.utf8), outputs: Array(outputs.utf8), latencyMicroseconds: Int64(index), status: status))
            if index % 9 == 8 { for writer in writers { try writer.flush() } }
        }
        let rows = (0..<800).map { "[\($0), \"c\($0 % 3)\"]" }.joined(separator: ",")
        writers[0].record(
            InferenceRecord(
                requestID: "big", timestamp: base + 100, model: "m", version: "1",
                inputs: Array(#"{"dataframe_split": {"columns": ["a", "city"], "data": [\#(rows)]}}"#.utf8),
                outputs: Array(#"{"predictions": [\#((0..<800).map(String.init).joined(separator: ","))]}"#.utf8), latencyMicroseconds: 1,
                status: 200))
        for writer in writers { try writer.flush() }
    }

    func streamed(
        _ query: InferenceLogQuery, _ format: InferenceLogExportFormat, chunkBytes: Int, labels: [String: [JSONValue]] = [:],
        positionalNames: [String: [String]] = [:]
    ) throws -> [UInt8] {
        let plan = try InferenceLogReader(directory: directory).exportPlan(query, format: format)
        let columns = plan.columnNames(positionalNames: positionalNames)
        let chunks = plan.chunks(bytes: chunkBytes)
        var out: [UInt8] = []
        for chunk in chunks {
            // Bounded: a chunk holds its byte budget of lines plus at most one more line.
            let lines = try plan.lines(chunk)
            #expect(lines.dropLast().reduce(0) { $0 + $1.count + 1 } < chunkBytes)
            let ids = Set(try plan.scoredRequestIDs(chunk))
            out += try plan.render(
                chunk, labels: labels.filter { ids.contains($0.key) }, positionalNames: positionalNames, columns: columns)
        }
        return out
    }

    static let queries = [
        InferenceLogQuery(), InferenceLogQuery(model: "m"), InferenceLogQuery(lastRecords: 7),
        InferenceLogQuery(model: "m", since: nil, until: nil, lastRecords: 25),
    ]

    @Test(arguments: [InferenceLogExportFormat.jsonl, .csv])
    func aStreamedExportEqualsTheWholeOne(_ format: InferenceLogExportFormat) throws {
        try write()
        #expect(try InferenceLogWriter(options: .init(directory: directory), logger: Logger(label: "test")).segments().count > 4)
        let labels: [String: [JSONValue]] = ["r99": [.string("yes"), .null], "big": (0..<800).map { .number(Double($0), raw: "\($0)") }]
        let positionalNames = [InferenceLogExportFormat.referenceKey(model: "m", version: "1"): ["x", "y", "z"]]
        for query in Self.queries + [InferenceLogQuery(since: base + 10, until: base + 20)] {
            let whole = format.render(
                try InferenceLogReader(directory: directory).read(query).entries, labels: labels, positionalNames: positionalNames)
            #expect(!whole.isEmpty)
            for chunkBytes in [1, 700, 1 << 20] {
                #expect(
                    try streamed(query, format, chunkBytes: chunkBytes, labels: labels, positionalNames: positionalNames) == whole,
                    "\(query), \(chunkBytes)")
            }
        }
    }

    @Test func anEmptyExportIsAnEmptyBodyOrAHeader() throws {
        try write()
        let query = InferenceLogQuery(model: "nobody")
        #expect(try streamed(query, .jsonl, chunkBytes: 100).isEmpty)
        #expect(try streamed(query, .csv, chunkBytes: 100) == InferenceLogExportFormat.csv.render([]))
    }
}
