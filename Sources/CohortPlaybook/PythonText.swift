/// Text as Python reads and cuts it, for modules whose edits Cohort repeats line for line
/// (`timezone`, `sysctl`, `cron`): a file read in text mode, `readlines`, and `str.strip()`
/// and `str.split()` with Python's whitespace.
public enum PythonText {
    /// Python's `open(f).read()`: UTF-8 with universal newlines.
    public static func text(_ bytes: [UInt8]) -> String {
        var out = String.UnicodeScalarView()
        var scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if c == "\r" {
                if scalars.first == "\n" { scalars = scalars.dropFirst() }
                out.append("\n")
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    /// Python's `readlines()` of text already read: each line with its `\n`, the last
    /// without one when the text does not end in one.
    public static func lines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for c in text.unicodeScalars {
            current.unicodeScalars.append(c)
            if c == "\n" {
                lines.append(current)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Python's `str.isspace` for one character: Unicode's white space and the separators
    /// `\x1c`-`\x1f`.
    public static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
    }

    /// `str.strip()` with no argument.
    public static func strip(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars[...]
        while let c = scalars.first, isSpace(c) { scalars = scalars.dropFirst() }
        return rstrip(String(String.UnicodeScalarView(scalars)))
    }

    /// `str.rstrip()` with no argument.
    public static func rstrip(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars[...]
        while let c = scalars.last, isSpace(c) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    /// `str.split()` with no argument: runs of whitespace separate, none at the ends.
    public static func split(_ text: String) -> [String] {
        text.unicodeScalars.split(whereSeparator: isSpace).map { String(String.UnicodeScalarView($0)) }
    }
}
