import CairnCore

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) read in UTC,
/// with cron's syntax: `*`, lists (`1,15`), ranges (`1-5`), steps (`*/15`, `0-30/10`, `5/15`),
/// month and weekday names (`JAN`–`DEC`, `SUN`–`SAT`, any case; weekday 7 is Sunday too), and
/// the `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`)
/// shorthands. As in Vixie cron, when both day fields are restricted a day matches if either does.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday.
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { expression }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    static let shorthands = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Throws INVALID_PARAMETER_VALUE naming the field and what is wrong with it.
    public init(_ expression: String) throws(CairnError) {
        self.expression = expression
        let trimmed = expression.trimmingWhitespace()
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CairnError.invalidParameter(
                "Invalid schedule '\(expression)': a cron expression has 5 fields (minute hour day-of-month month day-of-week), not \(fields.count)."
            )
        }
        func parse(_ index: Int, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0) throws(CairnError)
            -> Set<Int>
        {
            try Self.field(fields[index], name: name, range: range, names: names, nameBase: nameBase, expression: expression)
        }
        minutes = try parse(0, "minute", 0...59)
        hours = try parse(1, "hour", 0...23)
        daysOfMonth = try parse(2, "day-of-month", 1...31)
        months = try parse(3, "month", 1...12, names: Self.monthNames, nameBase: 1)
        // 7 is Sunday as well as 0.
        daysOfWeek = Set(try parse(4, "day-of-week", 0...7, names: Self.dayNames).map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    static func field(
        _ text: String, name: String, range: ClosedRange<Int>, names: [String], nameBase: Int, expression: String
    ) throws(CairnError) -> Set<Int> {
        func fail(_ reason: String) -> CairnError {
            .invalidParameter("Invalid schedule '\(expression)': the \(name) field '\(text)' \(reason).")
        }
        func value(_ token: Substring) throws(CairnError) -> Int {
            if let number = Int(token), String(number) == token || token.allSatisfy(\.isNumber) {
                guard range.contains(number) else { throw fail("has \(number), outside \(range.lowerBound)-\(range.upperBound)") }
                return number
            }
            if let index = names.firstIndex(of: token.uppercased()) { return index + nameBase }
            throw fail("has '\(token)', which is not a number\(names.isEmpty ? "" : " or a name (\(names.joined(separator: ", ")))")")
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw fail("has an empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw fail("has more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, pieces[1].allSatisfy(\.isNumber) else {
                    throw fail("has step '\(pieces[1])', which is not a positive number")
                }
                step = parsed
            }
            let base = pieces[0]
            var low: Int
            var high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash])
                high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw fail("has the range \(low)-\(high), which runs backwards") }
            } else {
                low = try value(base)
                // `5/15` means from 5 to the end in steps of 15.
                high = pieces.count == 2 ? range.upperBound : low
            }
            var current = low
            while current <= high {
                result.insert(current)
                current += step
            }
        }
        return result
    }

    public func matches(epochMinute: Int64) -> Bool {
        let time = CivilTime(epochMinute: epochMinute)
        return minutes.contains(time.minute) && hours.contains(time.hour) && months.contains(time.month) && dayMatches(time)
    }

    func dayMatches(_ time: CivilTime) -> Bool {
        let dom = daysOfMonth.contains(time.day)
        let dow = daysOfWeek.contains(time.weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    /// The first minute strictly after `epochMilliseconds` (milliseconds since the epoch) that
    /// the schedule fires at, as milliseconds; nil when it never fires (`0 0 30 2 *`).
    public func next(after epochMilliseconds: Int64) -> Int64? {
        var minute = Self.floorDiv(epochMilliseconds, 60_000) + 1
        // Every valid schedule fires within 8 years (29 February on a given weekday).
        let limit = minute + 8 * 366 * 1440
        while minute < limit {
            let time = CivilTime(epochMinute: minute)
            if !months.contains(time.month) {
                minute = CivilTime.epochMinute(year: time.month == 12 ? time.year + 1 : time.year, month: time.month % 12 + 1, day: 1)
                continue
            }
            if !dayMatches(time) {
                minute = CivilTime.epochMinute(year: time.year, month: time.month, day: time.day) + 1440
                continue
            }
            if !hours.contains(time.hour) {
                minute = minute - Int64(time.minute) + 60
                continue
            }
            if !minutes.contains(time.minute) {
                minute += 1
                continue
            }
            return minute * 60_000
        }
        return nil
    }

    /// Every firing time in `[from, to]` (milliseconds), in order.
    public func times(from: Int64, through to: Int64) -> [Int64] {
        var result: [Int64] = []
        var cursor = from - 1
        while let next = next(after: cursor), next <= to {
            result.append(next)
            cursor = next
        }
        return result
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r < 0 ? q - 1 : q
    }
}

/// A UTC minute broken into calendar fields (the proleptic Gregorian calendar, by Howard
/// Hinnant's days-from-civil algorithms), without Foundation's calendar on each step.
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    /// 0 = Sunday.
    var weekday: Int

    init(epochMinute: Int64) {
        let days = CronSchedule.floorDiv(epochMinute, 1440)
        let inDay = Int(epochMinute - days * 1440)
        hour = inDay / 60
        minute = inDay % 60
        // 1970-01-01 was a Thursday (4).
        weekday = Int(((days % 7) + 11) % 7)
        let z = days + 719_468
        let era = CronSchedule.floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
    }

    static func epochMinute(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = CronSchedule.floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 1440
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
