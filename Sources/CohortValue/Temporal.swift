#if canImport(Glibc)
import Glibc
#endif

/// Python's naive `datetime.datetime` and `datetime.timedelta`, the values `to_datetime` and
/// subtracting two of them give. Both are whole microseconds, so arithmetic is exact and
/// checked: Python's years 1…9999 span under 2^59 µs.
public enum Temporal: Hashable, Sendable {
    /// Microseconds since 1970-01-01 00:00:00, with no time zone.
    case datetime(Int)
    /// A span in microseconds.
    case timedelta(Int)

    package static let second = 1_000_000
    package static let day = 86_400 * second
    /// Python's `datetime.min` and `datetime.max`.
    package static let earliest = CivilCalendar.days(year: 1, month: 1, day: 1) * day
    package static let latest = (CivilCalendar.days(year: 9999, month: 12, day: 31) + 1) * day - 1

    /// A datetime from its fields, or nil where Python's constructor raises.
    package static func make(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, micro: Int = 0) -> Temporal? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...CivilCalendar.length(year, month)).contains(day),
            (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second), (0..<1_000_000).contains(micro)
        else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return .datetime(days * Self.day + ((hour * 60 + minute) * 60 + second) * Self.second + micro)
    }

    public var typeName: String {
        switch self {
        case .datetime: "datetime"
        case .timedelta: "timedelta"
        }
    }

    /// Python's name in operator errors ("unsupported operand type(s) for +: 'datetime.datetime'").
    package var qualifiedName: String { "datetime." + typeName }

    package var truthy: Bool {
        switch self {
        case .datetime: true
        case .timedelta(let span): span != 0
        }
    }

    /// The fields of a datetime.
    package struct Fields {
        package var year, month, day, hour, minute, second, micro: Int
        /// Monday is 0, as Python's `weekday()`.
        package var weekday: Int
        /// 1 for January 1st, as `%j`.
        package var yearDay: Int
    }

    package static func fields(_ micros: Int) -> Fields {
        let days = CivilCalendar.floorDiv(micros, day)
        let rest = micros - days * day
        let (year, month, dayOfMonth) = CivilCalendar.civil(days)
        let seconds = rest / second
        return Fields(
            year: year, month: month, day: dayOfMonth, hour: seconds / 3600, minute: seconds / 60 % 60, second: seconds % 60,
            micro: rest % second, weekday: ((days % 7 + 7) % 7 + 3) % 7, yearDay: days - CivilCalendar.days(year: year, month: 1, day: 1) + 1)
    }

    /// `str()`: `2024-03-01 10:00:00`, `.250000` when there are microseconds;
    /// `3 days, 1:29:44.750000` for a span.
    public var text: String { isoformat(separator: " ") }

    public func isoformat(separator: String) -> String {
        switch self {
        case .datetime(let micros):
            let f = Self.fields(micros)
            var out = Self.pad(f.year, 4) + "-" + Self.pad(f.month, 2) + "-" + Self.pad(f.day, 2) + separator
            out += Self.pad(f.hour, 2) + ":" + Self.pad(f.minute, 2) + ":" + Self.pad(f.second, 2)
            return f.micro == 0 ? out : out + "." + Self.pad(f.micro, 6)
        case .timedelta(let span):
            let parts = Self.span(span)
            let seconds = parts.seconds
            var out = "\(seconds / 3600):" + Self.pad(seconds / 60 % 60, 2) + ":" + Self.pad(seconds % 60, 2)
            if parts.days != 0 { out = "\(parts.days) day\(abs(parts.days) == 1 ? "" : "s"), " + out }
            return parts.micros == 0 ? out : out + "." + Self.pad(parts.micros, 6)
        }
    }

    /// `repr()`: `datetime.datetime(2024, 3, 1, 10, 0)`, `datetime.timedelta(days=3, seconds=5384)`.
    public var repr: String {
        switch self {
        case .datetime(let micros):
            let f = Self.fields(micros)
            var parts = [f.year, f.month, f.day, f.hour, f.minute]
            if f.second != 0 || f.micro != 0 { parts.append(f.second) }
            if f.micro != 0 { parts.append(f.micro) }
            return "datetime.datetime(" + parts.map(String.init).joined(separator: ", ") + ")"
        case .timedelta(let span):
            let parts = Self.span(span)
            let named = [("days", parts.days), ("seconds", parts.seconds), ("microseconds", parts.micros)].filter { $0.1 != 0 }
            return "datetime.timedelta(" + (named.isEmpty ? "0" : named.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")) + ")"
        }
    }

    /// Python's normalised timedelta: days of any sign, then 0 ≤ seconds < 86400 and 0 ≤ µs < 10^6.
    package static func span(_ micros: Int) -> (days: Int, seconds: Int, micros: Int) {
        let days = CivilCalendar.floorDiv(micros, day)
        let rest = micros - days * day
        return (days, rest / second, rest % second)
    }

    package static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// The proleptic Gregorian calendar Python's datetime uses, in days since 1970-01-01
/// (Howard Hinnant's civil-day algorithms: exact for every year, no tables); also the
/// user module's `expires` dates.
public enum CivilCalendar {
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Python's `//` on integers: rounded towards minus infinity.
    package static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    package static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    package static func length(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Value {
    /// The first timedelta anywhere inside: Ansible stores no such value (a template that
    /// ends in one fails with "Type 'timedelta' is unsupported for variable storage").
    public var storedSpan: Temporal? {
        var stack: [Value] = [self]
        while let value = stack.popLast() {
            switch value {
            case .temporal(let t): if case .timedelta = t { return t }
            case .list(let items): stack.append(contentsOf: items)
            case .dict(let dict):
                stack.append(contentsOf: dict.keys)
                stack.append(contentsOf: dict.values)
            default: break
            }
        }
        return nil
    }
}
