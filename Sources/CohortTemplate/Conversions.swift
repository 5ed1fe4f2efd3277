/// The `int`, `float` and `bool` filters, as Jinja and Ansible convert.
enum Conversions {
    /// Jinja's `int`: what Python's `int()` cannot read gives the default; a float past
    /// Int's range (Python's big integer) and infinity are errors, never a trap.
    static func int(_ value: Value, default fallback: Value, base: Value?, line: Int) throws(TemplateError) -> Value {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return d.isNaN ? fallback : try whole(d, line: line)
        case .string(let raw):
            let s = Strings.strip(raw, nil, leading: true, trailing: true).replacing("_", with: "")
            var radix = 10
            if case .int(let b)? = base { radix = b }
            var digits = Substring(s)
            var negative = false
            if digits.first == "-" || digits.first == "+" {
                negative = digits.first == "-"
                digits = digits.dropFirst()
            }
            let prefixes = [16: "0x", 8: "0o", 2: "0b"]
            if radix == 0 {
                // Python's base 0: the prefix says.
                radix = prefixes.first { digits.lowercased().hasPrefix($0.value) }?.key ?? 10
            }
            if (2...36).contains(radix) {
                if let prefix = prefixes[radix], digits.lowercased().hasPrefix(prefix) { digits = digits.dropFirst(2) }
                if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), let magnitude = UInt(digits, radix: radix) {
                    if negative, magnitude == Int.min.magnitude { return .int(.min) }
                    guard let i = Int(exactly: magnitude) else { throw TemplateError("integer \(raw) is out of range", line: line) }
                    return .int(negative ? -i : i)
                }
            }
            // Jinja's int falls back to int(float(value)): "3.7" is 3, whatever the base.
            if let d = pythonDouble(s), !d.isNaN { return try whole(d, line: line) }
            return fallback
        default: return fallback
        }
    }

    /// Python's `float(text)` for decimal text: Swift's reader also takes hex floats, Python's not.
    static func pythonDouble(_ text: String) -> Double? {
        guard !text.contains(where: { $0 == "x" || $0 == "X" || $0 == "p" || $0 == "P" }) else { return nil }
        return Double(text)
    }

    /// `int(d)` for a finite double inside Int's range.
    static func whole(_ d: Double, line: Int?) throws(TemplateError) -> Value {
        if d.isInfinite { throw TemplateError("cannot convert float infinity to integer", line: line) }
        guard let i = Int(exactly: d.rounded(.towardZero)) else { throw TemplateError("integer \(Value.pythonFloat(d)) is out of range", line: line) }
        return .int(i)
    }

    static func float(_ value: Value, default fallback: Value) -> Value {
        switch value {
        case .float: return value
        case .int(let i): return .float(Double(i))
        case .bool(let b): return .float(b ? 1 : 0)
        case .string(let s):
            let trimmed = Strings.strip(s, nil, leading: true, trailing: true)
            switch trimmed.lowercased() {
            case "inf", "+inf", "infinity": return .float(.infinity)
            case "-inf", "-infinity": return .float(-.infinity)
            case "nan": return .float(.nan)
            default: return pythonDouble(trimmed).map { .float($0) } ?? fallback
            }
        default: return fallback
        }
    }

    /// Ansible's `bool`: yes/on/true/1 and their opposites, case-insensitive.
    static func bool(_ value: Value) -> Value {
        switch value {
        case .bool: return value
        case .none: return .bool(false)
        case .int(let i): return .bool(i == 1)
        case .float(let d): return .bool(d == 1)
        case .string(let s):
            return .bool(["yes", "on", "1", "true", "y", "t"].contains(Strings.strip(s, nil, leading: true, trailing: true).lowercased()))
        default: return .bool(false)
        }
    }
}

/// Python's `shlex.quote`: a word left bare when it holds only `\w@%+=:,./-` (ASCII).
public func pythonShlexQuote(_ word: String) -> String { Paths.shellQuote(word) }

/// Python's `os.path` and `shlex.quote` for the filters that take paths.
enum Paths {
    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        let head = path[...slash]
        // Trailing slashes go, unless the head is all slashes.
        let trimmed = head.reversed().drop { $0 == "/" }
        return trimmed.isEmpty ? String(head) : String(trimmed.reversed())
    }

    static func splitext(_ path: String) -> (String, String) {
        let name = basename(path)
        guard let dot = name.lastIndex(of: "."), name[..<dot].contains(where: { $0 != "." }) else { return (path, "") }
        let ext = String(name[dot...])
        return (String(path.dropLast(ext.count)), ext)
    }

    static func shellQuote(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let safe = s.unicodeScalars.allSatisfy { c in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || "@%+=:,./-_".unicodeScalars.contains(c)
        }
        return safe ? s : "'" + s.replacing("'", with: "'\"'\"'") + "'"
    }
}
