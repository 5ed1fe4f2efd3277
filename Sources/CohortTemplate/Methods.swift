/// The Python methods people call in templates: `x.split(',')`, `d.get('k', 0)`, `d.items()`.
enum Methods {
    static func call(_ object: Value, _ name: String, _ args: [Value], _ kwargs: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> Value {
        func arg(_ i: Int) -> Value? { i < args.count ? args[i] : nil }
        func text(_ i: Int, _ what: String) throws(TemplateError) -> String {
            guard case .string(let s)? = arg(i) else { throw TemplateError("\(name)() argument \(i + 1) must be str (\(what))", line: line) }
            return s
        }
        if case .temporal(let t) = object, let result = try t.method(name, args, kwargs, line: line) { return result }
        switch (object, name) {
        case (.string(let s), "split"), (.string(let s), "rsplit"):
            let limit: Int? = if case .int(let n)? = arg(1) ?? kwargs["maxsplit"], n >= 0 { n } else { nil }
            let separator: String? = if case .string(let sep)? = arg(0) ?? kwargs["sep"] { sep } else { nil }
            if let separator, separator.isEmpty { throw TemplateError("empty separator", line: line) }
            var parts = Strings.split(s, separator: separator, limit: limit, fromRight: name == "rsplit")
            if separator == nil { parts = parts.filter { !$0.isEmpty } }
            return .list(parts.map { .string($0) })
        case (.string(let s), "splitlines"):
            return .list(Strings.lines(s).map { .string($0) })
        case (.string(let s), "strip"), (.string(let s), "lstrip"), (.string(let s), "rstrip"):
            let set: Set<Character>? = if case .string(let chars)? = arg(0) { Set(chars) } else { nil }
            return .string(Strings.strip(s, set, leading: name != "rstrip", trailing: name != "lstrip"))
        case (.string(let s), "startswith"), (.string(let s), "endswith"):
            var prefixes: [String] = []
            switch arg(0) {
            case .string(let p)?: prefixes = [p]
            case .list(let l)?: prefixes = l.compactMap(\.string)
            default: throw TemplateError("\(name) first arg must be str or a tuple of str", line: line)
            }
            return .bool(prefixes.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        case (.string(let s), "replace"):
            let old = try text(0, "old"), new = try text(1, "new")
            var count = -1
            if case .int(let n)? = arg(2) { count = n }
            return .string(try Strings.replace(s, old, new, count: count, maxSize: maxSize, line: line))
        case (.string(let s), "lower"): return .string(s.lowercased())
        case (.string(let s), "upper"): return .string(s.uppercased())
        case (.string(let s), "capitalize"): return .string(Strings.capitalize(s))
        case (.string(let s), "title"): return .string(Strings.title(s))
        case (.string(let s), "join"):
            guard let items = try arg(0)?.elements() else { throw TemplateError("join() takes exactly one argument", line: line) }
            return .string(
                try Strings.join(items, separator: s, maxSize: maxSize, line: line) { item throws(TemplateError) in
                    guard case .string(let piece) = item else { throw TemplateError("sequence item: expected str instance, \(item.typeName) found", line: line) }
                    return piece
                })
        case (.string(let s), "find"):
            let needle = try text(0, "sub")
            guard let range = s.firstRange(of: needle) else { return .int(-1) }
            return .int(s.distance(from: s.startIndex, to: range.lowerBound))
        case (.string(let s), "count"):
            let needle = try text(0, "sub")
            return .int(Strings.split(s, separator: needle, limit: nil, fromRight: false).count - 1)
        case (.string(let s), "isdigit"): return .bool(!s.isEmpty && s.allSatisfy { $0.isNumber })
        case (.string(let s), "isalpha"): return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter })
        case (.string(let s), "format"):
            var out = ""
            var rest = args[...]
            var chars = Array(s)[...]
            while let c = chars.popFirst() {
                if c == "{", chars.first == "}" {
                    chars.removeFirst()
                    out += try rest.popFirst()?.boundedString(maxSize, line: line) ?? ""
                    guard out.utf8.count <= maxSize else { throw TemplateError("format: a string over \(maxSize) bytes", line: line) }
                } else {
                    out.append(c)
                }
            }
            return .string(out)
        case (.list(let l), "index"):
            guard let target = arg(0), let at = l.firstIndex(of: target) else { throw TemplateError("value is not in list", line: line) }
            return .int(at)
        case (.list(let l), "count"):
            return .int(l.filter { $0 == arg(0) ?? .none }.count)
        case (.dict(let d), "keys"): return .list(d.keys)
        case (.dict(let d), "values"): return .list(d.values)
        case (.dict(let d), "items"): return .list(d.pairs.map { .list([$0.key, $0.value]) })
        case (.dict(let d), "get"):
            guard let key = arg(0) else { throw TemplateError("get expected at least 1 argument", line: line) }
            return d[key] ?? arg(1) ?? .none
        default:
            throw TemplateError("'\(Access.objectName(object))' has no method '\(name)'", line: line)
        }
    }
}

/// String helpers with Python's meaning (modules parse command output with them too).
public enum Strings {
    public static func split(_ s: String, separator: String?, limit: Int?, fromRight: Bool) -> [String] {
        guard let separator else {
            let words = s.split(whereSeparator: { $0.isWhitespace }).map(String.init)
            guard let limit, words.count - 1 > limit else { return words }
            // Python keeps the rest of the string, whitespace inside it included.
            if fromRight {
                return [words.dropLast(limit).joined(separator: " ")] + words.suffix(limit)
            }
            var rest = Substring(s).drop { $0.isWhitespace }
            var out: [String] = []
            for _ in 0..<limit {
                let end = rest.firstIndex { $0.isWhitespace } ?? rest.endIndex
                out.append(String(rest[..<end]))
                rest = rest[end...].drop { $0.isWhitespace }
            }
            return out + [String(rest)]
        }
        var parts = s.components(separatedBy: separator)
        if let limit, parts.count - 1 > limit {
            if fromRight {
                let head = parts.dropLast(limit).joined(separator: separator)
                parts = [head] + parts.suffix(limit)
            } else {
                let tail = parts.dropFirst(limit).joined(separator: separator)
                parts = Array(parts.prefix(limit)) + [tail]
            }
        }
        return parts
    }

    /// Python's `str.splitlines()`: every line boundary Python knows (`\r\n` once, a lone
    /// `\r`, `\v`, `\f`, `\x1c`-`\x1e`, `\x85`, U+2028/2029), no final empty line. Read by
    /// scalars: `"\r\n"` is one Swift Character, which a split on `"\n"` never finds.
    public static func lines(_ text: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for scalar in text.unicodeScalars {
            if previousCR, scalar == "\n" {
                previousCR = false
                continue
            }
            previousCR = scalar == "\r"
            switch scalar.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                out.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    public static func strip(_ s: String, _ set: Set<Character>?, leading: Bool, trailing: Bool) -> String {
        let drop: (Character) -> Bool = { set?.contains($0) ?? $0.isWhitespace }
        var sub = Substring(s)
        if leading { sub = sub.drop(while: drop) }
        if trailing {
            while let last = sub.last, drop(last) { sub = sub.dropLast() }
        }
        return String(sub)
    }

    /// `separator.join(text(item) for item in items)`, refused as soon as it is known to be
    /// over `maxSize` (each piece is made and counted before the next).
    static func join(
        _ items: [Value], separator: String, maxSize: Int, line: Int, text: (Value) throws(TemplateError) -> String
    ) throws(TemplateError) -> String {
        var size = 0
        var pieces: [String] = []
        for item in items {
            let piece = try text(item)
            size += piece.utf8.count + separator.utf8.count
            guard size <= maxSize + separator.utf8.count else { throw TemplateError("join: a string over \(maxSize) bytes", line: line) }
            pieces.append(piece)
        }
        return pieces.joined(separator: separator)
    }

    /// Python's `str.replace`: a negative count replaces all; the result is bounded before
    /// it is built (a short string can become a long one).
    static func replace(_ s: String, _ old: String, _ new: String, count: Int, maxSize: Int, line: Int) throws(TemplateError) -> String {
        if old.isEmpty { return s }
        var parts = s.components(separatedBy: old)
        if count >= 0, parts.count - 1 > count {
            let tail = parts.dropFirst(count + 1).joined(separator: old)
            parts = Array(parts.prefix(count + 1))
            parts[parts.count - 1] += old + tail
        }
        let size = Checked.sum(s.utf8.count, Checked.product(parts.count - 1, new.utf8.count) ?? .max)
        _ = try Checked.size(size, maxSize, "replace: a string", line: line)
        return parts.joined(separator: new)
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for c in s {
            out += previousIsLetter ? c.lowercased() : c.uppercased()
            previousIsLetter = c.isLetter || c.isNumber || c == "'"
        }
        return out
    }
}

extension String {
    /// Foundation's `components(separatedBy:)`, without Foundation.
    func components(separatedBy separator: String) -> [String] {
        guard !separator.isEmpty else { return [self] }
        return split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}
