import CohortCore

extension Inventory {
    /// `group_by`: `host` joins `group`, made if new (with the `group_vars/` files named after
    /// it), under each of `parents` (made if new), as Ansible's `add_dynamic_group` does, and
    /// whether that changed anything (a new parent, a new link, the host new in the group).
    /// A change reconciles the inventory as Ansible's does (a parentless group joins `all`, a
    /// grouped host leaves `ungrouped`). A link that would make a group its own ancestor is
    /// refused, as Ansible refuses a recursive dependency loop.
    public mutating func addDynamicGroup(_ group: String, parents: [String], host: String) throws(CohortError) -> Bool {
        guard hosts[host] != nil else { throw CohortError(.invalidInput, "\(host) cannot be matched in inventory") }
        for parent in parents where parent == group || descendants(of: group).contains(parent) {
            throw CohortError(.invalidInput, "Adding group '\(group)' as child to '\(parent)' creates a recursive dependency loop.")
        }
        var changed = false
        for name in [group] + parents where groups[name] == nil {
            addRunTimeGroup(name)
            if name != group { changed = true }
        }
        for parent in parents where !groups[parent]!.children.contains(group) {
            addChild(group, to: parent)
            changed = true
        }
        if !groups[group]!.hosts.contains(host) {
            addHost(host, to: group)
            changed = true
        }
        if changed { reconcile() }
        return changed
    }
}

extension Inventory {
    /// `add_host`: `name` made if new, its own variables merged with `vars`, and made a member
    /// of each of `groups` (made if new), as Ansible's `add_dynamic_host` does; whether that
    /// changed anything. A change reconciles the inventory (a host in no group joins
    /// `ungrouped`). Connection variables are checked as the inventory's are.
    public mutating func addDynamicHost(_ name: String, groups newGroups: [String], vars: [(String, InventoryValue)]) throws(CohortError) -> Bool {
        for (key, value) in vars { try Self.check(key, value, file: "add_host", line: nil) }
        var changed = false
        if hosts[name] == nil {
            addHost(name)
            changed = true
        }
        for (key, value) in vars where hosts[name]!.vars.first(where: { $0.0 == key })?.1 != value {
            setVar(host: name, key, value)
            changed = true
        }
        for group in newGroups {
            if groups[group] == nil {
                addRunTimeGroup(group)
                changed = true
            }
            if !groups[group]!.hosts.contains(name) {
                addHost(name, to: group)
                changed = true
            }
        }
        if changed { reconcile() }
        return changed
    }
}

extension Inventory {
    /// A group made while a playbook runs, with the `group_vars/` files named after it.
    mutating func addRunTimeGroup(_ name: String) {
        addGroup(name)
        if let spare = spareGroupVars.removeValue(forKey: name) {
            setFileVars(group: name, spare.file)
            setFileVars(group: name, spare.playbook, playbook: true)
        }
    }
}
