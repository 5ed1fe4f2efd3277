import Foundation
import CohortCore

/// `cohort inventory --list` and `--graph`, byte-compatible in content with
/// `ansible-inventory --list` / `--graph` (same groups, hosts, children and typed hostvars).
extension Inventory {
    public func listJSON() -> String {
        var top: [(String, InventoryValue)] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            let group = groups[name]!
            var entry: [(String, InventoryValue)] = []
            if !group.children.isEmpty { entry.append(("children", .list(group.children.map(InventoryValue.string)))) }
            if name != "all", !group.hosts.isEmpty { entry.append(("hosts", .list(group.hosts.map(InventoryValue.string)))) }
            if !entry.isEmpty { top.append((name, .dict(entry))) }
            for child in group.children where seen.insert(child).inserted { visit(child) }
        }
        seen.insert("all")
        visit("all")
        var hostvars: [(String, InventoryValue)] = []
        for host in hostOrder {
            let vars = variables(of: host)
            if !vars.isEmpty { hostvars.append((host, .dict(vars))) }
        }
        top.append(("_meta", .dict([("hostvars", .dict(hostvars)), ("profile", .string("inventory_legacy"))])))
        return JSONText.render(.dict(top)) + "\n"
    }

    public func graph(from root: String = "all") -> String {
        var lines: [String] = []
        func walk(_ name: String, _ depth: Int) {
            lines.append(prefix(depth) + "@\(name):")
            guard let group = groups[name] else { return }
            for child in group.children { walk(child, depth + 1) }
            if name != "all" { for host in group.hosts { lines.append(prefix(depth + 1) + host) } }
        }
        func prefix(_ depth: Int) -> String { depth == 0 ? "" : String(repeating: "  |", count: depth) + "--" }
        walk(root, 0)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// JSON as Python's `json.dumps(indent=4, sort_keys=True)` writes it.
public enum JSONText {
    public static func render(_ value: InventoryValue, indent: Int = 0, pretty: Bool = true) -> String {
        let pad = pretty ? String(repeating: " ", count: indent + 4) : ""
        let end = pretty ? String(repeating: " ", count: indent) : ""
        let nl = pretty ? "\n" : ""
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
            return "\(d)"
        case .string(let s): return quote(s)
        case .list(let items):
            if items.isEmpty { return "[]" }
            let inner = items.map { pad + render($0, indent: indent + 4, pretty: pretty) }
            return "[" + nl + inner.joined(separator: "," + (pretty ? nl : " ")) + nl + end + "]"
        case .dict(let items):
            if items.isEmpty { return "{}" }
            let inner = items.sorted { $0.0 < $1.0 }.map { pad + quote($0.0) + ": " + render($0.1, indent: indent + 4, pretty: pretty) }
            return "{" + nl + inner.joined(separator: "," + (pretty ? nl : " ")) + nl + end + "}"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
