import CohortTemplate

/// What `lineinfile` makes of a file's text, as Ansible's module decides it (lines keep their
/// endings; a regexp matches anywhere in a line; the last match wins unless `firstmatch`).
public enum LineInFile {
    public struct Arguments: Sendable {
        public var regexp: String?
        public var searchString: String?
        public var line: String?
        public var insertAfter: String?
        public var insertBefore: String?
        public var backrefs = false
        public var firstMatch = false
        public var present = true

        public init() {}
    }

    public struct Outcome: Equatable, Sendable {
        public var text: String
        public var changed: Bool
        public var message: String
        /// Lines removed (`state: absent`).
        public var found: Int?
    }

    /// `text` is the file's content ("" for a file that does not exist yet).
    public static func apply(_ text: String, _ args: Arguments) throws(TemplateError) -> Outcome {
        var lines = split(text)
        let regex = try args.regexp.map { p throws(TemplateError) in try PythonRegex(p) }
        if !args.present {
            var found = 0
            var kept: [String] = []
            for current in lines {
                let hit: Bool
                if let regex { hit = try regex.firstMatch(current) != nil } else if let s = args.searchString { hit = current.contains(s) } else {
                    hit = strip(current) == (args.line ?? "")
                }
                if hit { found += 1 } else { kept.append(current) }
            }
            lines = kept
            return Outcome(text: lines.joined(), changed: found > 0, message: found > 0 ? "\(found) line(s) removed" : "", found: found)
        }
        let line = args.line ?? ""
        var insertPattern: PythonRegex?
        if let after = args.insertAfter, after != "BOF", after != "EOF" {
            insertPattern = try PythonRegex(after)
        } else if let before = args.insertBefore, before != "BOF" {
            insertPattern = try PythonRegex(before)
        }
        var matchIndex = -1
        var insertIndex = -1
        var match: PythonRegex.Match?
        var matched = false
        if let regex {
            for (number, current) in lines.enumerated() {
                if let found = try regex.firstMatch(current) {
                    matchIndex = number
                    match = found
                    matched = true
                    if args.firstMatch { break }
                }
            }
        }
        if let search = args.searchString {
            for (number, current) in lines.enumerated() where current.contains(search) {
                matchIndex = number
                matched = true
                if args.firstMatch { break }
            }
        }
        if !matched {
            for (number, current) in lines.enumerated() {
                if strip(current) == line {
                    matchIndex = number
                } else if let insertPattern, try insertPattern.firstMatch(current) != nil {
                    if args.insertAfter != nil {
                        insertIndex = number + 1
                        if args.firstMatch { break }
                    }
                    if args.insertBefore != nil {
                        insertIndex = number
                        if args.firstMatch { break }
                    }
                }
            }
        }
        var message = ""
        var changed = false
        func added() {
            message = "line added"
            changed = true
        }
        if matchIndex != -1 {
            var newLine = line
            if args.backrefs, let match, let regex { newLine = try regex.expand(line, match) }
            if !newLine.hasSuffix("\n") { newLine += "\n" }
            // The line found (by regexp, search string or as it is) becomes the line.
            if lines[matchIndex] != newLine {
                lines[matchIndex] = newLine
                message = "line replaced"
                changed = true
            }
        } else if args.backrefs {
            // A backrefs line with no match leaves the file alone.
        } else if args.insertBefore == "BOF" || args.insertAfter == "BOF" {
            lines.insert(line + "\n", at: 0)
            added()
        } else if args.insertAfter == "EOF" || insertIndex == -1 {
            if let last = lines.last, !last.hasSuffix("\n"), !last.hasSuffix("\r") { lines.append("\n") }
            lines.append(line + "\n")
            added()
        } else if args.insertAfter != nil, insertIndex != -1 {
            if lines.count == insertIndex {
                if strip(lines[insertIndex - 1]) != line {
                    lines.append(line + "\n")
                    added()
                }
            } else if line != strip(lines[insertIndex]) {
                lines.insert(line + "\n", at: insertIndex)
                added()
            }
        } else {
            lines.insert(line + "\n", at: insertIndex)
            added()
        }
        return Outcome(text: lines.joined(), changed: changed, message: message, found: nil)
    }

    /// Python's `readlines()`: each line with its newline.
    static func split(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == "\n" || c == "\r\n" {
                lines.append(current)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func strip(_ line: String) -> String {
        var s = Substring(line)
        while let last = s.last, last == "\n" || last == "\r" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
