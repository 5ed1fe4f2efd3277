/// apt's one-line source files as ansible-core 2.19's `apt_repository` reads, edits and
/// writes them (its `SourcesList`): every line kept as (number, valid, enabled, source,
/// comment) and written back normalized (`# ` before a disabled line, one space between a
/// source's words, ` # ` before a comment), a new source in a file named after its host.
public struct AptSources: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var number: Int
        public var valid: Bool
        public var enabled: Bool
        public var source: String
        public var comment: String
    }

    /// The files in the order they were read (sources.list first), each with its lines.
    public private(set) var files: [(path: String, lines: [Line])] = []
    /// Files this edit added a source to, where a given `mode` applies.
    public private(set) var newRepositories: Set<String> = []
    public static let sourceParts = "/etc/apt/sources.list.d"
    public static let defaultFile = "/etc/apt/sources.list"

    public init(_ files: [(path: String, text: String)]) {
        for (path, text) in files {
            var lines: [Line] = []
            // Python's text lines: each ends at "\n" (a last one without is a line too).
            var rows = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if rows.last == "" { rows.removeLast() }
            for (n, row) in rows.enumerated() {
                let (valid, enabled, source, comment) = Self.parse(row)
                lines.append(Line(number: n, valid: valid, enabled: enabled, source: source, comment: comment))
            }
            self.files.append((path, lines))
        }
    }

    public static func == (a: AptSources, b: AptSources) -> Bool { a.dump() == b.dump() }

    static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" }

    static func strip(_ text: Substring) -> String {
        String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    /// ansible-core's `_parse`: a leading `#` disables, a later `#` starts a comment, a line
    /// whose first word is `deb` or `deb-src` is a source (its spaces normalized).
    public static func parse(_ line: String) -> (valid: Bool, enabled: Bool, source: String, comment: String) {
        var text = Substring(strip(Substring(line)))
        var enabled = true, comment = "", valid = false
        if text.hasPrefix("#") {
            enabled = false
            text = text.dropFirst()
        }
        if let hash = text.firstIndex(of: "#"), hash > text.startIndex {
            comment = strip(text[text.index(after: hash)...])
            text = text[..<hash]
        }
        var source = strip(text)
        if !source.isEmpty {
            let words = source.split(whereSeparator: isSpace)
            if let first = words.first, first == "deb" || first == "deb-src" {
                valid = true
                source = words.joined(separator: " ")
            }
        }
        return (valid, enabled, source, comment)
    }

    /// Each file with lines as it would be written; files left without lines are absent.
    public func dump() -> [String: String] {
        var out: [String: String] = [:]
        for (path, lines) in files where !lines.isEmpty {
            out[path] = lines.map { line in
                (line.enabled ? "" : "# ") + line.source + (line.comment.isEmpty ? "" : " # " + line.comment) + "\n"
            }.joined()
        }
        return out
    }

    /// `_suggest_filename`: the host of the source (options, scheme and credentials dropped),
    /// other characters as `_`; `filename` instead when given.
    public static func suggestedFile(_ source: String, filename: String?) -> String {
        if let filename { return filename + ".list" }
        var line = source
        line = line.replacingMatches(open: "[", close: "]")
        // `\w+://` dropped wherever it stands.
        var words = line.split(whereSeparator: isSpace).map { word -> String in
            let chars = Array(word)
            guard let at = (0..<max(0, chars.count - 2)).first(where: { chars[$0] == ":" && chars[$0 + 1] == "/" && chars[$0 + 2] == "/" }) else { return String(word) }
            var begin = at
            while begin > 0, chars[begin - 1].isLetter || chars[begin - 1].isNumber || chars[begin - 1] == "_" { begin -= 1 }
            // `\w+`: at least one word character before `://`, else nothing is dropped.
            guard begin < at else { return String(word) }
            return String(chars[..<begin]) + String(chars[(at + 3)...])
        }.filter { $0 != "deb" && $0 != "deb-src" }
        guard !words.isEmpty else { return ".list" }
        if let at = words[0].firstIndex(of: "@") { words[0] = String(words[0][words[0].index(after: at)...]) }
        let cleaned = words[0].map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : " " }
        return String(cleaned).split(separator: " ").joined(separator: "_") + ".list"
    }

    public enum EditError: Error, Equatable { case invalid(String) }

    static func checked(_ line: String) throws(EditError) -> String {
        let (valid, enabled, source, _) = parse(line)
        guard valid, enabled else {
            // The module's message names the line as it stood after its `#` and comment went.
            var text = Substring(strip(Substring(line)))
            if text.hasPrefix("#") { text = text.dropFirst() }
            if let hash = text.firstIndex(of: "#"), hash > text.startIndex { text = text[..<hash] }
            throw .invalid(String(text))
        }
        return source
    }

    /// `add_source`: every line with this source enabled; if none, the source appended to
    /// the suggested (or given) file.
    public mutating func add(_ repo: String, filename: String?) throws(EditError) {
        let source = try Self.checked(repo)
        var found = false
        for f in files.indices {
            for i in files[f].lines.indices where files[f].lines[i].valid && files[f].lines[i].source == source {
                let n = files[f].lines[i].number
                files[f].lines[n].enabled = true
                found = true
            }
        }
        guard !found else { return }
        let name = Self.suggestedFile(source, filename: filename)
        let path = name.contains("/") ? name : Self.sourceParts + "/" + name
        if let f = files.firstIndex(where: { $0.path == path }) {
            files[f].lines.append(Line(number: files[f].lines.count, valid: true, enabled: true, source: source, comment: ""))
        } else {
            files.append((path, [Line(number: 0, valid: true, enabled: true, source: source, comment: "")]))
        }
        newRepositories.insert(path)
    }

    /// `remove_source`, as the module iterates: a line popped by its own number while the
    /// walk goes on over the shortened list.
    public mutating func remove(_ repo: String) throws(EditError) {
        let source = try Self.checked(repo)
        for f in files.indices {
            var i = 0
            while i < files[f].lines.count {
                let line = files[f].lines[i]
                if line.valid, line.source == source, line.enabled, line.number < files[f].lines.count {
                    files[f].lines.remove(at: line.number)
                }
                i += 1
            }
        }
    }
}

extension String {
    /// Every `[...]` span (with something inside) removed, as `re.sub(r'\[[^\]]+\]', '', s)`.
    func replacingMatches(open: Character, close: Character) -> String {
        var out = "", rest = Substring(self)
        while let start = rest.firstIndex(of: open) {
            let after = rest.index(after: start)
            if let end = rest[after...].firstIndex(of: close), end > after {
                out += rest[..<start]
                rest = rest[rest.index(after: end)...]
            } else {
                out += rest[...start]
                rest = rest[after...]
            }
        }
        return out + rest
    }
}
