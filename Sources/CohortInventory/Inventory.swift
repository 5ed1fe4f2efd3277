import Foundation
import CohortCore

/// A parsed inventory: groups, hosts and their variables, with Ansible's semantics.
///
/// Built by the INI and YAML parsers and the group_vars/host_vars loader; read by the host
/// pattern matcher, the `--list`/`--graph` printers and the coordinator.
public struct Inventory: Sendable {
    public struct Group: Sendable {
        public var name: String
        public var vars: [(String, InventoryValue)] = []
        /// Vars from `group_vars/` files beside the inventory; they win over `vars`.
        public var fileVars: [(String, InventoryValue)] = []
        /// Vars from `group_vars/` beside the playbook (`cohort play`); they win over `fileVars`.
        public var playbookVars: [(String, InventoryValue)] = []
        public var hosts: [String] = []
        public var children: [String] = []
        public var parents: [String] = []
        /// Orders groups of equal depth when merging variables (higher wins).
        public var priority = 1
    }

    public struct Host: Sendable {
        public var name: String
        public var vars: [(String, InventoryValue)] = []
        public var fileVars: [(String, InventoryValue)] = []
        public var playbookVars: [(String, InventoryValue)] = []
        /// The inventory file that named the host first (Ansible's `inventory_file`).
        public var source: String?
        /// Direct groups, in the order the host joined them.
        public var groups: [String] = []
    }

    /// Variables that win over every inventory source: the connection variables given as extra
    /// vars (`-e ansible_user=…`), which Ansible ranks above everything.
    public var overrides: [(String, InventoryValue)] = []

    public private(set) var groups: [String: Group] = [:]
    public private(set) var groupOrder: [String] = []
    public private(set) var hosts: [String: Host] = [:]
    public private(set) var hostOrder: [String] = []
    /// `group_vars/` files named after no group of the inventory (yet): a group that
    /// `group_by` makes while a playbook runs takes them, as Ansible's vars plugin finds them
    /// by the group's name. Read with the others, so a broken one is an error before anything
    /// runs.
    var spareGroupVars: [String: SpareVars] = [:]

    struct SpareVars: Sendable {
        var file: [(String, InventoryValue)] = []
        var playbook: [(String, InventoryValue)] = []
    }

    public init() {
        addGroup("all")
        addGroup("ungrouped")
        addChild("ungrouped", to: "all")
    }

    public mutating func addGroup(_ name: String) {
        guard groups[name] == nil else { return }
        groups[name] = Group(name: name)
        groupOrder.append(name)
    }

    /// The file being parsed, recorded as each new host's `source`.
    public var currentSource: String?

    public mutating func addHost(_ name: String, to group: String? = nil) {
        if hosts[name] == nil {
            hosts[name] = Host(name: name, source: currentSource)
            hostOrder.append(name)
        }
        if let group {
            addGroup(group)
            if !groups[group]!.hosts.contains(name) { groups[group]!.hosts.append(name) }
            if !hosts[name]!.groups.contains(group) { hosts[name]!.groups.append(group) }
        }
    }

    public mutating func addChild(_ child: String, to parent: String) {
        addGroup(child)
        addGroup(parent)
        guard child != parent, !groups[parent]!.children.contains(child) else { return }
        groups[parent]!.children.append(child)
        groups[child]!.parents.append(parent)
    }

    /// `addChild`, refusing what Ansible refuses: a group that would become its own ancestor
    /// ("creates a recursive dependency loop"), which would otherwise make every walk of the
    /// tree endless.
    public mutating func link(_ child: String, to parent: String, file: String, line: Int?) throws(CohortError) {
        if child == parent || descendants(of: child).contains(parent) {
            throw CohortError(
                .invalidInput, "adding group '\(child)' as child to '\(parent)' creates a recursive dependency loop",
                file: file, line: line)
        }
        addChild(child, to: parent)
    }

    /// Connection variables Cohort reads itself are checked where they are written, so that a
    /// bad one is reported with its file and line, before any host is contacted.
    public static func check(_ key: String, _ value: InventoryValue, file: String, line: Int?) throws(CohortError) {
        switch key {
        case "ansible_port", "ansible_ssh_port":
            guard let port = value.intValue, (1...65535).contains(port) else {
                throw CohortError(.invalidInput, "\(key) must be a port number (1-65535), not \(value.text.map { "'\($0)'" } ?? "a collection")", file: file, line: line)
            }
        default:
            break
        }
    }

    /// `ansible_group_priority` from an inventory source sets the group's priority, as in
    /// Ansible; it is not a variable hosts see.
    public mutating func setVar(group: String, _ key: String, _ value: InventoryValue) {
        addGroup(group)
        if key == "ansible_group_priority" {
            groups[group]!.priority = value.intValue ?? 1
            return
        }
        Self.set(&groups[group]!.vars, key, value)
    }

    public mutating func setVar(host: String, _ key: String, _ value: InventoryValue) {
        addHost(host)
        Self.set(&hosts[host]!.vars, key, value)
    }

    mutating func setFileVars(group: String, _ vars: [(String, InventoryValue)], playbook: Bool = false) {
        for (k, v) in vars where playbook { Self.set(&groups[group]!.playbookVars, k, v) }
        for (k, v) in vars where !playbook { Self.set(&groups[group]!.fileVars, k, v) }
    }

    mutating func setFileVars(host: String, _ vars: [(String, InventoryValue)], playbook: Bool = false) {
        for (k, v) in vars where playbook { Self.set(&hosts[host]!.playbookVars, k, v) }
        for (k, v) in vars where !playbook { Self.set(&hosts[host]!.fileVars, k, v) }
    }

    static func set(_ vars: inout [(String, InventoryValue)], _ key: String, _ value: InventoryValue) {
        if let index = vars.firstIndex(where: { $0.0 == key }) { vars[index].1 = value } else { vars.append((key, value)) }
    }

    /// Ansible's `reconcile_inventory`: parentless groups join `all`; a host with no group
    /// but `all` joins `ungrouped`, and leaves it once it is in any other group.
    public mutating func reconcile() {
        for name in groupOrder where name != "all" && ancestors(of: name).isEmpty {
            addChild(name, to: "all")
        }
        for name in hostOrder {
            let direct = hosts[name]!.groups
            if direct.contains("ungrouped") {
                if direct.contains(where: { $0 != "all" && $0 != "ungrouped" }) {
                    groups["ungrouped"]!.hosts.removeAll { $0 == name }
                    hosts[name]!.groups.removeAll { $0 == "ungrouped" }
                }
            } else if direct.allSatisfy({ $0 == "all" }) {
                addHost(name, to: "ungrouped")
            }
        }
    }

    public func ancestors(of group: String) -> [String] {
        var seen: [String] = []
        var queue = groups[group]?.parents ?? []
        while !queue.isEmpty {
            let next = queue.removeFirst()
            guard !seen.contains(next) else { continue }
            seen.append(next)
            queue += groups[next]?.parents ?? []
        }
        return seen
    }

    /// The group and its descendants, breadth first, as Ansible walks them.
    public func descendants(of group: String) -> [String] {
        var seen: [String] = [group]
        var level = [group]
        while !level.isEmpty {
            var next: [String] = []
            for g in level {
                for child in groups[g]?.children ?? [] where !seen.contains(child) {
                    seen.append(child)
                    next.append(child)
                }
            }
            level = next
        }
        return seen
    }

    /// Every host in the group or below it, in inventory order of discovery.
    public func hosts(in group: String) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for g in descendants(of: group) {
            for h in groups[g]?.hosts ?? [] where seen.insert(h).inserted { out.append(h) }
        }
        return out
    }

    /// The host's groups with all their ancestors (without `all`).
    public func allGroups(of host: String) -> [String] {
        var out: [String] = []
        for g in hosts[host]?.groups ?? [] {
            for name in [g] + ancestors(of: g) where name != "all" && !out.contains(name) { out.append(name) }
        }
        return out
    }

    /// Depth: the longest path from `all`, which orders group vars (deeper wins).
    func depth(of group: String) -> Int {
        let parents = groups[group]?.parents ?? []
        return parents.isEmpty ? 0 : 1 + parents.map { depth(of: $0) }.max()!
    }

    /// The host's variables with Ansible's precedence (its `VARIABLE_PRECEDENCE`): the
    /// inventory's own vars of `all`, then of the other groups (by depth, then
    /// `ansible_group_priority`, then name); then group_vars/all beside the inventory and beside
    /// the playbook; then the other groups' group_vars files, inventory's before playbook's;
    /// then the host's own vars, its host_vars beside the inventory, and beside the playbook.
    public func variables(of host: String) -> [(String, InventoryValue)] {
        var result: [(String, InventoryValue)] = []
        func merge(_ vars: [(String, InventoryValue)]) { for (k, v) in vars { Self.set(&result, k, v) } }
        let sorted = allGroups(of: host).sorted { a, b in
            let (da, db) = (depth(of: a), depth(of: b))
            if da != db { return da < db }
            let (pa, pb) = (priority(a), priority(b))
            if pa != pb { return pa < pb }
            return a < b
        }
        merge(groups["all"]?.vars ?? [])
        for g in sorted { merge(groups[g]!.vars) }
        merge(groups["all"]?.fileVars ?? [])
        merge(groups["all"]?.playbookVars ?? [])
        for g in sorted { merge(groups[g]!.fileVars) }
        for g in sorted { merge(groups[g]!.playbookVars) }
        merge(hosts[host]?.vars ?? [])
        merge(hosts[host]?.fileVars ?? [])
        merge(hosts[host]?.playbookVars ?? [])
        merge(overrides)
        return result
    }

    private func priority(_ group: String) -> Int { groups[group]?.priority ?? 1 }
}
