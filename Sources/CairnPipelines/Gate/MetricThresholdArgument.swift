import CairnCore
import Foundation

/// `cairn model evaluate --metric`'s text, read into one threshold the server's `evaluate` API
/// takes: `NAME>=X` (greater is better), `NAME<=X` (lower is better) or a bare `NAME`, then
/// comma-separated `min_absolute_change=X`, `min_relative_change=X`, `greater_is_better=B`,
/// `threshold=X`. Refused here, with the reason, is what MLflow's `MetricThreshold` cannot
/// mean: a strict `>`/`<` (its thresholds are inclusive), a number that is not finite, a
/// direction given twice two ways, a limit given twice, no direction at all, no limit at all.
/// Numbers keep their text so the server compares the decimal the user wrote.
public enum MetricThresholdArgument {
    static let numberKeys: Set<String> = ["threshold", "min_absolute_change", "min_relative_change"]

    public static func parse(_ text: String) throws(CairnError) -> (name: String, limit: JSONValue) {
        func fail(_ reason: String) -> CairnError { .invalidParameter("--metric '\(text)': \(reason)") }
        func number(_ key: String, _ value: String) throws(CairnError) -> JSONValue {
            guard let parsed = Double(value), parsed.isFinite, value.lowercased() != "nan" else {
                throw fail("\(key) '\(value)' is not a finite number.")
            }
            return .number(parsed, raw: value)
        }
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let head = parts.removeFirst()
        var limit = JSONObject()
        var name = head
        for (marker, greater) in [(">=", true), ("<=", false)] {
            guard let range = head.range(of: marker) else { continue }
            name = String(head[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
            limit["threshold"] = try number("threshold", String(head[range.upperBound...]).trimmingCharacters(in: .whitespaces))
            limit["greater_is_better"] = .bool(greater)
            break
        }
        if name.contains(">") || name.contains("<") {
            throw fail("use NAME>=X (greater is better) or NAME<=X (lower is better); MLflow's thresholds are inclusive.")
        }
        guard !name.isEmpty, !name.contains("=") else { throw fail("start with NAME>=X, NAME<=X or NAME.") }
        var seen: Set<String> = []
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw fail("'\(part)' is not KEY=VALUE.") }
            let (key, value) = (pair[0], pair[1])
            guard seen.insert(key).inserted else { throw fail("\(key) is given twice.") }
            if numberKeys.contains(key) {
                if key == "threshold", limit["threshold"] != nil { throw fail("the threshold is given twice.") }
                limit[key] = try number(key, value)
            } else if key == "greater_is_better" {
                guard let flag = ["true": true, "false": false][value.lowercased()] else {
                    throw fail("greater_is_better is true or false.")
                }
                if case .bool(let implied)? = limit["greater_is_better"], implied != flag {
                    throw fail("'\(implied ? ">=" : "<=")' says \(implied ? "greater" : "lower") is better but greater_is_better=\(value).")
                }
                limit[key] = .bool(flag)
            } else {
                throw fail("unknown limit '\(key)' (threshold, min_absolute_change, min_relative_change, greater_is_better).")
            }
        }
        guard limit["greater_is_better"] != nil else {
            throw fail("say which way is better: NAME>=X, NAME<=X, or greater_is_better=true|false (MLflow requires it).")
        }
        guard numberKeys.contains(where: { limit[$0] != nil }) else {
            throw fail("give a threshold (NAME>=X or NAME<=X), min_absolute_change or min_relative_change.")
        }
        return (name, .object(limit))
    }
}
