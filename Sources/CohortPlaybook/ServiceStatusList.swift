/// `service --status-all` lines as ansible-core's `ServiceScanService` matches them
/// (`^\s*\[ (\+|\-) \]\s+(.+)$` per line): each service's state and name, in order.
public enum ServiceStatusList {
    public static func parse(_ output: String) -> [(state: String, name: String)] {
        var out: [(String, String)] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
            guard rest.hasPrefix("[ "), rest.count >= 5 else { continue }
            rest = rest.dropFirst(2)
            guard let sign = rest.first, sign == "+" || sign == "-" else { continue }
            rest = rest.dropFirst()
            guard rest.hasPrefix(" ]") else { continue }
            rest = rest.dropFirst(2)
            let name = rest.drop { $0 == " " || $0 == "\t" || $0 == "\u{0B}" || $0 == "\u{0C}" }
            // `\s+` needs at least one space, and `.+` one character.
            guard name.count < rest.count, !name.isEmpty else { continue }
            out.append((sign == "+" ? "running" : "stopped", String(name)))
        }
        return out
    }
}
