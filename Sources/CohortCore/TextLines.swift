/// Lines of text as Cohort reads every file and stream: split at `\n` and at `\r\n`, as
/// Ansible and GNU parallel do. (A Swift `String` holds `\r\n` as one `Character`, so a plain
/// `split(separator: "\n")` would leave CRLF files as one long line.)
public enum TextLines {
    /// Every line, empty ones included; a final line end leaves one empty line after it.
    public static func split(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }

    /// The lines of a stream of records: as `split`, without the empty line after the last end.
    public static func records(_ text: String) -> [String] {
        var lines = split(text).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
