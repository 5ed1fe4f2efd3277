/// Python's `datetime.strptime`, which Ansible's `to_datetime` filter is: the format becomes
/// the pattern Python's `_strptime` builds (each directive's alternatives in its order, a
/// run of whitespace as `\s+`, letters matched without case), matched from the start with
/// the same backtracking, then the fields are combined as `_strptime` combines them.
/// The directives are those of the C locale that need no time zone or week number; any other
/// is refused by name rather than read differently.
enum Strptime {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case space
        case field(Character)
    }

    static let numeric: [Character: [String]] = [
        "d": ["3[0-1]", "[1-2]D", "0[1-9]", "[1-9]", " [1-9]"],
        "H": ["2[0-3]", "[0-1]D", "D"],
        "I": ["1[0-2]", "0[1-9]", "[1-9]"],
        "j": ["36[0-6]", "3[0-5]D", "[1-2]DD", "0[1-9]D", "00[1-9]", "[1-9]D", "0[1-9]", "[1-9]"],
        "m": ["1[0-2]", "0[1-9]", "[1-9]"],
        "M": ["[0-5]D", "D"],
        "S": ["6[0-1]", "[0-5]D", "D"],
        "y": ["DD"],
        "Y": ["DDDD"],
    ]
    static let fullDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    static let fullMonths = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
    static let names: [Character: [String]] = [
        "A": fullDays, "a": fullDays.map { String($0.prefix(3)) },
        "B": fullMonths, "b": fullMonths.map { String($0.prefix(3)) }, "p": ["am", "pm"],
    ]
    /// Longest first, as `_strptime`'s `__seqToRE` orders them (equal lengths keep their order).
    static let namesByLength: [Character: [String]] = names.mapValues { list in
        list.enumerated().sorted { ($0.element.count, $1.offset) > ($1.element.count, $0.offset) }.map(\.element)
    }
    static let supported = Set(numeric.keys).union(names.keys).union(["f"])
    /// The most matching steps one call may take: Python's regex has no bound; ours keeps a
    /// hostile format from spinning.
    static let stepBudget = 200_000

    static func parse(_ text: String, _ format: String, line: Int?, budget: Int = stepBudget) throws(TemplateError) -> Temporal {
        let tokens = try compile(format, line: line)
        let data = Array(text.unicodeScalars)
        guard data.count <= 65_536 else { throw TemplateError("to_datetime: a string of more than 65536 characters", line: line) }
        var steps = 0
        var captures: [Character: String] = [:]
        guard let end = try match(tokens[...], data, 0, &captures, &steps, budget, line: line) else {
            throw TemplateError("time data \(Value.quoted(text)) does not match format \(Value.quoted(format))", line: line)
        }
        guard end == data.count else {
            throw TemplateError("unconverted data remains: " + String(String.UnicodeScalarView(data[end...])), line: line)
        }
        return try combine(captures, line: line)
    }

    static func compile(_ format: String, line: Int?) throws(TemplateError) -> [Token] {
        guard format.utf8.count <= 4096 else { throw TemplateError("to_datetime: a format of more than 4096 bytes", line: line) }
        var tokens: [Token] = []
        var seen: Set<Character> = []
        var scalars = format.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar.properties.isWhitespace {
                if tokens.last != .space { tokens.append(.space) }
                continue
            }
            guard scalar == "%" else {
                tokens.append(.literal(scalar))
                continue
            }
            guard let next = scalars.next() else { throw TemplateError("stray % in format \(Value.quoted(format))", line: line) }
            let directive = Character(next)
            if directive == "%" {
                tokens.append(.literal("%"))
                continue
            }
            guard supported.contains(directive) else {
                if "cxXzZUWwuGVs".contains(directive) {
                    throw TemplateError("to_datetime: the directive %\(directive) is not supported by cohort yet", line: line)
                }
                throw TemplateError("'\(directive)' is a bad directive in format \(Value.quoted(format))", line: line)
            }
            guard seen.insert(directive).inserted else { throw TemplateError("redefinition of group name '\(directive)' in format \(Value.quoted(format))", line: line) }
            tokens.append(.field(directive))
        }
        return tokens
    }

    /// The end of the first match of `tokens` at `at`, trying alternatives in Python's order.
    static func match(
        _ tokens: ArraySlice<Token>, _ data: [Unicode.Scalar], _ at: Int, _ captures: inout [Character: String], _ steps: inout Int, _ budget: Int,
        line: Int?
    ) throws(TemplateError) -> Int? {
        steps += 1
        guard steps <= budget else { throw TemplateError("to_datetime: the format needs more than \(budget) matching steps", line: line) }
        guard let token = tokens.first else { return at }
        let rest = tokens.dropFirst()
        for length in candidates(token, data, at) {
            if case .field(let name) = token { captures[name] = String(String.UnicodeScalarView(data[at..<at + length])) }
            if let end = try match(rest, data, at + length, &captures, &steps, budget, line: line) { return end }
        }
        if case .field(let name) = token { captures[name] = nil }
        return nil
    }

    /// The lengths `token` can match at `at`, most preferred first.
    static func candidates(_ token: Token, _ data: [Unicode.Scalar], _ at: Int) -> [Int] {
        switch token {
        case .literal(let scalar):
            return at < data.count && same(data[at], scalar) ? [1] : []
        case .space:
            var end = at
            while end < data.count, data[end].properties.isWhitespace { end += 1 }
            return Array(stride(from: end - at, through: 1, by: -1))
        case .field("f"):
            var end = at
            while end < data.count, end - at < 6, isDigit(data[end]) { end += 1 }
            return Array(stride(from: end - at, through: 1, by: -1))
        case .field(let name):
            if let patterns = numeric[name] { return patterns.compactMap { fits($0, data, at) } }
            return (namesByLength[name] ?? []).compactMap { choice in
                let wanted = Array(choice.unicodeScalars)
                guard at + wanted.count <= data.count else { return nil }
                return zip(data[at..<at + wanted.count], wanted).allSatisfy { same($0, $1) } ? wanted.count : nil
            }
        }
    }

    /// The length of `pattern` (digits, `D` for any digit, `[a-b]`, a space) at `at`.
    static func fits(_ pattern: String, _ data: [Unicode.Scalar], _ at: Int) -> Int? {
        var position = at
        var parts = Array(pattern.unicodeScalars)[...]
        while let part = parts.popFirst() {
            guard position < data.count else { return nil }
            let c = data[position]
            switch part {
            case "D": guard isDigit(c) else { return nil }
            case "[":
                let low = parts.popFirst()!, _ = parts.popFirst(), high = parts.popFirst()!, _ = parts.popFirst()
                guard (low...high).contains(c) else { return nil }
            default: guard c == part else { return nil }
            }
            position += 1
        }
        return position - at
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    /// Python's IGNORECASE for one character.
    static func same(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a == b || String(a).lowercased() == String(b).lowercased()
    }

    /// `_strptime`'s defaults (1900-01-01 00:00) and rules: `%y` below 69 is 20xx, `%I`
    /// with `%p`, `%f` padded to microseconds, `%j` setting the month and day.
    static func combine(_ captures: [Character: String], line: Int?) throws(TemplateError) -> Temporal {
        func number(_ name: Character) -> Int? { captures[name].flatMap { Int($0.trimmingPrefix(" ")) } }
        var year = number("Y") ?? 1900
        if let short = number("y") { year = short <= 68 ? short + 2000 : short + 1900 }
        var month = number("m") ?? 1
        if let name = captures["B"] ?? captures["b"] {
            let list = captures["B"] != nil ? fullMonths : names["b"]!
            month = (list.firstIndex(of: name.lowercased()) ?? -1) + 1
        }
        var day = number("d") ?? 1
        var hour = number("H") ?? 0
        if let twelve = number("I") {
            hour = twelve
            switch captures["p"]?.lowercased() {
            case "am": if twelve == 12 { hour = 0 }
            case "pm": if twelve != 12 { hour = twelve + 12 }
            default: break
            }
        }
        let micro = captures["f"].map { Int($0 + String(repeating: "0", count: 6 - $0.count)) ?? 0 } ?? 0
        if let julian = number("j") {
            guard (1...9999).contains(year) else { throw TemplateError("year \(year) is out of range", line: line) }
            let days = CivilCalendar.days(year: year, month: 1, day: 1) + julian - 1
            (year, month, day) = CivilCalendar.civil(days)
        }
        guard let result = Temporal.make(year: year, month: month, day: day, hour: hour, minute: number("M") ?? 0, second: number("S") ?? 0, micro: micro) else {
            throw TemplateError("day is out of range for month", line: line)
        }
        return result
    }
}
