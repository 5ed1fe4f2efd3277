#if canImport(Glibc)
import Glibc
#endif

/// Python's `'%s' % x` (and the `format` filter): `%[flags][width][.precision]conv` with the
/// flags `#0- +`, `*` for a width or precision taken from the arguments, and the conversions
/// `s r a c d i u o x X e E f F g G %`. Floats are written by the C library, which rounds the
/// exact binary value as Python does; `%d` of a float past Int's range is written exactly from
/// its digits. Widths and precisions come from templates and are bounded before anything of
/// their size is built.
enum PythonFormat {
    /// The widest field and the longest precision one conversion may ask for.
    static let maxField = 10_000

    struct Spec {
        var flags: Set<Character> = []
        var width = 0
        var precision: Int?
        var conversion: Character = "s"
    }

    static func printf(_ format: String, _ argument: Value, maxSize: Int, line: Int) throws(TemplateError) -> String {
        var args: [Value]
        if case .list(let l) = argument { args = l } else { args = [argument] }
        func next() throws(TemplateError) -> Value {
            guard !args.isEmpty else { throw TemplateError("not enough arguments for format string", line: line) }
            return args.removeFirst()
        }
        var out = ""
        var chars = Array(format)[...]
        while let c = chars.popFirst() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            var spec = Spec()
            while let flag = chars.first, "#0- +".contains(flag) {
                spec.flags.insert(flag)
                chars.removeFirst()
            }
            if chars.first == "*" {
                chars.removeFirst()
                guard case .int(let w) = try next() else { throw TemplateError("* wants int", line: line) }
                if w < 0 { spec.flags.insert("-") }
                spec.width = w == Int.min ? Int.max : abs(w)
            } else {
                spec.width = try number(&chars, line: line)
            }
            if chars.first == "." {
                chars.removeFirst()
                if chars.first == "*" {
                    chars.removeFirst()
                    guard case .int(let p) = try next() else { throw TemplateError("* wants int", line: line) }
                    spec.precision = max(0, p)
                } else {
                    spec.precision = try number(&chars, line: line)
                }
            }
            while let length = chars.first, "hlL".contains(length) { chars.removeFirst() }
            guard let conversion = chars.popFirst() else { throw TemplateError("incomplete format", line: line) }
            if conversion == "%" {
                out += "%"
                continue
            }
            guard spec.width <= maxField, (spec.precision ?? 0) <= maxField else {
                throw TemplateError("a format width or precision over \(maxField)", line: line)
            }
            spec.conversion = conversion
            out += try convert(try next(), spec, maxSize: maxSize, line: line)
            guard out.utf8.count <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
        }
        guard args.isEmpty else { throw TemplateError("not all arguments converted during string formatting", line: line) }
        return out
    }

    /// Decimal digits of a width or precision, refused past `maxField` (no overflow).
    private static func number(_ chars: inout ArraySlice<Character>, line: Int) throws(TemplateError) -> Int {
        var n = 0
        while let d = chars.first, let digit = d.wholeNumberValue, d.isASCII {
            chars.removeFirst()
            n = n * 10 + digit
            guard n <= maxField else { throw TemplateError("a format width or precision over \(maxField)", line: line) }
        }
        return n
    }

    private static func convert(_ arg: Value, _ spec: Spec, maxSize: Int, line: Int) throws(TemplateError) -> String {
        switch spec.conversion {
        case "s", "r", "a":
            var text = spec.conversion == "s" ? try arg.boundedString(maxSize, line: line) : try bounded(arg, maxSize, line: line)
            if let precision = spec.precision, text.count > precision { text = String(text.prefix(precision)) }
            return pad(text, spec, numeric: false)
        case "c":
            switch arg {
            case .string(let s) where s.count == 1: return pad(s, spec, numeric: false)
            case .int(let i):
                guard let u = UInt32(exactly: i), let scalar = Unicode.Scalar(u) else { throw TemplateError("%c arg not in range(0x110000)", line: line) }
                return pad(String(Character(scalar)), spec, numeric: false)
            default: throw TemplateError("%c requires an int or a unicode character, not \(arg.typeName)", line: line)
            }
        case "d", "i", "u":
            let (negative, digits) = try integerDigits(arg, radix: 10, line: line)
            return integer(negative, digits, prefix: "", spec)
        case "o", "x", "X":
            let value: Int
            switch arg {
            case .int(let i): value = i
            case .bool(let b): value = b ? 1 : 0
            default: throw TemplateError("%\(spec.conversion) format: an integer is required, not \(arg.typeName)", line: line)
            }
            var digits = String(value.magnitude, radix: spec.conversion == "o" ? 8 : 16, uppercase: spec.conversion == "X")
            if spec.conversion == "X" { digits = digits.uppercased() }
            let prefix = spec.flags.contains("#") ? (spec.conversion == "o" ? "0o" : spec.conversion == "x" ? "0x" : "0X") : ""
            return integer(value < 0, digits, prefix: prefix, spec)
        case "e", "E", "f", "F", "g", "G":
            guard let n = arg.number, !arg.isText else {
                throw TemplateError("must be real number, not \(arg.typeName)", line: line)
            }
            var c = "%"
            for flag in "#0- +" where spec.flags.contains(flag) { c.append(flag) }
            c += "\(spec.width).\(spec.precision ?? 6)\(spec.conversion)"
            return cFormat(c, n, capacity: spec.width + (spec.precision ?? 6) + 330)
        default:
            throw TemplateError("unsupported format character '\(spec.conversion)'", line: line)
        }
    }

    private static func bounded(_ arg: Value, _ maxSize: Int, line: Int) throws(TemplateError) -> String {
        guard arg.reprSize(limit: maxSize) <= maxSize else { throw TemplateError("a string over \(maxSize) bytes", line: line) }
        return arg.pythonRepr
    }

    /// The sign and digits of `int(arg)`: a float past Int's range is written exactly (Python
    /// would give its big integer), never converted (Swift would trap).
    private static func integerDigits(_ arg: Value, radix: Int, line: Int) throws(TemplateError) -> (Bool, String) {
        switch arg {
        case .int(let i): return (i < 0, String(i.magnitude))
        case .bool(let b): return (false, b ? "1" : "0")
        case .float(let d):
            if d.isNaN { throw TemplateError("cannot convert float NaN to integer", line: line) }
            if d.isInfinite { throw TemplateError("cannot convert float infinity to integer", line: line) }
            let whole = d.rounded(.towardZero)
            if let i = Int(exactly: whole) { return (i < 0, String(i.magnitude)) }
            return (whole < 0, cFormat("%.0f", abs(whole), capacity: 330))
        default:
            throw TemplateError("%d format: a real number is required, not \(arg.typeName)", line: line)
        }
    }

    /// Sign, `#` prefix, precision as a minimum of digits, then the width: `-` pads on the
    /// right, `0` with zeros after the sign, otherwise spaces on the left.
    private static func integer(_ negative: Bool, _ digits: String, prefix: String, _ spec: Spec) -> String {
        var body = digits
        if let precision = spec.precision, body.count < precision { body = String(repeating: "0", count: precision - body.count) + body }
        let sign = negative ? "-" : spec.flags.contains("+") ? "+" : spec.flags.contains(" ") ? " " : ""
        let head = sign + prefix
        let length = head.count + body.count
        guard spec.width > length else { return head + body }
        let fill = spec.width - length
        if spec.flags.contains("-") { return head + body + String(repeating: " ", count: fill) }
        if spec.flags.contains("0") { return head + String(repeating: "0", count: fill) + body }
        return String(repeating: " ", count: fill) + head + body
    }

    private static func pad(_ text: String, _ spec: Spec, numeric: Bool) -> String {
        let fill = spec.width - text.count
        guard fill > 0 else { return text }
        return spec.flags.contains("-") ? text + String(repeating: " ", count: fill) : String(repeating: " ", count: fill) + text
    }

    /// One C conversion of a double; glibc writes the exact binary value's digits.
    static func cFormat(_ format: String, _ value: Double, capacity: Int) -> String {
        var buffer = [CChar](repeating: 0, count: capacity + 1)
        let written = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([value]) { vsnprintf(pointer.baseAddress, capacity + 1, format, $0) }
        }
        guard written >= 0 else { return "" }
        return String(decoding: buffer.prefix(min(Int(written), capacity)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
