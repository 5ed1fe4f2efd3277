/// A pattern written for Python's `re`, run by Swift's `Regex`: the syntax playbooks use is
/// shared; Python's named groups (`(?P<n>…)`, `(?P=n)`) and `\Z` are rewritten, matching is
/// by Unicode scalar as in Python. Differences are listed in docs/playbooks.md.
public struct PythonRegex: @unchecked Sendable {
    // @unchecked: a compiled Regex is immutable; it is not marked Sendable by the stdlib.
    let regex: Regex<AnyRegexOutput>

    public init(_ pattern: String, ignoreCase: Bool = false, multiline: Bool = false, dotAll: Bool = false, line: Int? = nil) throws(TemplateError) {
        var swift = multiline ? pattern : Self.pythonDollar(pattern)
        swift = swift.replacing("(?P<", with: "(?<")
        swift = swift.replacing(#/\(\?P=(\w+)\)/#) { "\\k<\($0.output.1)>" }
        swift = swift.replacing(#"\Z"#, with: #"\z"#)
        do {
            var regex = try Regex(swift).matchingSemantics(.unicodeScalar)
            if ignoreCase { regex = regex.ignoresCase() }
            if multiline { regex = regex.anchorsMatchLineEndings() }
            if dotAll { regex = regex.dotMatchesNewlines() }
            self.regex = regex
        } catch {
            throw TemplateError("invalid regular expression '\(pattern)': \(error)", line: line)
        }
    }

    /// Python's `$` (outside multiline mode) matches at the end and before a final newline;
    /// Swift's only at the end: each unescaped `$` outside a class becomes `(?=\n?\z)`.
    static func pythonDollar(_ pattern: String) -> String {
        var out = ""
        var inClass = false
        var escaped = false
        for c in pattern {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                out.append(c)
                escaped = true
            } else if c == "[" {
                inClass = true
                out.append(c)
            } else if c == "]" {
                inClass = false
                out.append(c)
            } else if c == "$", !inClass {
                out += "(?=\\n?\\z)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The first match's range, and that of its named group `group` when given.
    public func firstRange(_ text: String, group: String? = nil) -> (whole: Range<String.Index>, group: Range<String.Index>?)? {
        guard let match = firstMatch(text) else { return nil }
        return (match.range, group.flatMap { match.output[$0]?.range })
    }

    public func firstMatch(_ text: String) -> Regex<AnyRegexOutput>.Match? {
        (try? regex.firstMatch(in: text)) ?? nil
    }

    func matchesStart(_ text: String) -> Bool {
        ((try? regex.prefixMatch(in: text)) ?? nil) != nil
    }

    /// `re.sub`: `\1`, `\g<1>`, `\g<name>` in `replacement` are groups; `count` 0 is all.
    public func replace(_ text: String, with replacement: String, count: Int = 0, line: Int? = nil) throws(TemplateError) -> String {
        try replaceCounting(text, with: replacement, count: count, line: line).text
    }

    /// `re.subn`: the text and how many replacements were made.
    public func replaceCounting(_ text: String, with replacement: String, count: Int = 0, line: Int? = nil) throws(TemplateError) -> (text: String, count: Int) {
        var out = ""
        var rest = text[...]
        var done = 0
        var position = text.startIndex
        for match in text.matches(of: regex) {
            if count > 0, done == count { break }
            out += text[position..<match.range.lowerBound]
            out += try expand(replacement, match, line: line)
            position = match.range.upperBound
            done += 1
        }
        rest = text[position...]
        return (out + rest, done)
    }

    /// Every match: the whole match when the pattern has no group, the group when one, a list
    /// of groups when several (`re.findall`).
    func findAll(_ text: String) -> [Value] {
        text.matches(of: regex).map { match in
            let groups = match.output.dropFirst().map { $0.substring.map { Value.string(String($0)) } ?? .string("") }
            if groups.isEmpty { return .string(String(text[match.range])) }
            return groups.count == 1 ? groups[0] : .list(groups)
        }
    }

    static func group(_ match: Regex<AnyRegexOutput>.Match, _ reference: String) -> String? {
        if let index = Int(reference) {
            guard index < match.output.count else { return nil }
            return match.output[index].substring.map(String.init) ?? ""
        }
        guard let group = match.output[reference] else { return nil }
        return group.substring.map(String.init) ?? ""
    }

    /// `match.expand(template)`: the groups a replacement names, filled in.
    public func expand(_ template: String, _ match: Regex<AnyRegexOutput>.Match, line: Int? = nil) throws(TemplateError) -> String {
        var out = ""
        var chars = Array(template)[...]
        while let c = chars.popFirst() {
            guard c == "\\", let next = chars.first else {
                out.append(c)
                continue
            }
            chars.removeFirst()
            if next.isNumber {
                var digits = String(next)
                if let more = chars.first, more.isNumber {
                    digits.append(more)
                    chars.removeFirst()
                }
                guard let group = Self.group(match, digits) else { throw TemplateError("invalid group reference \(digits)", line: line) }
                out += group
            } else if next == "g", chars.first == "<", let close = chars.firstIndex(of: ">") {
                let name = String(chars[chars.index(after: chars.startIndex)..<close])
                guard let group = Self.group(match, name) else { throw TemplateError("invalid group reference \(name)", line: line) }
                out += group
                chars = chars[chars.index(after: close)...]
            } else {
                switch next {
                case "n": out += "\n"
                case "t": out += "\t"
                case "\\": out += "\\"
                default: out += "\\" + String(next)
                }
            }
        }
        return out
    }
}
