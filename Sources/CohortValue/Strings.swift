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
    package static func join(
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
    package static func replace(_ s: String, _ old: String, _ new: String, count: Int, maxSize: Int, line: Int) throws(TemplateError) -> String {
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

    package static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    package static func title(_ s: String) -> String {
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
    package func components(separatedBy separator: String) -> [String] {
        guard !separator.isEmpty else { return [self] }
        return split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}
