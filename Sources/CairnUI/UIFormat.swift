import Foundation

/// How pages write values, the same on every page: metrics as MLflow's UI shows them, times in
/// UTC with the relative age for a tooltip.
public enum UIFormat {
    /// MLflow stores ±infinity as ±`Double.greatestFiniteMagnitude`; both show as ±∞.
    public static func metric(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite || abs(value) == Double.greatestFiniteMagnitude { return value < 0 ? "-∞" : "∞" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-4, magnitude < 1e15 {
            // Up to 6 significant digits without trailing zeros, as the MLflow UI rounds.
            var text = String(format: "%.6g", value)
            if text.contains("e") { text = String(format: "%.6f", value) }
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text
        }
        return String(format: "%.4e", value)
    }

    /// `2026-12-07 13:05:09` (UTC) for milliseconds since the epoch.
    public static func time(milliseconds: Int64) -> String {
        let seconds = Int64((Double(milliseconds) / 1000).rounded(.down))
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        // Civil-from-days (Howard Hinnant), exact for any Int64 day count we can get here.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))"
    }

    /// `3 minutes ago`, `in 2 days`: the age of `milliseconds` at `now`.
    public static func relative(milliseconds: Int64, now: Int64) -> String {
        let delta = (now - milliseconds) / 1000
        let magnitude = abs(delta)
        let (count, unit): (Int64, String) =
            switch magnitude {
            case ..<45: (0, "")
            case ..<3600: (max(1, (magnitude + 30) / 60), "minute")
            case ..<86_400: ((magnitude + 1800) / 3600, "hour")
            case ..<(86_400 * 30): ((magnitude + 43_200) / 86_400, "day")
            case ..<(86_400 * 365): ((magnitude + 86_400 * 15) / (86_400 * 30), "month")
            default: ((magnitude + 86_400 * 182) / (86_400 * 365), "year")
            }
        if count == 0 { return "just now" }
        let phrase = "\(count) \(unit)\(count == 1 ? "" : "s")"
        return delta >= 0 ? "\(phrase) ago" : "in \(phrase)"
    }

    /// A duration in milliseconds as `850ms`, `12.3s`, `4m 05s`, `2h 03m`.
    public static func duration(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 60 { return "\(seconds).\(milliseconds % 1000 / 100)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(two(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h \(two(seconds % 3600 / 60))m" }
        return "\(seconds / 86_400)d \(two(seconds % 86_400 / 3600))h"
    }

    /// A value for a URL query (`q=a b&c` → `a%20b%26c`): everything but unreserved characters escaped.
    public static func queryValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                out += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])"
            }
        }
        return out
    }

    /// A path segment for a URL (a model name in `/models/{name}`): as `queryValue`.
    public static func pathSegment(_ text: String) -> String { queryValue(text) }

    /// `?a=1&b=x%20y` from pairs, leaving out empty values; `""` when nothing is left.
    public static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return "\(name)=\(queryValue(value))"
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}
