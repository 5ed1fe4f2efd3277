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
    /// After a `group_by` task: `groups` and the host's inventory variables (a new group's
    /// `group_vars/` among them) read again.
    mutating func joinGroups(_ outcome: TaskOutcome, host: String) {
        groups = Self.groups(of: run.inventory)
        states[host]!.variables.inventory = Dictionary(
            run.inventory.variables(of: host).map { ($0.0, YAMLValues.convert($0.1)) }, uniquingKeysWith: { $1 })
    }
}
