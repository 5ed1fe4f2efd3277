/// A sysctl file as ansible.posix's `sysctl` module (collection 12.3.0) reads and rewrites it:
/// its `read_sysctl_file` (lines stripped; `key = value` lines, the last of a key winning),
/// `fix_lines` (the key's first line replaced or dropped, later lines of any key dropped, the
/// key added at the end), `_parse_value` and `_values_is_equal`.
public struct SysctlFile: Sendable, Equatable {
    /// Each line as Python's `str.strip()` leaves it.
    public var lines: [String]
    public var values: [String: String]

    /// `text` as `readlines()` gives it (an empty text for a file that is not there).
    public init(_ text: String) {
        lines = []
        values = [:]
        for raw in PythonText.lines(text) {
            let line = PythonText.strip(raw)
            lines.append(line)
            guard let (key, value) = Self.pair(line) else { continue }
            values[key] = value
        }
    }

    /// A `key=value` line's key and value, stripped; nil for a blank line, a comment (`#`,
    /// `;`) or a line without `=`.
    static func pair(_ line: String) -> (String, String)? {
        let stripped = PythonText.strip(line)
        guard !stripped.isEmpty, !stripped.hasPrefix("#"), !stripped.hasPrefix(";"), let eq = stripped.firstIndex(of: "=") else { return nil }
        return (PythonText.strip(String(stripped[..<eq])), PythonText.strip(String(stripped[stripped.index(after: eq)...])))
    }

    /// `fix_lines` then `write_sysctl`: the text the module writes.
    public func fixed(name: String, value: String, present: Bool) -> String {
        var checked: Set<String> = []
        var out: [String] = []
        for line in lines {
            guard let (key, current) = Self.pair(line) else {
                out.append(line)
                continue
            }
            guard !checked.contains(key) else { continue }
            checked.insert(key)
            if key == name {
                if present { out.append("\(key)=\(value)") }
            } else {
                out.append("\(key)=\(current)")
            }
        }
        if !checked.contains(name), present { out.append("\(name)=\(value)") }
        return out.map { PythonText.strip($0) + "\n" }.joined()
    }

    /// `_parse_value` of the value as a string (the argument's type): Ansible's booleans
    /// become `1` or `0`, anything else is stripped.
    public static func parseValue(_ value: String?) -> String {
        guard let value else { return "" }
        switch value.lowercased() {
        case "y", "yes", "on", "1", "true", "t": return "1"
        case "n", "no", "off", "0", "false", "f": return "0"
        default: return PythonText.strip(value)
        }
    }

    /// `_values_is_equal`: the same words in the same order.
    public static func equal(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return false }
        return PythonText.split(a) == PythonText.split(b)
    }
}
