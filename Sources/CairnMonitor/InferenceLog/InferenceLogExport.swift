import CairnCore

/// The formats the inference log is exported in.
public enum InferenceLogExportFormat: String, Sendable, CaseIterable {
    /// The log's own lines, as written.
    case jsonl
    /// One row per request; `inputs` and `outputs` stay JSON text in their cells.
    case csv

    public var contentType: String {
        switch self {
        case .jsonl: "application/x-ndjson"
        case .csv: "text/csv; charset=utf-8"
        }
    }

    public static let csvHeader = "request_id,timestamp_ms,model,version,status,latency_us,inputs,outputs\n"

    /// The export of `entries`, header included for CSV.
    public func render(_ entries: [InferenceLogEntry]) -> [UInt8] {
        var out: [UInt8] = []
        if self == .csv { out.append(contentsOf: Self.csvHeader.utf8) }
        for entry in entries { append(entry, to: &out) }
        return out
    }

    public func append(_ entry: InferenceLogEntry, to out: inout [UInt8]) {
        switch self {
        case .jsonl:
            out.append(contentsOf: entry.line)
        case .csv:
            Self.field(Array(entry.requestID.utf8), to: &out)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: "\(entry.timestamp),".utf8)
            Self.field(Array(entry.model.utf8), to: &out)
            out.append(UInt8(ascii: ","))
            Self.field(Array(entry.version.utf8), to: &out)
            out.append(contentsOf: ",\(entry.status),\(entry.latencyMicroseconds),".utf8)
            Self.field(entry.inputs, to: &out)
            out.append(UInt8(ascii: ","))
            Self.field(entry.outputs, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    static func field(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
