import Testing

@testable import CohortTemplate

/// Python's datetime and timedelta arithmetic without a host: rows are what CPython 3.11's
/// `repr`, `str`, `weekday()` and `timetuple().tm_yday` give for the same values.
struct TemporalTests {
    @Test(arguments: [
        (0, "datetime.timedelta(0)", "0:00:00"),
        (-1, "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)", "-1 day, 23:59:59.999999"),
        (-86_395_000_000, "datetime.timedelta(days=-1, seconds=5)", "-1 day, 0:00:05"),
        (172_800_000_007, "datetime.timedelta(days=2, microseconds=7)", "2 days, 0:00:00.000007"),
        (-172_800_000_001, "datetime.timedelta(days=-3, seconds=86399, microseconds=999999)", "-3 days, 23:59:59.999999"),
    ])
    func spansReadAsPythonWritesThem(micros: Int, repr: String, text: String) {
        #expect(Temporal.timedelta(micros).repr == repr)
        #expect(Temporal.timedelta(micros).text == text)
    }

    @Test(arguments: [
        (-62_135_596_800_000_000, "datetime.datetime(1, 1, 1, 0, 0)", "0001-01-01 00:00:00", 0, 1),
        (253_402_300_799_999_999, "datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)", "9999-12-31 23:59:59.999999", 4, 365),
        (-2_203_973_877_000_000, "datetime.datetime(1900, 2, 28, 1, 2, 3)", "1900-02-28 01:02:03", 2, 59),
        (951_782_400_000_010, "datetime.datetime(2000, 2, 29, 0, 0, 0, 10)", "2000-02-29 00:00:00.000010", 1, 60),
    ])
    func datetimesReadAsPythonWritesThem(micros: Int, repr: String, text: String, weekday: Int, yearDay: Int) {
        let value = Temporal.datetime(micros)
        #expect(value.repr == repr)
        #expect(value.text == text)
        #expect(Temporal.fields(micros).weekday == weekday)
        #expect(Temporal.fields(micros).yearDay == yearDay)
    }

    @Test func theLimitsArePythonsMinAndMax() {
        #expect(Temporal.earliest == -62_135_596_800_000_000)
        #expect(Temporal.latest == 253_402_300_799_999_999)
        #expect(Temporal.make(year: 0, month: 12, day: 31) == nil)
        #expect(Temporal.make(year: 10000, month: 1, day: 1) == nil)
        #expect(Temporal.make(year: 1900, month: 2, day: 29) == nil)
        #expect(Temporal.make(year: 2000, month: 2, day: 29) != nil)
    }

    /// Every day of years 1…9999 goes to its fields and back, one after another.
    @Test func everyDayOfTheCalendarRoundTrips() {
        var expected = CivilCalendar.days(year: 1, month: 1, day: 1)
        for year in 1...9999 {
            for month in 1...12 {
                for day in 1...CivilCalendar.length(year, month) {
                    let days = CivilCalendar.days(year: year, month: month, day: day)
                    guard days == expected, CivilCalendar.civil(days) == (year, month, day) else {
                        Issue.record("\(year)-\(month)-\(day): \(days), expected \(expected), back \(CivilCalendar.civil(days))")
                        return
                    }
                    expected += 1
                }
            }
        }
        #expect(expected == CivilCalendar.days(year: 10000, month: 1, day: 1))
    }

    @Test func arithmeticPastTheCalendarIsAnErrorNotATrap() {
        let latest = Value.temporal(.datetime(Temporal.latest)), oneDay = Value.temporal(.timedelta(Temporal.day))
        #expect(throws: TemplateError.self) { try Temporal.binary("+", latest, oneDay, line: 1) }
        let huge = Value.temporal(.timedelta(Int.max / 2))
        #expect(throws: TemplateError.self) { try Temporal.binary("*", huge, .int(3), line: 1) }
        #expect(throws: TemplateError.self) { try Operators.unary("-", .temporal(.timedelta(.min)), line: 1) }
    }

    /// Whitespace runs before a letter that is missing at the end: each run is tried at every
    /// shorter length on the way back, and the matcher stops at its step budget.
    @Test func backtrackingStopsAtTheStepBudget() {
        let format = String(repeating: " a", count: 100)
        let text = String(repeating: String(repeating: " ", count: 50) + "a", count: 99) + String(repeating: " ", count: 50)
        #expect(throws: TemplateError("to_datetime: the format needs more than 1000 matching steps", line: 1)) {
            try Strptime.parse(text, format, line: 1, budget: 1000)
        }
        #expect(throws: TemplateError("time data \(Value.quoted(text)) does not match format \(Value.quoted(format))", line: 1)) {
            try Strptime.parse(text, format, line: 1)
        }
    }

    @Test func aDirectiveTwiceOrUnknownIsRefusedByName() {
        #expect(throws: TemplateError("redefinition of group name 'f' in format ' %f %f'", line: 1)) { try Strptime.parse("1 2", " %f %f", line: 1) }
        #expect(throws: TemplateError("to_datetime: the directive %z is not supported by cohort yet", line: 1)) { try Strptime.parse("+0100", "%z", line: 1) }
    }
}
