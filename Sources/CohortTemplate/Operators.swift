#if canImport(Glibc)
import Glibc
#endif

/// Python's arithmetic and comparisons on template values: `/` gives a float, `//` and `%`
/// floor, `+` joins strings and lists, `*` repeats them, `~` joins anything as text.
enum Operators {
    static func unary(_ op: String, _ value: Value, line: Int) throws(TemplateError) -> Value {
        switch (op, value) {
        case ("-", .int(let i)): return .int(-i)
        case ("-", .float(let d)): return .float(-d)
        case ("-", .bool(let b)): return .int(b ? -1 : 0)
        case ("+", .int), ("+", .float): return value
        case (_, .undefined(let why)): throw TemplateError(why, line: line)
        default: throw TemplateError("bad operand type for unary \(op): '\(value.typeName)'", line: line)
        }
    }

    static func binary(_ op: String, _ left: Value, _ right: Value, maxSize: Int, line: Int) throws(TemplateError) -> Value {
        if case .undefined(let why) = left { throw TemplateError(why, line: line) }
        if case .undefined(let why) = right { throw TemplateError(why, line: line) }
        if op == "~" {
            let text = left.pythonString + right.pythonString
            guard text.utf8.count <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
            return .string(text)
        }
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)):
            guard a.utf8.count + b.utf8.count <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
            return .string(a + b)
        case ("+", .list(let a), .list(let b)):
            guard a.count + b.count <= maxSize else { throw TemplateError("a list over \(maxSize) items", line: line) }
            return .list(a + b)
        case ("*", .string(let s), .int(let n)), ("*", .int(let n), .string(let s)):
            guard n <= 0 || s.utf8.count.multipliedReportingOverflow(by: n).partialValue <= maxSize else {
                throw TemplateError("a string over \(maxSize) bytes", line: line)
            }
            return .string(n <= 0 ? "" : String(repeating: s, count: n))
        case ("*", .list(let l), .int(let n)), ("*", .int(let n), .list(let l)):
            guard n <= 0 || l.count.multipliedReportingOverflow(by: n).partialValue <= maxSize else {
                throw TemplateError("a list over \(maxSize) items", line: line)
            }
            return .list(n <= 0 ? [] : Array([[Value]](repeating: l, count: n).joined()))
        case ("%", .string(let format), _):
            return .string(try printf(format, right, line: line))
        default: break
        }
        guard isNumber(left), isNumber(right) else {
            throw TemplateError("unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'", line: line)
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
                return .int(floorDiv(a, b))
            case "%":
                guard b != 0 else { throw TemplateError("integer division or modulo by zero", line: line) }
                return .int(a - floorDiv(a, b) * b)
            case "**":
                if b < 0 { return .float(pow(Double(a), Double(b))) }
                var result = 1
                for _ in 0..<b {
                    let (next, overflow) = result.multipliedReportingOverflow(by: a)
                    if overflow { throw TemplateError("integer result too large", line: line) }
                    result = next
                }
                return .int(result)
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
            guard isNumber(left), isNumber(right), let a = left.number, let b = right.number else {
                throw TemplateError("'\(op)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'", line: line)
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

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Python's `'%s' % x` for the conversions templates use: `%s %d %i %r %%`, `%f` and `%.Nf`.
    static func printf(_ format: String, _ argument: Value, line: Int) throws(TemplateError) -> String {
        var args: [Value]
        if case .list(let l) = argument { args = l } else { args = [argument] }
        var out = ""
        var chars = Array(format)[...]
        while let c = chars.popFirst() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            var precision: Int?
            if chars.first == "." {
                chars.removeFirst()
                var digits = ""
                while let d = chars.first, d.isNumber {
                    digits.append(d)
                    chars.removeFirst()
                }
                precision = Int(digits)
            }
            guard let conversion = chars.popFirst() else { throw TemplateError("incomplete format", line: line) }
            if conversion == "%" {
                out += "%"
                continue
            }
            guard !args.isEmpty else { throw TemplateError("not enough arguments for format string", line: line) }
            let arg = args.removeFirst()
            switch conversion {
            case "s": out += arg.pythonString
            case "r": out += arg.pythonRepr
            case "d", "i":
                guard let n = arg.number else { throw TemplateError("%d format: a real number is required, not \(arg.typeName)", line: line) }
                out += String(Int(n.rounded(.towardZero)))
            case "f":
                guard let n = arg.number else { throw TemplateError("must be real number, not \(arg.typeName)", line: line) }
                out += fixed(n, precision ?? 6)
            default: throw TemplateError("unsupported format character '\(conversion)'", line: line)
            }
        }
        guard args.isEmpty else { throw TemplateError("not all arguments converted during string formatting", line: line) }
        return out
    }

    /// `n` with `digits` decimals, rounded half to even on the binary value as Python does.
    static func fixed(_ n: Double, _ digits: Int) -> String {
        if n.isNaN { return "nan" }
        if n.isInfinite { return n < 0 ? "-inf" : "inf" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(n) * scale).rounded(.toNearestOrEven)
        var whole = String(Int(scaled / scale))
        var fraction = ""
        if digits > 0 {
            let remainder = Int(scaled.truncatingRemainder(dividingBy: scale))
            fraction = String(remainder)
            while fraction.count < digits { fraction = "0" + fraction }
            fraction = "." + fraction
        }
        if n < 0 && scaled != 0 { whole = "-" + whole }
        return whole + fraction
    }
}
