import CohortCore
import CohortInventory
import CohortPlaybook
import CohortTemplate
import Foundation
import Synchronization

/// The run's inventory, shared by every task: `group_by` changes it as each host's result
/// comes, as Ansible's strategy applies each result in turn.
final class InventoryBox: Sendable {
    private let state: Mutex<Inventory>

    init(_ inventory: Inventory) { state = Mutex(inventory) }

    var current: Inventory { state.withLock { $0 } }

    func change<T>(_ body: (inout Inventory) throws(CohortError) -> T) throws(CohortError) -> T {
        try state.withLock { (inventory: inout Inventory) throws(CohortError) -> T in try body(&inventory) }
    }
}

/// `group_by`: the host joins the group named by `key` (a space made a dash), under
/// `parents` (default `all`), at once: `changed` says whether its groups changed, as
/// Ansible's `add_dynamic_group` sets it. Later tasks see the group in `groups`,
/// `group_names` and its `group_vars/`; later plays can target it.
enum GroupBy {
    static func join(_ args: Dict, host: String, in box: InventoryBox?) -> Value {
        let key = args["key"]?.pythonString ?? ""
        let parents: [String] =
            switch args["parents"] {
            case nil, .none?: ["all"]
            case .list(let names)?: names.map(\.pythonString)
            case let name?: [name.pythonString]
            }
        func dashed(_ name: String) -> String { name.replacingOccurrences(of: " ", with: "-") }
        let (group, parentGroups) = (dashed(key), parents.map(dashed))
        var result: Dict = ["add_group": .string(group), "parent_groups": .list(parentGroups.map { .string($0) })]
        do {
            let changed = try box?.change { (inventory: inout Inventory) throws(CohortError) -> Bool in
                try inventory.addDynamicGroup(group, parents: parentGroups, host: host)
            }
            result["changed"] = .bool(changed ?? false)
        } catch {
            return FileModules.failure(error.message, result)
        }
        return .dict(result)
    }
}

extension PlayRunner {
    /// After `group_by` on `host`: its inventory variables (a new group's `group_vars/` among
    /// them) read again.
    mutating func rereadInventoryVariables(of host: String) {
        states[host]!.variables.inventory = Dictionary(
            run.inventory.variables(of: host).map { ($0.0, YAMLValues.convert($0.1)) }, uniquingKeysWith: { $1 })
    }
}

/// `add_host`: a host (and its groups and variables) added to the run's inventory, as
/// Ansible's action builds it: `name` (else `hostname`, else `host`), `HOST:PORT` setting
/// `ansible_ssh_port`, `groups` (else `groupname`, else `group`) a list or comma text, and
/// every other argument a variable of the host (`host` and `group` too, as Ansible keeps them).
/// It runs once, for the play's first host (Ansible bypasses the host loop).
enum AddHost {
    static func add(_ args: Dict, in box: InventoryBox?) -> Value {
        let given = args["name"] ?? args["hostname"] ?? args["host"]
        guard let given, given != .none else { return FileModules.failure("name, host or hostname needs to be provided") }
        let (name, port) = address(given.pythonString)
        var groups: [String] = []
        switch args["groupname"] ?? args["groups"] ?? args["group"] {
        case nil, .none?: break
        case .list(let names)?:
            for group in names.map(\.pythonString) where !groups.contains(group) { groups.append(group.trimmingCharacters(in: .whitespaces)) }
        case .string(let text)?:
            for group in text.components(separatedBy: ",") where !groups.contains(group) { groups.append(group.trimmingCharacters(in: .whitespaces)) }
        case let other?:
            if other.truthy { return FileModules.failure("Groups must be specified as a list.") }
        }
        groups = groups.filter { !$0.isEmpty }
        var vars = Dict()
        for (key, value) in args.pairs where !["name", "hostname", "groupname", "groups", "_raw_params"].contains(key.pythonString) { vars[key] = value }
        if let port { vars["ansible_ssh_port"] = .int(port) }
        var result: Dict = [
            "add_host": ["host_name": .string(name), "groups": .list(groups.map { .string($0) }), "host_vars": .dict(vars)],
        ]
        do {
            let typed = vars.pairs.map { ($0.0.pythonString, inventoryValue($0.1)) }
            let changed = try box?.change { (inventory: inout Inventory) throws(CohortError) -> Bool in
                try inventory.addDynamicHost(name, groups: groups, vars: typed)
            }
            result["changed"] = .bool(changed ?? false)
        } catch {
            return FileModules.failure(error.message, result)
        }
        return .dict(result)
    }

    /// Ansible's `parse_address` for a name with a port: `name:22`, `[v6]:22`; anything else
    /// is the name as written.
    static func address(_ text: String) -> (String, Int?) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let inside = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) { return (inside, port) }
            return rest.isEmpty ? (inside, nil) : (text, nil)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), parts[1].allSatisfy(\.isNumber) { return (String(parts[0]), port) }
        return (text, nil)
    }

    static func inventoryValue(_ value: Value) -> InventoryValue {
        switch value {
        case .none, .undefined: .null
        case .bool(let b): .bool(b)
        case .int(let n): .int(n)
        case .float(let d): .double(d)
        case .temporal(let t): .string(t.text)
        case .string(let s): .string(s)
        case .list(let items): .list(items.map(inventoryValue))
        case .dict(let dict): .dict(dict.pairs.map { ($0.0.pythonString, inventoryValue($0.1)) })
        }
    }
}
