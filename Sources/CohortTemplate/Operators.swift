#if canImport(Glibc)
import Glibc
#endif

/// Python's arithmetic and comparisons on template values: `/` gives a float, `//` and `%`
/// floor, `+` joins strings and lists, `*` repeats them, `~` joins anything as text.
enum Operators {
    static func unary(_ op: String, _ value: Value, line: Int) throws(TemplateError) -> Value {
        switch (op, value) {
        case ("-", .int(let i)): return try checked((0).subtractingReportingOverflow(i), line)
        case ("-", .float(let d)): return .float(-d)
        case ("-", .bool(let b)): return .int(b ? -1 : 0)
        case ("+", .int), ("+", .float): return value
        case ("-", .temporal(.timedelta(let span))):
            guard span != .min else { throw TemplateError("date value out of range", line: line) }
            return .temporal(.timedelta(-span))
        case ("+", .temporal(.timedelta)): return value
        case (_, .undefined(let why)): throw TemplateError(why, line: line)
        default: throw TemplateError("bad operand type for unary \(op): '\(value.typeName)'", line: line)
        }
    }

    static func binary(_ op: String, _ left: Value, _ right: Value, maxSize: Int, line: Int) throws(TemplateError) -> Value {
        if case .undefined(let why) = left { throw TemplateError(why, line: line) }
        if case .undefined(let why) = right { throw TemplateError(why, line: line) }
        if op == "~" {
            let a = try left.boundedString(maxSize, line: line), b = try right.boundedString(maxSize, line: line)
            guard a.utf8.count + b.utf8.count <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
            return .string(a + b)
        }
        if let result = try Temporal.binary(op, left, right, line: line) { return result }
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)):
            guard a.utf8.count + b.utf8.count <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
            return .string(a + b)
        case ("+", .list(let a), .list(let b)):
            guard a.count + b.count <= maxSize else { throw TemplateError("a list over \(maxSize) items", line: line) }
            return .list(a + b)
        case ("*", .string(let s), .int(let n)), ("*", .int(let n), .string(let s)):
            // Python: nothing repeated any number of times is nothing; a count at or below
            // zero gives nothing.
            if n <= 0 || s.isEmpty { return .string("") }
            guard let size = Checked.product(s.utf8.count, n), size <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
            return .string(String(repeating: s, count: n))
        case ("*", .list(let l), .int(let n)), ("*", .int(let n), .list(let l)):
            if n <= 0 || l.isEmpty { return .list([]) }
            guard let size = Checked.product(l.count, n), size <= maxSize else { throw TemplateError("a list over \(maxSize) items", line: line) }
            var out: [Value] = []
            out.reserveCapacity(size)
            for _ in 0..<n { out += l }
            return .list(out)
        case ("%", .string(let format), _):
            return .string(try PythonFormat.printf(format, right, maxSize: maxSize, line: line))
        default: break
        }
        guard isNumber(left), isNumber(right) else {
            throw TemplateError("unsupported operand type(s) for \(op): '\(left.qualifiedTypeName)' and '\(right.qualifiedTypeName)'", line: line)
        }
        if case .int(let a) = integer(left), case .int(let b) = integer(right) {
            switch op {
            case "+": return try checked(a.addingReportingOverflow(b), line)
            case "-": return try checked(a.subtractingReportingOverflow(b), line)
            case "*": return try checked(a.multipliedReportingOverflow(by: b), line)
            case "/":
                guard b != 0 else { throw TemplateError("division by zero", line: line) }
                return .float(Double(a) / Double(b))
            case "//":
                guard b != 0 else { throw TemplateError("integer division or modulo by zero", line: line) }
                // Int.min // -1 is one past Int.max: Swift's division would trap.
                if b == -1 { return try checked((0).subtractingReportingOverflow(a), line) }
                return .int(floorDiv(a, b))
            case "%":
                guard b != 0 else { throw TemplateError("integer division or modulo by zero", line: line) }
                if b == -1 { return .int(0) }
                return .int(a - floorDiv(a, b) * b)
            case "**":
                if b < 0 { return .float(pow(Double(a), Double(b))) }
                return try power(a, b, line: line)
            default: break
            }
        }
        let a = left.number ?? 0
        let b = right.number ?? 0
        switch op {
        case "+": return .float(a + b)
        case "-": return .float(a - b)
        case "*": return .float(a * b)
        case "/":
            guard b != 0 else { throw TemplateError("float division by zero", line: line) }
            return .float(a / b)
        case "//":
            guard b != 0 else { throw TemplateError("float floor division by zero", line: line) }
            return .float((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw TemplateError("float modulo", line: line) }
            let r = a - (a / b).rounded(.down) * b
            return .float(r)
        case "**": return .float(pow(a, b))
        default: throw TemplateError("unknown operator \(op)", line: line)
        }
    }

    static func compare(_ op: String, _ left: Value, _ right: Value, line: Int) throws(TemplateError) -> Bool {
        switch op {
        case "==": return left == right
        case "!=": return left != right
        case "in": return try contains(right, left, line: line)
        case "not in": return !(try contains(right, left, line: line))
        default: break
        }
        if case .undefined(let why) = left { throw TemplateError(why, line: line) }
        if case .undefined(let why) = right { throw TemplateError(why, line: line) }
        let order = try ordering(left, right, op: op, line: line)
        switch op {
        case "<": return order < 0
        case ">": return order > 0
        case "<=": return order <= 0
        default: return order >= 0
        }
    }

    /// Python's ordering: numbers with numbers, strings with strings, lists element-wise.
    static func ordering(_ left: Value, _ right: Value, op: String = "<", line: Int?) throws(TemplateError) -> Int {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : (a == b ? 0 : 1)
        case (.list(let a), .list(let b)):
            for (x, y) in zip(a, b) where x != y { return try ordering(x, y, op: op, line: line) }
            return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
        default:
            if let order = Temporal.ordering(left, right) { return order }
            guard isNumber(left), isNumber(right), let a = left.number, let b = right.number else {
                throw TemplateError("'\(op)' not supported between instances of '\(left.qualifiedTypeName)' and '\(right.qualifiedTypeName)'", line: line)
            }
            return a < b ? -1 : (a == b ? 0 : 1)
        }
    }

    static func contains(_ container: Value, _ item: Value, line: Int) throws(TemplateError) -> Bool {
        switch container {
        case .list(let list): return list.contains(item)
        case .dict(let dict): return dict[item] != nil
        case .string(let text):
            guard case .string(let needle) = item else {
                throw TemplateError("'in <string>' requires string as left operand, not \(item.typeName)", line: line)
            }
            return needle.isEmpty || text.contains(needle)
        case .undefined(let why): throw TemplateError(why, line: line)
        default: throw TemplateError("argument of type '\(container.typeName)' is not iterable", line: line)
        }
    }

    static func isNumber(_ v: Value) -> Bool {
        switch v {
        case .int, .float, .bool: true
        default: false
        }
    }

    private static func integer(_ v: Value) -> Value {
        if case .bool(let b) = v { return .int(b ? 1 : 0) }
        return v
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool), _ line: Int) throws(TemplateError) -> Value {
        if result.overflow { throw TemplateError("integer result too large", line: line) }
        return .int(result.partialValue)
    }

    /// `a ** b` for b >= 0 by squaring: `1 ** 9223372036854775807` is one step, not 2^63.
    static func power(_ a: Int, _ b: Int, line: Int) throws(TemplateError) -> Value {
        switch a {
        case 0: return .int(b == 0 ? 1 : 0)
        case 1: return .int(1)
        case -1: return .int(b % 2 == 0 ? 1 : -1)
        default: break
        }
        var result = 1, base = a, exponent = b
        while exponent > 0 {
            if exponent & 1 == 1 {
                guard let next = Checked.product(result, base) else { throw TemplateError("integer result too large", line: line) }
                result = next
            }
            exponent >>= 1
            if exponent > 0 {
                guard let squared = Checked.product(base, base) else { throw TemplateError("integer result too large", line: line) }
                base = squared
            }
        }
        return .int(result)
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int { CivilCalendar.floorDiv(a, b) }
}
