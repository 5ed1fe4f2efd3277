import Foundation
import CohortCore
import CohortVault
import Yams

/// Ansible's YAML inventory format (`all: {hosts, vars, children}`), as ansible-core's `yaml`
/// plugin reads it.
public enum YAMLInventoryParser {
    static func parse(_ text: String, file: String, into inventory: inout Inventory) throws(CohortError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw CohortError(.invalidInput, "\(error)", file: file)
        }
        guard let root else { return }
        try checkSize(root, file: file)
        if let mapping = root.mapping, let plugin = mapping["plugin"]?.scalar?.string {
            throw CohortError(
                .invalidInput,
                "this is a config for the inventory plugin '\(plugin)'; inventory plugins are not supported (Cohort reads INI, YAML and TOML inventories)",
                file: file, line: line(root))
        }
        guard let mapping = root.mapping else {
            throw CohortError(.invalidInput, "a YAML inventory must be a mapping of groups", file: file, line: root.mark.map { $0.line })
        }
        for (key, value) in mapping {
            try parseGroup(try name(key, file), value, file: file, into: &inventory)
        }
    }

    private static func parseGroup(_ group: String, _ node: Node, file: String, into inventory: inout Inventory) throws(CohortError) {
        if isNull(node) {
            inventory.addGroup(group)
            return
        }
        guard let mapping = node.mapping else {
            throw CohortError(.invalidInput, "group '\(group)' must be a mapping with hosts, vars or children", file: file, line: line(node))
        }
        inventory.addGroup(group)
        for (keyNode, value) in mapping {
            let key = try name(keyNode, file)
            if isNull(value) { continue }
            // A bare string stands for a one-entry mapping, as Ansible allows.
            let section: [(Node, Node)]
            if let m = value.mapping {
                section = Array(m)
            } else if let s = value.scalar, ["hosts", "children", "vars"].contains(key) {
                section = [(Node(s.string), Node("~", Tag(.null)))]
            } else {
                throw CohortError(.invalidInput, "'\(key)' of group '\(group)' must be a mapping", file: file, line: line(value))
            }
            switch key {
            case "vars":
                for (k, v) in section {
                    let key = try name(k, file)
                    let value = try convert(v, file)
                    try Inventory.check(key, value, file: file, line: line(v))
                    inventory.setVar(group: group, key, value)
                }
            case "children":
                for (k, v) in section {
                    let child = try name(k, file)
                    try parseGroup(child, v, file: file, into: &inventory)
                    try inventory.link(child, to: group, file: file, line: line(k))
                }
            case "hosts":
                for (k, v) in section {
                    let pattern = try name(k, file)
                    let (hosts, port) = try HostRange.hosts(pattern, file: file, line: line(k))
                    var vars: [(String, InventoryValue)] = []
                    if !isNull(v) {
                        guard let m = v.mapping else {
                            throw CohortError(.invalidInput, "variables of host '\(pattern)' must be a mapping", file: file, line: line(v))
                        }
                        for (vk, vv) in m {
                            let key = try name(vk, file)
                            let value = try convert(vv, file)
                            try Inventory.check(key, value, file: file, line: line(vv))
                            vars.append((key, value))
                        }
                    }
                    for host in hosts {
                        inventory.addHost(host, to: group)
                        if let port { inventory.setVar(host: host, "ansible_port", .int(port)) }
                        for (k2, v2) in vars { inventory.setVar(host: host, k2, v2) }
                    }
                }
            default:
                throw CohortError(
                    .invalidInput, "unexpected key '\(key)' in group '\(group)': only hosts, vars and children are valid",
                    file: file, line: line(keyNode))
            }
        }
    }

    /// `Node.tag` resolves implicit tags (a bare `key:` is null); `Scalar.tag` does not.
    private static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain && YAML11Scalar.resolve(scalar.string) == .null }
        return false
    }

    private static func name(_ node: Node, _ file: String) throws(CohortError) -> String {
        guard let s = node.scalar else {
            throw CohortError(.invalidInput, "expected a name, found a collection", file: file, line: line(node))
        }
        return s.string
    }

    static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    /// The most values one YAML file may expand to once its aliases are followed
    /// (docs/inventory.md). Yams shares an aliased node rather than copying it, so a "billion
    /// laughs" file composes cheaply; walking it would not.
    public static let valueLimit = 1_000_000

    /// Counts values, aliases followed, and stops at the limit: bounded time whatever the file.
    public static func checkSize(_ root: Node, file: String) throws(CohortError) {
        var count = 0
        var stack = [root]
        while let node = stack.popLast() {
            count += 1
            guard count <= valueLimit else {
                throw CohortError(
                    .invalidInput, "YAML expands to more than \(valueLimit) values once its aliases are followed",
                    file: file, line: line(root))
            }
            switch node {
            case .mapping(let mapping):
                for (k, v) in mapping {
                    stack.append(k)
                    stack.append(v)
                }
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            default: break
            }
        }
    }

    static func yamlError(_ error: YamlError, file: String) -> CohortError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return CohortError(.invalidInput, "YAML: \(problem)", file: file, line: mark.line)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return CohortError(.invalidInput, "YAML: duplicate key \(keys) in the mapping that starts here", file: file, line: context.mark.line)
        case .reader(let problem, _, _, _):
            return CohortError(.invalidInput, "YAML: \(problem) (not a text file?)", file: file)
        default:
            return CohortError(.invalidInput, "YAML: \(error)", file: file)
        }
    }

    /// YAML node → value, with YAML 1.1 scalars as Ansible's loader resolves them.
    static func convert(_ node: Node, _ file: String) throws(CohortError) -> InventoryValue {
        switch node {
        case .scalar(let scalar):
            // Quoted and block scalars are strings; plain ones follow YAML 1.1, like Ansible.
            if scalar.tag.description == "!vault" { return .string(try Vault.inline(scalar.string, file: file, line: line(node))) }
            guard scalar.style == .plain else { return .string(scalar.string) }
            if scalar.tag.description == Tag.Name.str.rawValue { return .string(scalar.string) }
            return YAML11Scalar.resolve(scalar.string)
        case .sequence(let sequence):
            var items: [InventoryValue] = []
            for item in sequence { items.append(try convert(item, file)) }
            return .list(items)
        case .mapping(let mapping):
            var items: [(String, InventoryValue)] = []
            for (k, v) in mapping { Inventory.set(&items, try name(k, file), try convert(v, file)) }
            return .dict(items)
        case .alias:
            throw CohortError(.invalidInput, "YAML aliases are not supported in inventories", file: file, line: line(node))
        }
    }
}
