import CairnCore
import CairnONNX
import CairnTabular
import Foundation

/// Scores a CSV file into a CSV of predictions with the serving runtimes, a chunk of rows at
/// a time, so files larger than memory stream through.
public struct BatchPredictor: Sendable {
    public var runtime: any ModelRuntime
    public var signature: ModelSignature?
    public var chunkRows: Int

    public init(runtime: any ModelRuntime, signature: ModelSignature?, chunkRows: Int = 8192) {
        self.runtime = runtime
        self.signature = signature
        self.chunkRows = max(1, chunkRows)
    }

    /// Returns the number of rows scored. The output is written to a temporary file next to
    /// `outputPath` and renamed into place at the end, so a failed run leaves no partial file;
    /// `-` streams to standard output instead.
    @discardableResult
    public func predict(inputPath: String, outputPath: String) async throws -> Int {
        guard let input = FileHandle(forReadingAtPath: inputPath) else {
            throw CairnError(.resourceDoesNotExist, "Cannot open \(inputPath).")
        }
        defer { try? input.close() }
        let toStandardOutput = outputPath == Self.standardOutput
        let temporary = outputPath + ".cairn-tmp-\(UUID().uuidString)"
        let output: FileHandle
        if toStandardOutput {
            output = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary)
            else {
                throw CairnError(.invalidParameterValue, "Cannot write \(outputPath).")
            }
            output = handle
        }
        var scored = 0
        do {
            var parser = CSVParser()
            var header: [String]? = nil
            var pending: [[String]] = []
            var writer = PredictionCSVWriter()
            func flush(_ records: [[String]]) async throws {
                guard let header, !records.isEmpty else { return }
                // Columns are matched to a signature that names them by header name, in any
                // order; without names, the file's column order is the feature order.
                let frame = try CSVParser.frame(
                    header: header, records: records, firstRow: scored, textColumns: signature?.textColumns ?? [])
                let text = try writer.rows(for: try await score(frame, firstRow: scored), expected: records.count)
                try output.write(contentsOf: Data(text.utf8))
                scored += records.count
            }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                for record in try parser.feed(chunk) {
                    if header == nil {
                        header = record
                        continue
                    }
                    pending.append(record)
                    if pending.count == chunkRows {
                        try await flush(pending)
                        pending.removeAll(keepingCapacity: true)
                    }
                }
            }
            if let last = try parser.finish() {
                if header == nil { header = last } else { pending.append(last) }
            }
            guard header != nil else { throw CairnError(.badRequest, "\(inputPath) has no header row.") }
            try await flush(pending)
            if scored == 0 { try output.write(contentsOf: Data("prediction\n".utf8)) }
            if toStandardOutput { return scored }
            try output.synchronize()
            try output.close()
            if FileManager.default.fileExists(atPath: outputPath) { try FileManager.default.removeItem(atPath: outputPath) }
            try FileManager.default.moveItem(atPath: temporary, toPath: outputPath)
        } catch {
            if !toStandardOutput {
                try? output.close()
                try? FileManager.default.removeItem(atPath: temporary)
            }
            throw error
        }
        return scored
    }

    /// Scores rows already in memory, a chunk at a time, and returns each row's prediction
    /// cells named as `cairn predict` names its output columns (`prediction`, or a native
    /// model's outputs such as `output_label` and `output_probability_<class>`).
    public func predictions(for frame: DataFrame) async throws -> [[(name: String, value: JSONValue)]] {
        var rows: [[(name: String, value: JSONValue)]] = []
        rows.reserveCapacity(frame.rowCount)
        var start = 0
        while start < frame.rowCount {
            let end = min(start + chunkRows, frame.rowCount)
            let cells = try PredictionCSVWriter.values(try await score(frame.rows(start..<end), firstRow: start))
            guard cells.count == end - start else {
                throw CairnError(.internalError, "The model returned \(cells.count) predictions for \(end - start) rows.")
            }
            rows += cells
            start = end
        }
        return rows
    }

    /// One chunk through the runtime, conformed to the signature first.
    func score(_ frame: DataFrame, firstRow: Int) async throws -> ModelOutput {
        let conformed = try runtime.prepare(frame, positional: false, signature: signature, firstRow: firstRow)
        guard let result = await runtime.predict([.frame(conformed)], params: [:]).first else {
            throw CairnError(.internalError, "The model returned no result.")
        }
        return try result.get()
    }

    /// The output path that means standard output.
    public static let standardOutput = "-"
}

/// Writes predictions as CSV rows, with a header chosen from the first chunk: `prediction`
/// for one value per row, `prediction_0…` for a vector, the keys for records, and within a
/// record `key_0…` for a vector (a probability per class) and `key_class` for a map (a
/// ZipMap's class → probability).
struct PredictionCSVWriter {
    private var columns: [String]? = nil

    mutating func rows(for output: ModelOutput, expected: Int) throws -> String {
        let rows = try Self.cells(output)
        guard rows.count == expected else {
            throw CairnError(.internalError, "The model returned \(rows.count) predictions for \(expected) rows.")
        }
        var text = ""
        if columns == nil {
            let names = rows.first?.map(\.0) ?? ["prediction"]
            columns = names
            text += names.map(Self.quote).joined(separator: ",") + "\n"
        }
        for row in rows {
            text += row.map { Self.quote($0.1) }.joined(separator: ",") + "\n"
        }
        return text
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Each row's cells as (column, text).
    static func cells(_ output: ModelOutput) throws -> [[(String, String)]] {
        try values(output).map { row in row.map { ($0.name, text($0.value)) } }
    }

    static func values(_ output: ModelOutput) throws -> [[(name: String, value: JSONValue)]] {
        let document = try JSONValue.parse(PredictionWriter.mlflowBody(output))
        guard case .array(let predictions)? = document["predictions"] else {
            throw CairnError(.internalError, "The model's predictions are not a list.")
        }
        return predictions.map(PredictionColumns.cells)
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): flag ? "True" : "False"
        case .number(_, let raw): raw
        case .string(let text): text
        case .array, .object:
            {
                var writer = JSONWriter()
                writer.value(value)
                return String(decoding: writer.bytes, as: UTF8.self)
            }()
        }
    }
}
