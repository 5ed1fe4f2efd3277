import Foundation
import CohortCore

/// Ansible's host ranges (`web[01:20]`, `db-[a:c]`, `[001:010:3]`) and `host:port` addresses.
enum HostRange {
    static func hasRange(_ pattern: String) -> Bool {
        guard let open = pattern.firstIndex(of: "["), let close = pattern[open...].firstIndex(of: "]") else { return false }
        return pattern[open..<close].contains(":")
    }

    /// The most names one host pattern may expand to (docs/inventory.md): enough for a large
    /// fleet, small enough that `h[1:100000000]` is an error instead of gigabytes of names.
    public static let limit = 100_000

    /// Expands the first range, then recursively the rest, as Ansible does.
    static func expand(_ pattern: String) throws(RangeError) -> [String] {
        if let open = pattern.firstIndex(of: "["), !pattern[open...].contains("]") {
            throw RangeError("host range in '\(pattern)' is not closed: it needs a ']'")
        }
        var out: [String] = []
        try expand(pattern, into: &out)
        return out
    }

    private static func expand(_ pattern: String, into out: inout [String]) throws(RangeError) {
        guard hasRange(pattern), let open = pattern.firstIndex(of: "["),
            let close = pattern[open...].firstIndex(of: "]")
        else {
            guard out.count < limit else { throw RangeError("host pattern expands to more than \(limit) hosts") }
            out.append(pattern)
            return
        }
        let head = pattern[..<open]
        let tail = pattern[pattern.index(after: close)...]
        let bounds = pattern[pattern.index(after: open)..<close].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 || bounds.count == 3 else { throw RangeError("host range must be begin:end or begin:end:step") }
        let begin = bounds[0].isEmpty ? "0" : bounds[0]
        let end = bounds[1]
        guard !end.isEmpty else { throw RangeError("host range must specify end value") }
        guard let step = Int(bounds.count == 3 ? bounds[2] : "1"), step > 0 else { throw RangeError("host range step must be a positive number") }
        var width = 0
        if begin.first == "0", begin.count > 1 {
            guard begin.count == end.count else { throw RangeError("host range must specify equal-length begin and end formats") }
            width = begin.count
        }
        var items: [String] = []
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if let b = Int(begin), let e = Int(end) {
            let (span, overflow) = e.subtractingReportingOverflow(b)
            guard !overflow, span < 0 || span / step < limit else { throw RangeError("host range [\(bounds.joined(separator: ":"))] expands to more than \(limit) hosts") }
            for n in stride(from: b, through: e, by: step) {
                let digits = String(n)
                items.append(String(repeating: "0", count: max(0, width - digits.count)) + digits)
            }
        } else if begin.count == 1, end.count == 1, let b = letters.firstIndex(of: Character(begin)),
            let e = letters.firstIndex(of: Character(end))
        {
            guard b <= e else { throw RangeError("host range must have begin <= end") }
            items = stride(from: b, through: e, by: step).map { String(letters[$0]) }
        } else {
            throw RangeError("host range [\(bounds.joined(separator: ":"))] is neither numeric nor a letter range")
        }
        for item in items { try expand(head + item + tail, into: &out) }
    }

    /// A host pattern of an inventory (`web[1:3]:2222`): its host names and the port it sets,
    /// as every inventory format reads it. A bad port is left in the name, as Ansible leaves it.
    static func hosts(_ pattern: String, file: String, line: Int?) throws(CohortError) -> (names: [String], port: Int?) {
        do {
            let (base, port) = (try? splitPort(pattern)) ?? (pattern, nil)
            return (try expand(base), port)
        } catch {
            throw CohortError(.invalidInput, error.message, file: file, line: line)
        }
    }

    /// Splits `host:port`, `[v6]:port`; a bare IPv6 address keeps its colons.
    static func splitPort(_ pattern: String) throws(RangeError) -> (String, Int?) {
        if pattern.hasPrefix("["), let close = pattern.firstIndex(of: "]"), !hasRange(pattern) || pattern.contains("]:") && pattern.filter({ $0 == "[" }).count == 1 {
            let host = String(pattern[pattern.index(after: pattern.startIndex)..<close])
            let rest = pattern[pattern.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { throw RangeError("invalid port in '\(pattern)'") }
            return (host, port)
        }
        // Colons outside brackets: exactly one means host:port.
        var depth = 0
        var colons: [String.Index] = []
        for index in pattern.indices {
            switch pattern[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case ":" where depth == 0: colons.append(index)
            default: break
            }
        }
        guard colons.count == 1, let colon = colons.first else { return (pattern, nil) }
        let portText = pattern[pattern.index(after: colon)...]
        guard let port = Int(portText), port > 0, port < 65536 else {
            throw RangeError("invalid port '\(portText)' in '\(pattern)'")
        }
        return (String(pattern[..<colon]), port)
    }
}

struct RangeError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
