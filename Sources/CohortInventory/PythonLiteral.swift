import Foundation
/// The subset of Python's `ast.literal_eval` that Ansible applies to INI inventory values:
/// numbers, quoted strings, True/False/None, lists, tuples and dicts. Anything else is not a
/// literal (`nil`) and Ansible keeps it as the raw string.
enum PythonLiteral {
    static func parse(_ text: String) -> InventoryValue? {
        var parser = Parser(Array(text.unicodeScalars))
        parser.skipSpace()
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.atEnd ? value : nil
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }
        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        mutating func skipSpace() {
            while let c = peek, c == " " || c == "\t" { i += 1 }
        }

        /// Python's parser refuses more than 200 nested brackets (a SyntaxError, so Ansible keeps
        /// the text as a string); stopping there also bounds this recursion.
        var depth = 0

        mutating func value() -> InventoryValue? {
            guard let c = peek else { return nil }
            guard depth < 200 else { return nil }
            depth += 1
            defer { depth -= 1 }
            switch c {
            case "'", "\"":
                guard var text = string() else { return nil }
                // Adjacent literals concatenate: 'a' 'b' == 'ab'.
                while true {
                    let save = i
                    skipSpace()
                    guard let q = peek, q == "'" || q == "\"", let more = string() else { i = save; break }
                    text += more
                }
                return .string(text)
            case "[": return sequence(close: "]")
            case "(": return sequence(close: ")")
            case "{": return dict()
            case "-", "+":
                i += 1
                skipSpace()
                guard let inner = number() else { return nil }
                if c == "+" { return inner }
                switch inner {
                case .int(let n): return .int(-n)
                case .double(let d): return .double(-d)
                default: return nil
                }
            default:
                if c.properties.numericType != nil || c == "." { return number() }
                return word()
            }
        }

        mutating func word() -> InventoryValue? {
            let start = i
            while let c = peek, c.properties.isAlphabetic || c == "_" || c.properties.numericType != nil { i += 1 }
            switch String(String.UnicodeScalarView(s[start..<i])) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default: return nil
            }
        }

        mutating func number() -> InventoryValue? {
            let start = i
            while let c = peek, c.isASCII, c.properties.isAlphabetic || c.properties.numericType != nil || c == "." || c == "_"
                || ((c == "+" || c == "-") && i > start && (s[i - 1] == "e" || s[i - 1] == "E"))
            {
                i += 1
            }
            let raw = String(String.UnicodeScalarView(s[start..<i]))
            guard !raw.hasSuffix("_"), !raw.contains("__") else { return nil }
            let text = raw.replacingAll("_", with: "")
            let lower = text.lowercased()
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
                return Int(lower.dropFirst(2), radix: radix).map(InventoryValue.int)
            }
            if text.allSatisfy(\.isNumber) {
                // Python refuses leading zeros in decimal integers (except 0 itself).
                if text.count > 1, text.first == "0", text.contains(where: { $0 != "0" }) { return nil }
                return Int(text).map(InventoryValue.int)
            }
            if lower.hasSuffix("j") { return nil }
            guard lower.first != "e", lower.contains(where: \.isNumber), let d = Double(text) else { return nil }
            return .double(d)
        }

        mutating func string() -> String? {
            guard let quote = peek else { return nil }
            // Triple-quoted strings.
            if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote {
                i += 3
                var out = ""
                while i + 2 < s.count {
                    if s[i] == quote, s[i + 1] == quote, s[i + 2] == quote {
                        i += 3
                        return out
                    }
                    guard let ch = escaped() else { return nil }
                    out += ch
                }
                return nil
            }
            i += 1
            var out = ""
            while let c = peek {
                if c == quote {
                    i += 1
                    return out
                }
                if c == "\n" { return nil }
                guard let ch = escaped() else { return nil }
                out += ch
            }
            return nil
        }

        mutating func escaped() -> String? {
            let c = s[i]
            i += 1
            guard c == "\\" else { return String(Character(c)) }
            guard let e = peek else { return nil }
            i += 1
            switch e {
            case "n": return "\n"
            case "t": return "\t"
            case "r": return "\r"
            case "0": return "\0"
            case "\\": return "\\"
            case "'": return "'"
            case "\"": return "\""
            case "\n": return ""
            case "a": return "\u{07}"
            case "b": return "\u{08}"
            case "f": return "\u{0C}"
            case "v": return "\u{0B}"
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                guard i + width <= s.count,
                    let code = UInt32(String(String.UnicodeScalarView(s[i..<i + width])), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else { return nil }
                i += width
                return String(Character(scalar))
            default:
                return "\\" + String(Character(e))
            }
        }

        mutating func sequence(close: Unicode.Scalar) -> InventoryValue? {
            i += 1
            var items: [InventoryValue] = []
            var sawComma = false
            while true {
                skipSpace()
                if peek == close {
                    i += 1
                    // (x) is just x; (x,) is a tuple.
                    if close == ")", items.count == 1, !sawComma { return items[0] }
                    return .list(items)
                }
                guard let item = value() else { return nil }
                items.append(item)
                skipSpace()
                if peek == "," {
                    i += 1
                    sawComma = true
                } else if peek != close {
                    return nil
                }
            }
        }

        mutating func dict() -> InventoryValue? {
            i += 1
            var items: [(String, InventoryValue)] = []
            while true {
                skipSpace()
                if peek == "}" {
                    i += 1
                    return .dict(items)
                }
                guard let key = value() else { return nil }
                skipSpace()
                guard peek == ":" else { return nil }
                i += 1
                skipSpace()
                guard let item = value() else { return nil }
                let name: String
                switch key {
                case .string(let k): name = k
                case .int(let n): name = String(n)
                case .bool(let b): name = b ? "true" : "false"
                default: return nil
                }
                items.removeAll { $0.0 == name }
                items.append((name, item))
                skipSpace()
                if peek == "," { i += 1 } else if peek != "}" { return nil }
            }
        }
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
