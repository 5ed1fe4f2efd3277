/// Python's `str()` and `repr()` of a value: what `{{ }}` prints when it is not alone in its
/// template, and how lists and dicts look inside text (`[1, 'a']`, `{'k': True}`).
extension Value {
    public var pythonString: String {
        switch self {
        case .string(let s): s
        case .temporal(let t): t.text
        default: pythonRepr
        }
    }

    public var pythonRepr: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return Self.pythonFloat(d)
        case .string(let s): return Self.quoted(s)
        case .list(let l): return "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.pairs.map { "\($0.key.pythonRepr): \($0.value.pythonRepr)" }.joined(separator: ", ") + "}"
        case .undefined: return ""
        case .temporal(let t): return t.repr
        }
    }

    /// A datetime as JSON and Ansible's output show it (`2024-03-01T10:00:00`); any other
    /// value's `str()`.
    public var isoformat: String {
        if case .temporal(let t) = self { return t.isoformat(separator: "T") }
        return pythonString
    }

    package static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 1e16 {
            // Swift writes 1e+15 for some integral values Python writes out in full.
            let whole = Int(d)
            return (d < 0 && whole == 0 ? "-" : "") + String(whole) + ".0"
        }
        return d.description
    }

    package static func quoted(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\x" + hexDigits(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }
}

/// `v` in `width` lower-case hex digits (the escapes of repr and JSON).
package func hexDigits(_ v: UInt32, width: Int) -> String {
    let digits = Array("0123456789abcdef")
    return String((0..<width).reversed().map { digits[Int((v >> UInt32($0 * 4)) & 0xf)] })
}
