import CairnCore
import Testing

@testable import CairnPipelines

/// Expected instants were computed with Python's `datetime` (UTC), not with the code under test.
@Suite struct CronScheduleTests {
    static let newYear2026: Int64 = 1_767_225_600_000 // 2026-01-01T00:00Z, a Thursday

    @Test(arguments: [
        ("*/15 * * * *", 1_767_226_050_000, 1_767_226_500_000), // 00:07:30 → 00:15
        ("0 9 * * MON-FRI", 1_767_344_400_000, 1_767_603_600_000), // Fri 09:00 → Mon 09:00
        ("0 0 29 2 *", 1_772_323_200_000, 1_835_395_200_000), // 2026-03-01 → 2028-02-29
        ("30 4 1,15 * 5", 1_767_243_600_000, 1_767_328_200_000), // both day fields: either (Fri 2 Jan)
        ("0 12 * JAN,jul *", 1_769_860_800_000, 1_782_907_200_000), // 31 Jan 12:00 → 1 Jul 12:00
        ("0 0 * * 7", 1_767_225_600_000, 1_767_484_800_000), // 7 is Sunday: 4 Jan
        ("0 0 * * sun", 1_767_225_600_000, 1_767_484_800_000),
        ("@yearly", 1_780_272_000_000, 1_798_761_600_000), // 2026-06-01 → 2027-01-01
        ("5/20 * * * *", 1_767_226_050_000, 1_767_227_100_000), // 00:07:30 → 00:25
        ("@hourly", 1_767_226_050_000, 1_767_229_200_000),
        ("* * * * *", -60_000, 0), // before the epoch
        ("30 4 15 * *", 1_767_328_200_000, 1_768_451_400_000), // strictly after: 2 Jan 04:30 → 15 Jan
    ])
    func nextFiringTime(_ expression: String, _ after: Int64, _ expected: Int64) throws {
        #expect(try CronSchedule(expression).next(after: after) == expected)
    }

    @Test func aScheduleThatNeverFiresHasNoNextTime() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.newYear2026) == nil)
    }

    @Test func matchingAndTicksInARange() throws {
        let schedule = try CronSchedule("0 * * * *")
        #expect(schedule.matches(epochMinute: Self.newYear2026 / 60_000))
        #expect(!schedule.matches(epochMinute: Self.newYear2026 / 60_000 + 1))
        let day = schedule.times(from: Self.newYear2026, through: Self.newYear2026 + 86_400_000 - 1)
        #expect(day.count == 24)
        #expect(day.first == Self.newYear2026)
        #expect(day.last == Self.newYear2026 + 23 * 3_600_000)
    }

    @Test(arguments: [
        ("* * * *", "5 fields"),
        ("60 * * * *", "minute field '60'"),
        ("*/0 * * * *", "step '0'"),
        ("5-1 * * * *", "runs backwards"),
        ("* * * FOO *", "month field 'FOO'"),
        ("* * 0 * *", "day-of-month field '0'"),
        ("* * * * 8", "day-of-week field '8'"),
        ("1,,2 * * * *", "empty list item"),
    ])
    func malformedExpressionsAreRefusedWithTheField(_ expression: String, _ reason: String) {
        do {
            _ = try CronSchedule(expression)
            Issue.record("'\(expression)' was accepted")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(error.message.contains(expression))
        }
    }
}
