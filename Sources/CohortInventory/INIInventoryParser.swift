import Foundation
import CohortCore

/// Ansible's INI inventory format, parsed the way ansible-core's `ini` plugin does.
enum INIInventoryParser {
    private enum State: String { case hosts, children, vars }

    static func parse(_ text: String, file: String, into inventory: inout Inventory) throws(CohortError) {
        var group = "ungrouped"
        var state = State.hosts
        // Groups named in [x:vars] or [x:children] that no section has defined yet.
        var pendingVars: [String: Int] = [:]
        var pendingChildren: [String: (line: Int, parents: [String])] = [:]

        for (index, raw) in TextLines.split(text).enumerated() {
            let lineNumber = index + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            func fail(_ message: String) -> CohortError { CohortError(.invalidInput, message, file: file, line: lineNumber) }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }

            // A line may start with a host range (`[0:2]-node`); it is a section only if it
            // parses as one, and an error only if it looks like one.
            if line.hasPrefix("["), let (name, kind) = sectionHeader(line) {
                guard let newState = State(rawValue: kind ?? "hosts") else {
                    throw fail("section [\(name):\(kind!)] has unknown type '\(kind!)' (use hosts, vars or children)")
                }
                if inventory.groups[name] == nil {
                    if newState == .vars, pendingVars[name] == nil { pendingVars[name] = lineNumber }
                    inventory.addGroup(name)
                }
                if newState != .vars {
                    pendingVars[name] = nil
                    if let pending = pendingChildren.removeValue(forKey: name) {
                        for parent in pending.parents { try inventory.link(name, to: parent, file: file, line: pending.line) }
                    }
                }
                group = name
                state = newState
                continue
            } else if line.hasPrefix("["), line.hasSuffix("]") {
                throw fail("invalid section entry '\(line)': a section is [group], [group:vars] or [group:children], with no spaces")
            } else if line.hasPrefix("["), !line.contains("]") {
                throw fail("section header '\(line)' is not closed: a section is [group], [group:vars] or [group:children]")
            }

            switch state {
            case .hosts:
                let tokens = try shlexSplit(line, fail)
                guard let patternToken = tokens.first else { continue }
                if patternToken.hasSuffix(":") { throw fail("host pattern '\(patternToken)' ends in ':', which is not allowed") }
                let (names, port) = try HostRange.hosts(patternToken, file: file, line: lineNumber)
                var vars: [(String, InventoryValue)] = []
                for token in tokens.dropFirst() {
                    guard let eq = token.firstIndex(of: "=") else {
                        throw fail("expected key=value host variable assignment, got '\(token)'")
                    }
                    let value = String(token[token.index(after: eq)...])
                    let parsed = PythonLiteral.parse(value) ?? .string(value)
                    try Inventory.check(String(token[..<eq]), parsed, file: file, line: lineNumber)
                    Inventory.set(&vars, String(token[..<eq]), parsed)
                }
                for name in names {
                    inventory.addHost(name, to: group)
                    if let port { inventory.setVar(host: name, "ansible_port", .int(port)) }
                    for (k, v) in vars { inventory.setVar(host: name, k, v) }
                }
            case .vars:
                guard let eq = line.firstIndex(of: "=") else { throw fail("expected key=value, got '\(line)'") }
                let key = String(line[..<eq]).trimmingCharacters(in: .whitespaces)
                let value = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
                let parsed = PythonLiteral.parse(value) ?? .string(value)
                try Inventory.check(key, parsed, file: file, line: lineNumber)
                inventory.setVar(group: group, key, parsed)
            case .children:
                let child = String(line.prefix { $0 != "#" }).trimmingCharacters(in: .whitespaces)
                guard !child.isEmpty, !child.contains(where: { $0 == ":" || $0 == "]" || $0 == " " || $0 == "\t" }) else {
                    throw fail("invalid group name '\(line)'")
                }
                if inventory.groups[child] != nil {
                    try inventory.link(child, to: group, file: file, line: lineNumber)
                } else {
                    pendingChildren[child, default: (lineNumber, [])].parents.append(group)
                }
            }
        }
        if let (name, line) = pendingVars.min(by: { $0.value < $1.value }) {
            throw CohortError(.invalidInput, "section [\(name):vars] is for a group that is never defined", file: file, line: line)
        }
        if let (name, pending) = pendingChildren.min(by: { $0.value.line < $1.value.line }) {
            throw CohortError(
                .invalidInput, "section [\(pending.parents.last!):children] includes undefined group '\(name)'",
                file: file, line: pending.line)
        }
    }

    /// `[name]` or `[name:kind]`, optionally followed by a comment.
    private static func sectionHeader(_ line: String) -> (String, String?)? {
        guard let close = line.firstIndex(of: "]") else { return nil }
        let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") else { return nil }
        let inner = line[line.index(after: line.startIndex)..<close]
        let parts = inner.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
            !parts[0].contains(where: { $0 == " " || $0 == "\t" || $0 == "]" })
        else { return nil }
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
        return (String(parts[0]), nil)
    }

    /// Python's `shlex.split(line, comments=True)` in POSIX mode.
    static func shlexSplit(_ line: String, _ fail: (String) -> CohortError) throws(CohortError) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var quote: Character?
        var escape = false
        for ch in line {
            if escape {
                if let q = quote, q == "\"", ch != "\"", ch != "\\" { current.append("\\") }
                current.append(ch)
                escape = false
                continue
            }
            if let q = quote {
                if ch == q {
                    quote = nil
                } else if ch == "\\", q == "\"" {
                    escape = true
                } else {
                    current.append(ch)
                }
                continue
            }
            switch ch {
            case " ", "\t":
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            case "#":
                if inToken { tokens.append(current) }
                return tokens
            case "'", "\"":
                quote = ch
                inToken = true
            case "\\":
                escape = true
                inToken = true
            default:
                current.append(ch)
                inToken = true
            }
        }
        if quote != nil { throw fail("no closing quotation") }
        if escape { throw fail("no escaped character") }
        if inToken { tokens.append(current) }
        return tokens
    }
}
