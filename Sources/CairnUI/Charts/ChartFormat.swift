import Foundation

/// How chart labels write numbers and times: short, and the values MLflow stores for infinity
/// (±1.797e308) written as ±∞, NaN as NaN, as the rest of the UI shows them.
public enum ChartFormat {
    /// A metric value with up to four significant digits; exponent form when very large or small.
    public static func number(_ value: Double) -> String {
        switch SeriesBucket.classify(value) {
        case .nan: return "NaN"
        case .positiveInfinity: return "∞"
        case .negativeInfinity: return "-∞"
        case .finite: break
        }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-3 {
            return String(format: "%.3g", value).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e+", with: "e")
                .replacingOccurrences(of: "e-0", with: "e-")
        }
        var text = String(format: "%.4g", value)
        if text.contains("e") { text = String(format: "%.4f", value) }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// A step count: integral, with thousands as k and millions as M.
    public static func step(_ value: Double) -> String {
        let magnitude = abs(value)
        // Past a billion (and past what Int64 holds) the exponent form reads better.
        if !(magnitude < 1e9) { return number(value) }
        if magnitude >= 1e6, value.truncatingRemainder(dividingBy: 1e5) == 0 { return trim(value / 1e6) + "M" }
        if magnitude >= 1e4, value.truncatingRemainder(dividingBy: 100) == 0 { return trim(value / 1e3) + "k" }
        return value == value.rounded() ? String(Int64(value)) : number(value)
    }

    private static func trim(_ value: Double) -> String {
        var text = String(format: "%.1f", value)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// Wall-clock milliseconds since the epoch in UTC (`UIFormat.time`), cut to what the
    /// axis span needs: the date when it spans days, the time of day otherwise.
    public static func wallTime(_ milliseconds: Double, span: Double) -> String {
        let whole = Int64(max(min(milliseconds, 9e15), -9e15).rounded(.down))
        let full = Array(UIFormat.time(milliseconds: whole)) // yyyy-MM-dd HH:mm:ss
        guard full.count >= 19 else { return String(full) }
        func part(_ range: Range<Int>) -> String {
            String(full[(full.count - 19 + range.lowerBound)..<(full.count - 19 + range.upperBound)])
        }
        if span >= 2 * 86_400_000 { return String(full[..<(full.count - 9)]) }
        if span >= 86_400_000 { return part(5..<16) }
        if span >= 120_000 { return part(11..<16) }
        if span >= 5_000 { return part(11..<19) }
        let millis = ((whole % 1000) + 1000) % 1000
        return part(11..<19) + "." + String(millis + 1000).dropFirst()
    }
}
