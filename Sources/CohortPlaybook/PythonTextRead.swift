/// A text file as Python reads it in text mode, for modules whose edits Cohort repeats line
/// for line (`timezone`, `sysctl`).
public enum PythonTextRead {
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
}
