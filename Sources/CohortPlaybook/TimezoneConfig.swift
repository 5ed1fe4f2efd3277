import CohortTemplate

/// The files community.general's `timezone` module (collection 12.3.0) reads and edits on a
/// Linux host without systemd (its `NosystemdTimezone`, Debian's case): /etc/timezone,
/// /etc/default/rcS and /etc/adjtime, read with its regular expressions, and its
/// `_edit_file`, which puts the new line where the first matching one was and drops the rest.
public enum TimezoneConfig {
    public enum Key: Sendable {
        /// /etc/timezone: the first word at the start of a line.
        case name
        /// /etc/default/rcS: `UTC=yes|no`.
        case hwclock
        /// /etc/adjtime: a line that is `UTC` or `LOCAL`.
        case adjtime

        var pattern: String {
            switch self {
            case .name: #"^([^\s]+)"#
            case .hwclock: #"^UTC\s*=\s*([^\s]+)"#
            case .adjtime: #"^(UTC|LOCAL)$"#
            }
        }
    }

    /// `regexps[key].search(text).group(1)`, or nil when nothing matches.
    public static func value(_ key: Key, in text: String) throws(TemplateError) -> String? {
        try PythonRegex(key.pattern, multiline: true).firstMatch(text)?.group(1).map(String.init)
    }

    /// The zone a link to a zone file names (`(?:/(?:usr/share|etc)/zoneinfo/)(.*)`), nil
    /// when the target is not under a zoneinfo folder.
    public static func zone(ofLinkTarget target: String) throws(TemplateError) -> String? {
        try PythonRegex(#"(?:/(?:usr/share|etc)/zoneinfo/)(.*)"#, multiline: true).firstMatch(target)?.group(1).map(String.init)
    }

    /// `_edit_file`: the file's lines (`readlines`), every line the key's expression finds
    /// removed and `line` put where the first of them was (else first); with how many went.
    public static func edit(_ text: String, key: Key, line: String) throws(TemplateError) -> (text: String, deleted: Int) {
        let regex = try PythonRegex(key.pattern, multiline: true)
        var lines = PythonText.lines(text)
        var matched: [Int] = []
        for (i, l) in lines.enumerated() where try regex.firstMatch(l) != nil { matched.append(i) }
        let at = matched.first ?? 0
        for i in matched.reversed() { lines.remove(at: i) }
        lines.insert(line, at: at)
        return (lines.joined(), matched.count)
    }
}
