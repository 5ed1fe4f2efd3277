import CohortValue

/// A pattern written for Python's `re`, run by Cohort's own backtracking engine
/// (`RegexMachine`): Python's syntax and match semantics (by Unicode scalar, leftmost,
/// greedy or lazy, `$` before a final newline, empty matches as `re.sub` finds them), and a
/// step budget, so that a pattern from a playbook over text from a host can neither crash
/// nor hang the coordinator. Differences are listed in docs/playbooks.md.
public struct PythonRegex: Sendable {
    let program: RegexProgram
    let names: [String: Int]
    public let groupCount: Int

    /// Python's `re.escape` (3.7+): a backslash before only the characters special in a
    /// pattern. By scalars: `"\r\n"` is one Swift Character, two escapes in Python.
    public static func escape(_ text: String) -> String {
        let special = Set("()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".unicodeScalars)
        var out = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if special.contains(c) { out.append("\\") }
            out.append(c)
        }
        return String(out)
    }

    public init(_ pattern: String, ignoreCase: Bool = false, multiline: Bool = false, dotAll: Bool = false, line: Int? = nil) throws(TemplateError) {
        do {
            let flags = RegexParser.Flags(ignoreCase: ignoreCase, multiline: multiline, dotAll: dotAll)
            let (node, groups, names) = try RegexParser.parse(pattern, flags: flags)
            program = try RegexProgram(node, groups: groups)
            self.names = names
            groupCount = groups
        } catch {
            throw TemplateError("invalid regular expression '\(pattern)': \(error.message)", line: line)
        }
    }

    /// One match: the whole and each group, as ranges of the text searched.
    public struct Match: Sendable {
        public let range: Range<String.Index>
        let groups: [Range<String.Index>?]
        let names: [String: Int]
        let text: String

        /// Group `index` (0 is the whole match): nil when it took no part in the match.
        public func group(_ index: Int) -> Substring? {
            guard index < groups.count, let range = groups[index] else { return nil }
            return text[range]
        }

        public func range(named name: String) -> Range<String.Index>? {
            names[name].flatMap { groups[$0] }
        }
    }

    /// The text as the machine sees it, and where each scalar starts in the String.
    struct Subject {
        let text: String
        let scalars: [Unicode.Scalar]
        let indices: [String.Index]

        init(_ text: String) {
            self.text = text
            scalars = Array(text.unicodeScalars)
            indices = Array(text.unicodeScalars.indices) + [text.endIndex]
        }

        func match(_ slots: [Int], names: [String: Int]) -> Match {
            var groups: [Range<String.Index>?] = []
            for g in 0..<(slots.count / 2) {
                let s = slots[2 * g], e = slots[2 * g + 1]
                groups.append(s >= 0 && e >= s ? indices[s]..<indices[e] : nil)
            }
            return Match(range: groups[0]!, groups: groups, names: names, text: text)
        }
    }

    private func fail(_ error: RegexError, _ line: Int?) -> TemplateError {
        TemplateError(error.message, line: line)
    }

    /// The first match's range, and that of its named group `group` when given.
    public func firstRange(_ text: String, group: String? = nil, line: Int? = nil) throws(TemplateError) -> (whole: Range<String.Index>, group: Range<String.Index>?)? {
        guard let match = try firstMatch(text, line: line) else { return nil }
        return (match.range, group.flatMap { match.range(named: $0) })
    }

    /// `re.search`.
    public func firstMatch(_ text: String, line: Int? = nil) throws(TemplateError) -> Match? {
        let subject = Subject(text)
        var machine = RegexMachine(program, subject.scalars)
        do {
            return try machine.search(from: 0, anchored: false).map { subject.match($0, names: names) }
        } catch { throw fail(error, line) }
    }

    /// `re.match`: at the start only.
    public func matchesStart(_ text: String, line: Int? = nil) throws(TemplateError) -> Bool {
        let subject = Subject(text)
        var machine = RegexMachine(program, subject.scalars)
        do { return try machine.search(from: 0, anchored: true) != nil } catch { throw fail(error, line) }
    }

    /// `re.finditer`, each match's groups as `findall` gives them ("" for a group that took
    /// no part).
    public func allMatches(_ text: String, line: Int? = nil) throws(TemplateError) -> [[String]] {
        try matches(text, line: line).1.map { match in (1...max(1, groupCount)).map { String(match.group($0) ?? "") } }
    }

    /// `re.finditer`: after an empty match the next may not be empty at the same place.
    func matches(_ text: String, limit: Int = 0, line: Int?) throws(TemplateError) -> (Subject, [Match]) {
        let subject = Subject(text)
        var machine = RegexMachine(program, subject.scalars)
        var found: [Match] = []
        var position = 0
        var emptyAt: Int?
        do {
            while position <= subject.scalars.count, limit == 0 || found.count < limit {
                guard let slots = try machine.search(from: position, anchored: false, notEmptyAt: emptyAt) else { break }
                found.append(subject.match(slots, names: names))
                position = slots[1]
                emptyAt = slots[0] == slots[1] ? slots[1] : nil
            }
        } catch { throw fail(error, line) }
        return (subject, found)
    }

    /// `re.sub`: `\1`, `\g<1>`, `\g<name>` in `replacement` are groups; `count` 0 is all.
    public func replace(_ text: String, with replacement: String, count: Int = 0, line: Int? = nil) throws(TemplateError) -> String {
        try replaceCounting(text, with: replacement, count: count, line: line).text
    }

    /// `re.subn`: the text and how many replacements were made.
    public func replaceCounting(_ text: String, with replacement: String, count: Int = 0, line: Int? = nil) throws(TemplateError) -> (text: String, count: Int) {
        let (_, found) = try matches(text, limit: max(0, count), line: line)
        var out = ""
        var position = text.startIndex
        for match in found {
            out += text[position..<match.range.lowerBound]
            out += try expand(replacement, match, line: line)
            position = match.range.upperBound
        }
        return (out + text[position...], found.count)
    }

    /// Every match: the whole match when the pattern has no group, the group when one, a list
    /// of groups when several (`re.findall`).
    package func findAll(_ text: String, line: Int? = nil) throws(TemplateError) -> [Value] {
        try matches(text, line: line).1.map { match in
            let groups = (1..<(groupCount + 1)).map { Value.string(String(match.group($0) ?? "")) }
            if groups.isEmpty { return .string(String(match.group(0) ?? "")) }
            return groups.count == 1 ? groups[0] : .list(groups)
        }
    }

    /// A group by number or name: nil when there is no such group, "" when it took no part.
    package static func group(_ match: Match, _ reference: String) -> String? {
        if let index = Int(reference) {
            guard index < match.groups.count else { return nil }
            return match.group(index).map(String.init) ?? ""
        }
        guard let index = match.names[reference] else { return nil }
        return match.group(index).map(String.init) ?? ""
    }

    /// `match.expand(template)`: the groups a replacement names, filled in.
    public func expand(_ template: String, _ match: Match, line: Int? = nil) throws(TemplateError) -> String {
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
