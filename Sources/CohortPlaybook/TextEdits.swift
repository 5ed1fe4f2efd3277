import CohortTemplate

/// What `blockinfile` and `replace` make of a file's text, as Ansible's modules decide it.
public enum BlockInFile {
    public struct Arguments: Sendable {
        public var block = ""
        public var marker = "# {mark} ANSIBLE MANAGED BLOCK"
        public var markerBegin = "BEGIN"
        public var markerEnd = "END"
        public var insertAfter: String?
        public var insertBefore: String?
        public var present = true
        public var appendNewline = false
        public var prependNewline = false

        public init() {}
    }

    /// `original` is nil for a file that does not exist yet.
    public static func apply(_ original: String?, _ args: Arguments) throws(TemplateError) -> (text: String, changed: Bool, message: String) {
        var lines = LineInFile.split(original ?? "")
        var insertAfter = args.insertAfter
        if args.insertBefore == nil, insertAfter == nil { insertAfter = "EOF" }
        var pattern: PythonRegex?
        if let after = insertAfter, after != "EOF" {
            pattern = try PythonRegex(after)
        } else if let before = args.insertBefore, before != "BOF" {
            pattern = try PythonRegex(before)
        }
        let begin = args.marker.replacing("{mark}", with: args.markerBegin) + "\n"
        let end = args.marker.replacing("{mark}", with: args.markerEnd) + "\n"
        var blockLines: [String] = []
        if args.present, !args.block.isEmpty {
            let block = args.block.hasSuffix("\n") ? args.block : args.block + "\n"
            blockLines = [begin] + LineInFile.split(block) + [end]
        }
        var n0: Int?
        var n1: Int?
        for (i, line) in lines.enumerated() {
            if line == begin { n0 = i }
            if line == end { n1 = i }
        }
        var at: Int
        if let first = n0, let last = n1 {
            if first < last {
                lines.removeSubrange(first...last)
                at = first
            } else {
                lines.removeSubrange(last...first)
                at = last
            }
        } else if let pattern {
            var found: Int?
            for (i, line) in lines.enumerated() where try pattern.firstMatch(line) != nil { found = i }
            if let found { at = insertAfter != nil ? found + 1 : found } else { at = lines.count }
        } else if args.insertBefore != nil {
            at = 0
        } else {
            at = lines.count
        }
        if at > 0, !lines[at - 1].hasSuffix("\n") { lines[at - 1] += "\n" }
        if args.prependNewline, args.present, at != 0, lines[at - 1] != "\n" {
            lines.insert("\n", at: at)
            at += 1
        }
        lines.insert(contentsOf: blockLines, at: at)
        if args.appendNewline, args.present {
            let after = at + blockLines.count
            if after < lines.count, lines[after] != "\n" { lines.insert("\n", at: after) }
        }
        let result = lines.joined()
        if original == result { return (result, false, "") }
        if original == nil { return (result, true, "File created") }
        return (result, true, blockLines.isEmpty ? "Block removed" : "Block inserted")
    }
}

public enum Replace {
    /// `regexp` is multiline, as in the module; `after`/`before` bound the section it works in.
    public static func apply(_ contents: String, regexp: String, replacement: String, after: String?, before: String?) throws(TemplateError)
        -> (text: String, changed: Bool, message: String)
    {
        var section = contents[...]
        var pattern: String?
        if let after, !after.isEmpty, let before, !before.isEmpty {
            pattern = "\(after)(?P<subsection>.*?)\(before)"
        } else if let after, !after.isEmpty {
            pattern = "\(after)(?P<subsection>.*)"
        } else if let before, !before.isEmpty {
            pattern = "(?P<subsection>.*)\(before)"
        }
        var bounds: Range<String.Index>?
        if let pattern {
            guard let found = try PythonRegex(pattern, dotAll: true).firstRange(contents, group: "subsection"), let group = found.group else {
                return (contents, false, "Pattern for before/after params did not match the given file: \(pattern)")
            }
            bounds = group
            section = contents[group]
        }
        let (replaced, count) = try PythonRegex(regexp, multiline: true).replaceCounting(String(section), with: replacement)
        guard count > 0, replaced != section else { return (contents, false, "") }
        let text = bounds.map { String(contents[..<$0.lowerBound]) + replaced + String(contents[$0.upperBound...]) } ?? replaced
        return (text, true, "\(count) replacements made")
    }
}
