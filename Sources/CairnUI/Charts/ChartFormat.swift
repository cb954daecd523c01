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

    /// A value exactly, for titles and tooltips.
    public static func exact(_ value: Double) -> String {
        switch SeriesBucket.classify(value) {
        case .nan: return "NaN"
        case .positiveInfinity: return "∞"
        case .negativeInfinity: return "-∞"
        case .finite: return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }
    }

    /// A step count: integral, with thousands as k and millions as M.
    public static func step(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e6, value.truncatingRemainder(dividingBy: 1e5) == 0 { return trim(value / 1e6) + "M" }
        if magnitude >= 1e4, value.truncatingRemainder(dividingBy: 100) == 0 { return trim(value / 1e3) + "k" }
        return value == value.rounded() ? String(Int64(value)) : number(value)
    }

    private static func trim(_ value: Double) -> String {
        var text = String(format: "%.1f", value)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// Wall-clock milliseconds since the epoch as UTC: the date when the axis spans days,
    /// the time of day otherwise.
    public static func wallTime(_ milliseconds: Double, span: Double) -> String {
        let seconds = Int64((milliseconds / 1000).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (hour, minute, second) = (secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        if span >= 2 * 86_400_000 { return "\(pad(year, 4))-\(pad(month))-\(pad(day))" }
        if span >= 86_400_000 { return "\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute))" }
        if span >= 120_000 { return "\(pad(hour)):\(pad(minute))" }
        if span >= 5_000 { return "\(pad(hour)):\(pad(minute)):\(pad(second))" }
        return "\(pad(hour)):\(pad(minute)):\(pad(second)).\(pad(Int64(milliseconds) - seconds * 1000, 3))"
    }

    private static func pad(_ value: Int64, _ width: Int = 2) -> String {
        let text = String(value)
        return text.count < width ? String(repeating: "0", count: width - text.count) + text : text
    }

    /// Elapsed milliseconds as 1d 2h, 3h 4m, 5m 6s, 7.5s or 120ms.
    public static func duration(_ milliseconds: Double) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let ms = abs(milliseconds)
        if ms < 1000 { return sign + trim(ms) + "ms" }
        let seconds = ms / 1000
        if seconds < 60 { return sign + trim(seconds) + "s" }
        let whole = Int64(seconds.rounded())
        let (days, hours, minutes, secs) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60, whole % 60)
        if days > 0 { return sign + "\(days)d" + (hours > 0 ? " \(hours)h" : "") }
        if hours > 0 { return sign + "\(hours)h" + (minutes > 0 ? " \(minutes)m" : "") }
        return sign + "\(minutes)m" + (secs > 0 ? " \(secs)s" : "")
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm), so
    /// labels need no Calendar or time zone database.
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
