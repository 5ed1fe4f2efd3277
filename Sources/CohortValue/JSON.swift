/// JSON as Python's `json` writes and reads it: `to_json` is `json.dumps` (`", "` and `": "`
/// separators, non-ASCII escaped), `to_nice_json` adds `indent=4, sort_keys=True`.
package enum JSON {
    /// A negative indent is Python's `" " * indent`: newlines, no spaces. The text is
    /// refused once it passes `maxSize` bytes (an indent or a shared value can make it huge).
    package static func encode(
        _ value: Value, indent: Int? = nil, sortKeys: Bool = false, asciiOnly: Bool = true, maxSize: Int, line: Int?
    ) throws(TemplateError) -> String {
        var out = ""
        try write(value, into: &out, indent: indent.map { max(0, $0) }, level: 0, sortKeys: sortKeys, ascii: asciiOnly, maxSize: maxSize, line: line)
        return out
    }

    private static func write(
        _ value: Value, into out: inout String, indent: Int?, level: Int, sortKeys: Bool, ascii: Bool, maxSize: Int, line: Int?
    ) throws(TemplateError) {
        let itemSeparator = indent == nil ? ", " : ","
        func newline(_ depth: Int) throws(TemplateError) {
            guard let indent else { return }
            let width = try Checked.size(Checked.product(indent, depth), maxSize - out.utf8.count, "to_json: a text", line: line)
            out += "\n" + String(repeating: " ", count: width)
        }
        guard out.utf8.count <= maxSize else { throw TemplateError("to_json: a text over \(maxSize) bytes", line: line) }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : Value.pythonFloat(d)
        case .temporal(.datetime):
            // Ansible's JSON encoder writes a datetime as its ISO 8601 text.
            out += quote(value.isoformat, ascii: ascii)
        case .temporal(let span):
            throw TemplateError("Object of type \(span.typeName) is not JSON serializable", line: line)
        case .string(let s):
            guard out.utf8.count + s.utf8.count <= maxSize else { throw TemplateError("to_json: a text over \(maxSize) bytes", line: line) }
            out += quote(s, ascii: ascii)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                try newline(level + 1)
                try write(item, into: &out, indent: indent, level: level + 1, sortKeys: sortKeys, ascii: ascii, maxSize: maxSize, line: line)
            }
            try newline(level)
            out += "]"
        case .dict(let dict):
            if dict.isEmpty { out += "{}"; return }
            var pairs: [(String, Value)] = []
            for (key, value) in dict.pairs {
                switch key {
                case .string(let s): pairs.append((s, value))
                case .bool(let b): pairs.append((b ? "true" : "false", value))
                case .int(let i): pairs.append((String(i), value))
                case .float(let d): pairs.append((Value.pythonFloat(d), value))
                case .none: pairs.append(("null", value))
                default: throw TemplateError("keys must be str, int, float, bool or None, not \(key.typeName)", line: line)
                }
            }
            if sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
            out += "{"
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                try newline(level + 1)
                out += quote(key, ascii: ascii) + ": "
                try write(item, into: &out, indent: indent, level: level + 1, sortKeys: sortKeys, ascii: ascii, maxSize: maxSize, line: line)
            }
            try newline(level)
            out += "}"
        case .undefined(let why): throw TemplateError(why, line: line)
        }
    }

    package static func quote(_ s: String, ascii: Bool) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ascii && scalar.value > 0x7e) {
                    for unit in String(scalar).utf16 { out += "\\u" + hexDigits(UInt32(unit), width: 4) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    package static func decode(_ text: String, line: Int?) throws(TemplateError) -> Value {
        var parser = Reader(chars: Array(text.unicodeScalars), line: line)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.chars.count else { throw parser.fail("extra data") }
        return value
    }

    private struct Reader {
        let chars: [Unicode.Scalar]
        let line: Int?
        var at = 0

        init(chars: [Unicode.Scalar], line: Int?) {
            self.chars = chars
            self.line = line
        }

        func fail(_ what: String) -> TemplateError { TemplateError("invalid JSON: \(what) at character \(at)", line: line) }

        mutating func skipSpace() {
            while at < chars.count, [" ", "\n", "\r", "\t"].contains(chars[at]) { at += 1 }
        }

        mutating func literal(_ word: String, _ value: Value) throws(TemplateError) -> Value {
            let scalars = Array(word.unicodeScalars)
            guard at + scalars.count <= chars.count, Array(chars[at..<at + scalars.count]) == scalars else { throw fail("unexpected character") }
            at += scalars.count
            return value
        }

        mutating func value(depth: Int) throws(TemplateError) -> Value {
            guard depth < 200 else { throw fail("nested too deeply") }
            guard at < chars.count else { throw fail("unexpected end") }
            switch chars[at] {
            case "{":
                at += 1
                var dict = Dict()
                skipSpace()
                if at < chars.count, chars[at] == "}" { at += 1; return .dict(dict) }
                while true {
                    skipSpace()
                    guard at < chars.count, chars[at] == "\"" else { throw fail("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard at < chars.count, chars[at] == ":" else { throw fail("expected ':'") }
                    at += 1
                    skipSpace()
                    dict[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard at < chars.count else { throw fail("unexpected end") }
                    if chars[at] == "," { at += 1; continue }
                    if chars[at] == "}" { at += 1; return .dict(dict) }
                    throw fail("expected ',' or '}'")
                }
            case "[":
                at += 1
                var items: [Value] = []
                skipSpace()
                if at < chars.count, chars[at] == "]" { at += 1; return .list(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard at < chars.count else { throw fail("unexpected end") }
                    if chars[at] == "," { at += 1; continue }
                    if chars[at] == "]" { at += 1; return .list(items) }
                    throw fail("expected ',' or ']'")
                }
            case "\"": return .string(try string())
            case "t": return try literal("true", .bool(true))
            case "f": return try literal("false", .bool(false))
            case "n": return try literal("null", .none)
            case "N": return try literal("NaN", .float(.nan))
            case "I": return try literal("Infinity", .float(.infinity))
            default: return try number()
            }
        }

        mutating func string() throws(TemplateError) -> String {
            at += 1
            var out = String.UnicodeScalarView()
            while at < chars.count, chars[at] != "\"" {
                var c = chars[at]
                if c == "\\" {
                    at += 1
                    guard at < chars.count else { throw fail("unterminated string") }
                    switch chars[at] {
                    case "n": c = "\n"
                    case "t": c = "\t"
                    case "r": c = "\r"
                    case "b": c = "\u{08}"
                    case "f": c = "\u{0C}"
                    case "/", "\\", "\"": c = chars[at]
                    case "u":
                        var code = try hex()
                        if (0xD800..<0xDC00).contains(code), at + 2 < chars.count, chars[at + 1] == "\\", chars[at + 2] == "u" {
                            at += 2
                            let low = try hex()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        c = Unicode.Scalar(code) ?? "\u{FFFD}"
                    default: throw fail("bad escape")
                    }
                }
                out.append(c)
                at += 1
            }
            guard at < chars.count else { throw fail("unterminated string") }
            at += 1
            return String(out)
        }

        mutating func hex() throws(TemplateError) -> UInt32 {
            guard at + 4 < chars.count, let code = UInt32(String(String.UnicodeScalarView(chars[(at + 1)...(at + 4)])), radix: 16) else {
                throw fail("bad \\u escape")
            }
            at += 4
            return code
        }

        mutating func number() throws(TemplateError) -> Value {
            let start = at
            var isFloat = false
            if at < chars.count, chars[at] == "-" { at += 1 }
            while at < chars.count {
                let c = chars[at]
                if ("0"..."9").contains(c) {
                } else if c == "." || c == "e" || c == "E" || ((c == "+" || c == "-") && (chars[at - 1] == "e" || chars[at - 1] == "E")) {
                    isFloat = true
                } else {
                    break
                }
                at += 1
            }
            let text = String(String.UnicodeScalarView(chars[start..<at]))
            if text == "-", at < chars.count, chars[at] == "I" { return .float(-(try literal("Infinity", .float(.infinity))).number!) }
            if !isFloat, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw fail("unexpected character") }
            return .float(d)
        }
    }
}

extension Value {
    /// Parses JSON text (Python's `json.loads`: integers stay integers).
    public init(json text: String) throws(TemplateError) {
        self = try JSON.decode(text, line: nil)
    }

    /// `json.dumps(value)`, or with `indent` and sorted keys as `to_nice_json` writes it;
    /// `asciiOnly` false keeps non-ASCII characters as they are. Not bounded: this is the
    /// coordinator's own encoding (wire requests, printed results), not a template's.
    public func json(indent: Int? = nil, sortKeys: Bool = false, asciiOnly: Bool = false) throws(TemplateError) -> String {
        try JSON.encode(self, indent: indent, sortKeys: sortKeys, asciiOnly: asciiOnly, maxSize: .max, line: nil)
    }
}
