/// An INI file as community.general's `ini_file` module (collection 12.3.0) edits it, line
/// for line (its `do_ini`): the lines between a fake first section and a `[` sentinel, the
/// wanted section found by its `^\[\s*NAME\s*]` header (and `section_has_values`), options
/// matched by its two expressions (`match_opt` also finds `#`/`;` commented ones), values
/// replaced, added after the section's last line that is neither blank nor a comment,
/// removed, the section added at the end when missing.
public enum IniFile {
    public struct Condition: Sendable {
        public var option: String
        public var values: [String]
        public init(option: String, values: [String]) {
            self.option = option
            self.values = values
        }
    }

    public struct Request: Sendable {
        public var section: String?
        public var sectionHasValues: [Condition]?
        public var option: String?
        public var values: [String]
        public var present = true
        public var exclusive = true
        public var noExtraSpaces = false
        public var ignoreSpaces = false
        public var allowNoValue = false
        public var modifyInactiveOption = true
        public init(section: String?, option: String?, values: [String]) {
            self.section = section
            self.option = option
            self.values = values
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var text: String
        public var changed: Bool
        public var message: String
    }

    /// Python's text read of the file (utf-8-sig, universal newlines), as lines with ends.
    public static func lines(_ text: String) -> [String] {
        var body = Substring(text)
        if body.unicodeScalars.first == "\u{FEFF}" { body = Substring(body.unicodeScalars.dropFirst()) }
        var out: [String] = [], current = String.UnicodeScalarView()
        var scalars = Array(body.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if c == "\r" || c == "\n" {
                if c == "\r", scalars.first == "\n" { scalars = scalars.dropFirst() }
                current.append("\n")
                out.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    /// `match_opt` (commented lines too) and `match_active_opt`: group 2 (the comment mark)
    /// and group 8 (the value: the rest of the line without its end).
    static func match(_ option: String, _ line: String, inactiveToo: Bool) -> (mark: String, value: String)? {
        var s = Array(line.unicodeScalars)[...]
        let blank = { (c: Unicode.Scalar) in c == " " || c == "\t" }
        s = s.drop(while: blank)
        var mark = ""
        if inactiveToo, let c = s.first, c == "#" || c == ";" {
            mark = String(c)
            s = s.dropFirst()
        }
        s = s.drop(while: blank)
        let wanted = Array(option.unicodeScalars)
        guard s.starts(with: wanted) else { return nil }
        s = s.dropFirst(wanted.count)
        s = s.drop(while: blank)
        if s.first == "=" {
            s = s.dropFirst()
        } else if !(s.isEmpty || (s.count == 1 && s.first == "\n")) {
            return nil
        }
        s = s.drop(while: blank)
        var value = String.UnicodeScalarView()
        for c in s {
            if c == "\n" { break }
            value.append(c)
        }
        return (mark, String(value))
    }

    /// `^[ \t]*([#;].*)?$`: blank, or a comment.
    static func blankOrComment(_ line: String) -> Bool {
        var s = Array(line.unicodeScalars)[...]
        s = s.drop { $0 == " " || $0 == "\t" }
        if s.isEmpty || (s.count == 1 && s.first == "\n") { return true }
        guard let c = s.first, c == "#" || c == ";" else { return false }
        // `.*` stops at a line end; `$` takes only the last one.
        let rest = s.dropFirst()
        guard let newline = rest.firstIndex(of: "\n") else { return true }
        return newline == rest.index(before: rest.endIndex)
    }

    /// `^\[\s*NAME\s*]` with NAME stripped.
    static func isHeader(_ line: String, of section: String) -> Bool {
        let isSpace = { (c: Unicode.Scalar) in c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" }
        let name = Array(Array(Array(section.unicodeScalars.drop(while: isSpace)).reversed().drop(while: isSpace)).reversed())
        var s = Array(line.unicodeScalars)[...]
        guard s.first == "[" else { return false }
        s = s.dropFirst().drop(while: isSpace)
        guard s.starts(with: name) else { return false }
        s = s.dropFirst(name.count).drop(while: isSpace)
        return s.first == "]"
    }

    public static func edit(_ original: [String], _ request: Request) -> Outcome {
        var values: [String] = []
        for value in request.values where !values.contains(value) { values.append(value) }
        let option = request.option
        var changed = false
        var lines = original
        if lines.isEmpty { lines.append("\n") }
        if lines[lines.count - 1].isEmpty || !lines[lines.count - 1].hasSuffix("\n") {
            lines[lines.count - 1] += "\n"
            changed = true
        }
        let fake = "ad01e11446efb704fcdbdb21f2c43757423d91c5"
        lines.insert("[\(fake)]", at: 0)
        lines.append("[")
        let section = (request.section?.isEmpty ?? true) ? fake : request.section!
        var within = false
        var start = 0, end = 0
        var message = "OK"
        let format = { (name: String, value: String) in request.noExtraSpaces ? "\(name)=\(value)\n" : "\(name) = \(value)\n" }
        var noValuePresent = false
        for (index, line) in lines.enumerated() {
            if within, line.hasPrefix("[") {
                if hasValues(request.sectionHasValues, Array(lines[start..<index])) {
                    end = index
                    break
                }
                within = false
                start = 0
                end = 0
            }
            if isHeader(line, of: section) {
                within = true
                start = index
            }
        }
        let before = Array(lines[0..<start])
        var sectionLines = Array(lines[start..<end])
        let after = Array(lines[end...])
        var changedLines = [Bool](repeating: false, count: sectionLines.count)
        let matches = { (name: String, line: String) in match(name, line, inactiveToo: request.modifyInactiveOption) }

        func update(_ index: Int, _ newline: String) {
            var optionChanged: Bool?
            if request.ignoreSpaces, let name = option, let old = match(name, sectionLines[index], inactiveToo: true), old.mark.isEmpty {
                optionChanged = old.value != match(name, newline, inactiveToo: true)?.value
            }
            let differs = optionChanged ?? (sectionLines[index] != newline)
            if differs {
                sectionLines[index] = newline
                message = "option changed"
            }
            changed = changed || differs
            changedLines[index] = true
        }

        if request.present, let name = option, !name.isEmpty {
            for index in sectionLines.indices {
                guard let found = matches(name, sectionLines[index]) else { continue }
                if !values.isEmpty, values.contains(found.value) {
                    let newline: String
                    if found.value.isEmpty, request.allowNoValue {
                        newline = "\(name)\n"
                        noValuePresent = true
                    } else {
                        newline = format(name, found.value)
                    }
                    update(index, newline)
                    values.remove(at: values.firstIndex(of: found.value)!)
                } else if values.isEmpty, request.allowNoValue {
                    update(index, "\(name)\n")
                    noValuePresent = true
                    break
                }
            }
        }
        if request.present, request.exclusive, !request.allowNoValue {
            let name = option ?? ""
            if !values.isEmpty {
                for index in sectionLines.indices where !changedLines[index] && matches(name, sectionLines[index]) != nil {
                    update(index, format(name, values.removeFirst()))
                    if values.isEmpty { break }
                }
            }
            var index = sectionLines.count - 1
            while index > 0 {
                if !changedLines[index], matches(name, sectionLines[index]) != nil {
                    sectionLines.remove(at: index)
                    changedLines.remove(at: index)
                    changed = true
                    message = "option changed"
                }
                index -= 1
            }
        }
        if request.present {
            var index = sectionLines.count
            while index > 0 {
                if !blankOrComment(sectionLines[index - 1]) {
                    if let name = option, !name.isEmpty, !values.isEmpty {
                        for element in values.reversed() {
                            sectionLines.insert(format(name, element), at: index)
                            message = "option added"
                            changed = true
                        }
                    } else if let name = option, !name.isEmpty, values.isEmpty, request.allowNoValue, !noValuePresent {
                        sectionLines.insert("\(name)\n", at: index)
                        message = "option added"
                        changed = true
                    }
                    break
                }
                index -= 1
            }
        }
        if !request.present {
            if let name = option, !name.isEmpty {
                let kept: [String]
                if request.exclusive {
                    kept = sectionLines.filter { match(name, $0, inactiveToo: false) == nil }
                } else if !values.isEmpty {
                    kept = sectionLines.filter { line in !(match(name, line, inactiveToo: false).map { values.contains($0.value) } ?? false) }
                } else {
                    kept = sectionLines
                }
                if kept != sectionLines {
                    changed = true
                    message = "option changed"
                    sectionLines = kept
                }
            } else if !sectionLines.isEmpty {
                sectionLines = []
                message = "section removed"
                changed = true
            }
        }
        var out = before + sectionLines + after
        out.removeFirst()
        out.removeLast()
        if !within, request.present {
            out.append("[\(section)]\n")
            message = "section and option added"
            for condition in request.sectionHasValues ?? [] {
                if condition.option != option {
                    if !condition.values.isEmpty {
                        for value in condition.values { out.append(format(condition.option, value)) }
                    } else if request.allowNoValue {
                        out.append("\(condition.option)\n")
                    }
                } else if !request.exclusive {
                    for value in condition.values where !values.contains(value) { values.append(value) }
                }
            }
            if let name = option, !name.isEmpty, !values.isEmpty {
                for value in values { out.append(format(name, value)) }
            } else if let name = option, !name.isEmpty, values.isEmpty, request.allowNoValue {
                out.append("\(name)\n")
            } else {
                message = "only section added"
            }
            changed = true
        }
        return Outcome(text: out.joined(), changed: changed, message: message)
    }

    /// `check_section_has_values`: every condition met by some line of the section.
    static func hasValues(_ conditions: [Condition]?, _ lines: [String]) -> Bool {
        guard let conditions else { return true }
        return conditions.allSatisfy { condition in
            lines.contains { line in
                guard let found = match(condition.option, line, inactiveToo: true) else { return false }
                return condition.values.isEmpty || condition.values.contains(found.value)
            }
        }
    }
}
