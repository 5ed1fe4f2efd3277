import CohortCore
import Foundation

/// Ansible host patterns: `all`, `*`, globs, `a:b` (union), `a:&b` (intersection),
/// `a:!b` (exclusion), `~regex`, subscripts `group[0]`, `group[1:3]`, and comma lists.
public enum HostPattern {
    /// The matching hosts in inventory order of evaluation. A pattern that matches nothing
    /// returns an empty list; the caller decides whether that is an error.
    public static func resolve(_ pattern: String, in inventory: Inventory) throws(CohortError) -> [String] {
        let terms = split(pattern)
        guard !terms.isEmpty else { throw CohortError(.invalidInput, "empty host pattern") }
        var ordered = terms.filter { !$0.hasPrefix("&") && !$0.hasPrefix("!") }
        if ordered.isEmpty { ordered = ["all"] }
        ordered += terms.filter { $0.hasPrefix("&") } + terms.filter { $0.hasPrefix("!") }

        var hosts: [String] = []
        for term in ordered {
            if inventory.hosts[term] != nil {
                if !hosts.contains(term) { hosts.append(term) }
                continue
            }
            let body = term.hasPrefix("&") || term.hasPrefix("!") ? String(term.dropFirst()) : term
            let matched = try matchOne(body, in: inventory)
            if term.hasPrefix("!") {
                let drop = Set(matched)
                hosts.removeAll { drop.contains($0) }
            } else if term.hasPrefix("&") {
                let keep = Set(matched)
                hosts.removeAll { !keep.contains($0) }
            } else {
                var seen = Set(hosts)
                for h in matched where seen.insert(h).inserted { hosts.append(h) }
            }
        }
        return hosts
    }

    /// The terms of `pattern` that match no host, as Ansible warns of them ("Could not match
    /// supplied host pattern, ignoring: X"): `all` never, `&` and `!` read without their sign.
    public static func unmatchedTerms(_ pattern: String, in inventory: Inventory) -> [String] {
        split(pattern).compactMap { term in
            let body = term.hasPrefix("&") || term.hasPrefix("!") ? String(term.dropFirst()) : term
            guard body != "all", inventory.hosts[body] == nil else { return nil }
            let matched = (try? matchOne(body, in: inventory)) ?? []
            return matched.isEmpty ? body : nil
        }
    }

    static func split(_ pattern: String) -> [String] {
        if pattern.contains(",") {
            return pattern.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var terms: [String] = []
        var current = ""
        var depth = 0
        for ch in pattern {
            switch ch {
            case "[": depth += 1; current.append(ch)
            case "]": depth -= 1; current.append(ch)
            case ":" where depth == 0:
                if !current.isEmpty { terms.append(current) }
                current = ""
            case " ", "\t":
                // Blanks are never part of a term, inside brackets or out (as Ansible strips them).
                continue
            default: current.append(ch)
            }
        }
        if !current.isEmpty { terms.append(current) }
        return terms
    }

    private static func matchOne(_ term: String, in inventory: Inventory) throws(CohortError) -> [String] {
        var expression = term
        var subscriptRange: (Int, Int?)?
        if !term.hasPrefix("~"), term.hasSuffix("]"), let open = term.lastIndex(of: "[") {
            let inside = term[term.index(after: open)..<term.index(before: term.endIndex)]
            let parts = inside.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 1, let i = Int(parts[0]) {
                subscriptRange = (i, nil)
            } else if parts.count == 2 {
                subscriptRange = (Int(parts[0]) ?? 0, Int(parts[1]) ?? -1)
            } else {
                throw CohortError(.invalidInput, "invalid subscript in host pattern '\(term)'")
            }
            expression = String(term[..<open])
        }
        var results = try enumerate(expression, in: inventory)
        if let (start, end) = subscriptRange {
            let count = results.count
            func index(_ i: Int) -> Int { i < 0 ? count + i : i }
            if let end {
                let (a, b) = (index(start), index(end))
                results = a <= b && a < count ? Array(results[max(0, a)...min(b, count - 1)]) : []
            } else {
                let a = index(start)
                results = a >= 0 && a < count ? [results[a]] : []
            }
        }
        return results
    }

    private static func enumerate(_ pattern: String, in inventory: Inventory) throws(CohortError) -> [String] {
        let matcher = try Matcher(pattern)
        var results: [String] = []
        let groups = inventory.groupOrder.filter(matcher.matches)
        for group in groups { results += inventory.hosts(in: group) }
        if groups.isEmpty || pattern.hasPrefix("~") || pattern.contains(where: { ".?*[".contains($0) }) {
            results += inventory.hostOrder.filter(matcher.matches)
        }
        var seen: Set<String> = []
        return results.filter { seen.insert($0).inserted }
    }

    /// fnmatch globs, or a regular expression anchored at the start (Python's `re.match`).
    private struct Matcher {
        let regex: NSRegularExpression

        init(_ pattern: String) throws(CohortError) {
            let source = pattern.hasPrefix("~") ? "^(?:" + pattern.dropFirst() + ")" : "^" + Self.translate(pattern) + "$"
            do { regex = try NSRegularExpression(pattern: source) } catch {
                throw CohortError(.invalidInput, "invalid host pattern '\(pattern)'")
            }
        }

        func matches(_ name: String) -> Bool {
            regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        }

        static func translate(_ glob: String) -> String {
            var out = ""
            var chars = Array(glob)[...]
            while let c = chars.popFirst() {
                switch c {
                case "*": out += ".*"
                case "?": out += "."
                case "[":
                    if let close = chars.firstIndex(of: "]") {
                        var set = String(chars[..<close])
                        chars = chars[(close + 1)...]
                        if set.hasPrefix("!") { set = "^" + set.dropFirst() }
                        out += "[" + set.replacingAll("\\", with: "\\\\") + "]"
                    } else {
                        out += "\\["
                    }
                default: out += NSRegularExpression.escapedPattern(for: String(c))
                }
            }
            return out
        }
    }
}
