#if canImport(Glibc)
import Glibc
#endif

/// What templates do with a datetime or a span: attributes, methods, arithmetic, ordering;
/// the value itself is `CohortValue`'s, so the worker has it without the engine.
extension Temporal {
    /// `a.year`, `span.days`: the attributes Python has; anything else is undefined, as Jinja's.
    func attribute(_ name: String) -> Value? {
        switch self {
        case .datetime(let micros):
            let f = Self.fields(micros)
            switch name {
            case "year": return .int(f.year)
            case "month": return .int(f.month)
            case "day": return .int(f.day)
            case "hour": return .int(f.hour)
            case "minute": return .int(f.minute)
            case "second": return .int(f.second)
            case "microsecond": return .int(f.micro)
            default: return nil
            }
        case .timedelta(let span):
            let parts = Self.span(span)
            switch name {
            case "days": return .int(parts.days)
            case "seconds": return .int(parts.seconds)
            case "microseconds": return .int(parts.micros)
            default: return nil
            }
        }
    }

    /// The methods templates call: `strftime`, `isoformat`, `weekday`, `isoweekday`,
    /// `timestamp`; `total_seconds` of a span.
    func method(_ name: String, _ args: [Value], _ kwargs: [String: Value], line: Int) throws(TemplateError) -> Value? {
        switch (self, name) {
        case (.datetime(let micros), "strftime"):
            guard case .string(let format)? = args.first ?? kwargs["format"] else { throw TemplateError("strftime() argument 1 must be str", line: line) }
            return .string(try Self.strftime(micros, format, line: line))
        case (.datetime, "isoformat"):
            let separator = (args.first ?? kwargs["sep"])?.string ?? "T"
            guard separator.count == 1 else { throw TemplateError("isoformat() argument 1 must be a unicode character", line: line) }
            return .string(isoformat(separator: separator))
        case (.datetime(let micros), "weekday"): return .int(Self.fields(micros).weekday)
        case (.datetime(let micros), "isoweekday"): return .int(Self.fields(micros).weekday + 1)
        case (.datetime(let micros), "timestamp"):
            // A naive datetime is local time, as Python reads it.
            var parts = Self.cTime(micros)
            let seconds = mktime(&parts)
            return .float(Double(seconds) + Double(Self.fields(micros).micro) / 1e6)
        case (.timedelta(let span), "total_seconds"): return .float(Double(span) / 1e6)
        default: return nil
        }
    }

    /// The C library's broken-down time for a datetime, as Python's `timetuple()` gives it.
    static func cTime(_ micros: Int) -> tm {
        let f = fields(micros)
        var parts = tm()
        parts.tm_year = Int32(f.year - 1900)
        parts.tm_mon = Int32(f.month - 1)
        parts.tm_mday = Int32(f.day)
        parts.tm_hour = Int32(f.hour)
        parts.tm_min = Int32(f.minute)
        parts.tm_sec = Int32(f.second)
        parts.tm_wday = Int32((f.weekday + 1) % 7)
        parts.tm_yday = Int32(f.yearDay - 1)
        parts.tm_isdst = -1
        return parts
    }

    /// `datetime.strftime`: Python fills in `%f` and, for a naive datetime, empties `%z`
    /// and `%Z`; the C library does the rest, as it does for Python.
    static func strftime(_ micros: Int, _ format: String, line: Int) throws(TemplateError) -> String {
        guard format.utf8.count <= 4096 else { throw TemplateError("strftime: a format of more than 4096 bytes", line: line) }
        var expanded = ""
        var chars = format.makeIterator()
        while let c = chars.next() {
            guard c == "%" else {
                expanded.append(c)
                continue
            }
            guard let directive = chars.next() else {
                expanded.append("%")
                break
            }
            switch directive {
            case "f": expanded += pad(fields(micros).micro, 6)
            case "z", "Z": break
            default: expanded += "%" + String(directive)
            }
        }
        var parts = cTime(micros)
        var buffer = [CChar](repeating: 0, count: 65_536)
        let count = Glibc.strftime(&buffer, buffer.count, expanded, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `-`, `+` and `*` between datetimes, spans and whole numbers, as Python's; nil where
    /// Python has no such operation.
    static func binary(_ op: String, _ left: Value, _ right: Value, line: Int) throws(TemplateError) -> Value? {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws(TemplateError) -> Int {
            if result.overflow { throw TemplateError("date value out of range", line: line) }
            return result.partialValue
        }
        func date(_ micros: Int) throws(TemplateError) -> Value {
            guard (earliest...latest).contains(micros) else { throw TemplateError("date value out of range", line: line) }
            return .temporal(.datetime(micros))
        }
        switch (op, left, right) {
        case ("-", .temporal(.datetime(let a)), .temporal(.datetime(let b))):
            return .temporal(.timedelta(try checked(a.subtractingReportingOverflow(b))))
        case ("-", .temporal(.datetime(let a)), .temporal(.timedelta(let b))):
            return try date(try checked(a.subtractingReportingOverflow(b)))
        case ("+", .temporal(.datetime(let a)), .temporal(.timedelta(let b))), ("+", .temporal(.timedelta(let b)), .temporal(.datetime(let a))):
            return try date(try checked(a.addingReportingOverflow(b)))
        case ("+", .temporal(.timedelta(let a)), .temporal(.timedelta(let b))):
            return .temporal(.timedelta(try checked(a.addingReportingOverflow(b))))
        case ("-", .temporal(.timedelta(let a)), .temporal(.timedelta(let b))):
            return .temporal(.timedelta(try checked(a.subtractingReportingOverflow(b))))
        case ("*", .temporal(.timedelta(let a)), .int(let n)), ("*", .int(let n), .temporal(.timedelta(let a))):
            return .temporal(.timedelta(try checked(a.multipliedReportingOverflow(by: n))))
        default: return nil
        }
    }

    /// Ordering between two of the same kind; nil for any other pair (Python's TypeError).
    static func ordering(_ left: Value, _ right: Value) -> Int? {
        switch (left, right) {
        case (.temporal(.datetime(let a)), .temporal(.datetime(let b))), (.temporal(.timedelta(let a)), .temporal(.timedelta(let b))):
            a < b ? -1 : (a == b ? 0 : 1)
        default: nil
        }
    }
}
