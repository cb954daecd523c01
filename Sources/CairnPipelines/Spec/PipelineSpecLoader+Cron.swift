extension PipelineSpecLoader {
    /// The five cron fields (minute, hour, day of month, month, day of week; UTC), each `*`,
    /// a value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those; months and
    /// weekdays may be named (`jan`, `mon`). Only the syntax: the scheduler computes times.
    static func checkCron(_ expression: String, at node: SpecNode) throws(PipelineSpecError) {
        let fields = expression.split(whereSeparator: \.isWhitespace)
        let names = ["minute", "hour", "day of month", "month", "day of week"]
        guard fields.count == 5 else {
            throw PipelineSpecError(
                "'schedule' must be a cron expression of five fields (minute hour day-of-month month day-of-week), not '\(expression)'",
                at: node.location)
        }
        let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        for (index, field) in fields.enumerated() {
            let range = ranges[index]
            func value(_ text: Substring) -> Int? {
                if let number = Int(text), range.contains(number) { return number }
                let lower = text.lowercased()
                if index == 3, let month = months.firstIndex(of: lower) { return month + 1 }
                if index == 4, let day = days.firstIndex(of: lower) { return day }
                return nil
            }
            func refuse(_ why: String) -> PipelineSpecError {
                PipelineSpecError("bad cron \(names[index]) field '\(field)' in '\(expression)': \(why)", at: node.location)
            }
            for part in field.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
                guard pieces.count <= 2 else { throw refuse("more than one '/'") }
                if pieces.count == 2 {
                    guard let step = Int(pieces[1]), step > 0 else { throw refuse("the step after '/' must be a positive number") }
                    _ = step
                }
                let base = pieces[0]
                if base == "*" { continue }
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty }) else { throw refuse("'\(base)' is not a value or a range") }
                guard let low = value(bounds[0]) else {
                    throw refuse("'\(bounds[0])' is not in \(range.lowerBound)-\(range.upperBound)")
                }
                if bounds.count == 2 {
                    guard let high = value(bounds[1]) else {
                        throw refuse("'\(bounds[1])' is not in \(range.lowerBound)-\(range.upperBound)")
                    }
                    guard low <= high else { throw refuse("the range '\(base)' runs backwards") }
                }
            }
        }
    }
}
