/// Text that goes into an HTML page. Every value a page shows passes through `escape`, so a
/// name or message a client chose can never become markup.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters are parse errors in HTML5; show them as replacement characters.
            case _ where scalar.value < 0x20 && !["\n", "\r", "\t"].contains(scalar), "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
