import CairnCore
import Foundation

/// The runs table as CSV (RFC 4180): one line per run with its attributes and the loaded
/// columns, metrics as exact numbers so a spreadsheet reads what was logged.
public enum RunsTableCSV {
    public static let attributeHeaders = [
        "run_id", "experiment_id", "run_name", "parent_run_id", "status", "user_id", "start_time", "end_time", "lifecycle_stage",
    ]

    public static func header(_ columns: [RunColumn], aggregate: MetricAggregate) -> String {
        line(
            attributeHeaders
                + columns.map { column in
                    column.kind == .metric && aggregate != .last ? "\(column.description) (\(aggregate.rawValue))" : column.description
                })
    }

    public static func row(_ row: RunTableRow, columns: [RunColumn]) -> String {
        var fields = [
            row.info.runID, row.info.experimentID, row.info.runName, row.parentRunID ?? "", row.info.status.rawValue, row.info.userID,
            UIFormat.time(milliseconds: row.info.startTime), row.info.endTime.map { UIFormat.time(milliseconds: $0) } ?? "",
            row.info.lifecycleStage.rawValue,
        ]
        for column in columns {
            switch row.value(column) {
            case nil: fields.append("")
            case .text(let text): fields.append(text)
            case .number(let number):
                if number.isNaN {
                    fields.append("NaN")
                } else if number >= .greatestFiniteMagnitude {
                    fields.append("inf")
                } else if number <= -.greatestFiniteMagnitude {
                    fields.append("-inf")
                } else {
                    fields.append("\(number)")
                }
            }
        }
        return line(fields)
    }

    /// Fields joined by commas, CRLF-terminated. A field holding a comma, quote or line break
    /// is quoted with its quotes doubled; text a spreadsheet would run as a formula (`=`,
    /// `+`, `-`, `@`, tab, CR first) and that is not a number gets a leading `'` (OWASP's
    /// CSV-injection advice), so a run name cannot become a formula.
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first), Double(text) == nil {
            text = "'" + text
        }
        // Scalars, not Characters: "\r\n" is one Character equal to neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
