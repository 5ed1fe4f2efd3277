import CohortCore

/// Ansible's TOML inventory format (its `toml` plugin): every top-level table is a group, with
/// `vars` (a table), `children` (a list of group names) and `hosts` (host pattern → variables).
enum TOMLInventoryParser {
    static func parse(_ text: String, file: String, into inventory: inout Inventory) throws(CohortError) {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text) } catch {
            throw CohortError(.invalidInput, "TOML: \(error.message)", file: file, line: error.line)
        }
        guard !root.keys.isEmpty else { throw CohortError(.invalidInput, "the TOML inventory is empty", file: file) }
        if case .string(let plugin)? = root["plugin"] {
            throw CohortError(
                .invalidInput,
                "this is a config for the inventory plugin '\(plugin)'; inventory plugins are not supported (Cohort reads INI, YAML and TOML inventories)",
                file: file, line: root.line(of: "plugin"))
        }
        for group in root.keys {
            try parseGroup(group, root[group]!, line: root.line(of: group), file: file, into: &inventory)
        }
    }

    private static func parseGroup(
        _ group: String, _ value: TOMLValue, line: Int?, file: String, into inventory: inout Inventory
    ) throws(CohortError) {
        guard case .table(let table) = value else {
            throw CohortError(.invalidInput, "group '\(group)' must be a table with hosts, vars or children", file: file, line: line)
        }
        inventory.addGroup(group)
        for key in table.keys {
            let entry = table[key]!
            let keyLine = table.line(of: key)
            switch (key, entry) {
            case ("vars", .table(let vars)):
                for name in vars.keys {
                    let converted = try convert(vars[name]!, file: file, line: vars.line(of: name))
                    try Inventory.check(name, converted, file: file, line: vars.line(of: name))
                    inventory.setVar(group: group, name, converted)
                }
            case ("children", .array(let children)):
                for child in children {
                    guard case .string(let name) = child else {
                        throw CohortError(.invalidInput, "children of group '\(group)' must be group names", file: file, line: keyLine)
                    }
                    inventory.addGroup(name)
                    try inventory.link(name, to: group, file: file, line: keyLine)
                }
            case ("hosts", .table(let hosts)):
                for pattern in hosts.keys {
                    let hostLine = hosts.line(of: pattern)
                    let (names, port) = try HostRange.hosts(pattern, file: file, line: hostLine)
                    guard case .table(let vars) = hosts[pattern]! else {
                        throw CohortError(.invalidInput, "variables of host '\(pattern)' must be a table ({} for none)", file: file, line: hostLine)
                    }
                    var converted: [(String, InventoryValue)] = []
                    for name in vars.keys {
                        let value = try convert(vars[name]!, file: file, line: vars.line(of: name))
                        try Inventory.check(name, value, file: file, line: vars.line(of: name))
                        converted.append((name, value))
                    }
                    for host in names {
                        inventory.addHost(host, to: group)
                        if let port { inventory.setVar(host: host, "ansible_port", .int(port)) }
                        for (name, value) in converted { inventory.setVar(host: host, name, value) }
                    }
                }
            case ("vars", _), ("hosts", _):
                throw CohortError(.invalidInput, "'\(key)' of group '\(group)' must be a table", file: file, line: keyLine)
            case ("children", _):
                throw CohortError(.invalidInput, "'children' of group '\(group)' must be a list of group names", file: file, line: keyLine)
            default:
                throw CohortError(
                    .invalidInput, "unexpected key '\(key)' in group '\(group)': only hosts, vars and children are valid",
                    file: file, line: keyLine)
            }
        }
    }

    static func convert(_ value: TOMLValue, file: String, line: Int?) throws(CohortError) -> InventoryValue {
        switch value {
        case .string(let text): return .string(text)
        case .datetime(let text): return .string(pythonISO(text))
        case .integer(let number): return .int(number)
        case .float(let number): return .double(number)
        case .boolean(let flag): return .bool(flag)
        case .array(let items):
            var out: [InventoryValue] = []
            for item in items { out.append(try convert(item, file: file, line: line)) }
            return .list(out)
        case .table(let table):
            var out: [(String, InventoryValue)] = []
            for key in table.keys { out.append((key, try convert(table[key]!, file: file, line: table.line(of: key) ?? line))) }
            return .dict(out)
        case .tableArray(let tables):
            var out: [InventoryValue] = []
            for table in tables { out.append(try convert(.table(table), file: file, line: line)) }
            return .list(out)
        }
    }

    /// A TOML date-time as ansible-core shows it (Python's `isoformat()`): `T` between date and
    /// time, `Z` as `+00:00`, microseconds only when not zero.
    static func pythonISO(_ text: String) -> String {
        var out = text.count > 10 ? String(text.prefix(10)) + "T" + text.dropFirst(11) : text
        if !text.contains("-") { out = text }  // a local time
        if out.hasSuffix("Z") || out.hasSuffix("z") { out = out.dropLast() + "+00:00" }
        guard let dot = out.firstIndex(of: ".") else { return out }
        let digits = out[out.index(after: dot)...].prefix { $0.isNumber }
        let rest = out[out.index(after: dot)...].dropFirst(digits.count)
        let micro = String((digits + "000000").prefix(6))
        return String(out[..<dot]) + (Int(micro) == 0 ? "" : "." + micro) + rest
    }
}
