import CohortCore
import CohortInventory
import CohortSSH

/// One inventory host, resolved: where and how to reach it, and how many workers it runs.
public struct FleetHost: Sendable {
    public var connection: HostConnection
    /// `cohort_slots` from the inventory; nil means the host's core count.
    public var slots: Int?

    public var name: String { connection.name }

    public init(connection: HostConnection, slots: Int? = nil) {
        self.connection = connection
        self.slots = slots
    }
}

/// The one place hosts are chosen and resolved, for `cohort run`, `cohort map`, the library's
/// `Cluster` (and playbooks): inventory, pattern, `--limit`, ssh_config and the options become
/// targets. Everything is resolved before anything connects, so one bad host variable stops
/// the run with `file:line: what is wrong` and nothing runs.
public enum FleetHosts {
    /// Hosts matching `pattern` (and `limit`), in inventory order. No match is exit 4 unless
    /// `allowEmpty`.
    public static func names(
        matching pattern: String, limit: String? = nil, allowEmpty: Bool = false, in inventory: Inventory
    ) throws -> [String] {
        var hosts = try HostPattern.resolve(pattern, in: inventory)
        if let limit {
            let allowed = Set(try HostPattern.resolve(limit, in: inventory))
            hosts.removeAll { !allowed.contains($0) }
        }
        if hosts.isEmpty, !allowEmpty {
            let scope = limit.map { "'\(pattern)' limited to '\($0)'" } ?? "'\(pattern)'"
            throw CohortError(.noHostsMatched, "host pattern \(scope) matches no host in the inventory (use --allow-empty to accept)")
        }
        return hosts
    }

    /// Resolves each named host's connection and slots. More hosts than this process may hold
    /// sockets for (its open-descriptor limit, raised to the hard one) is an error before
    /// anything connects.
    public static func resolve(_ names: [String], in inventory: Inventory, options: ConnectionOptions) throws -> [FleetHost] {
        let sshConfig = try HostConnection.sshConfig(for: options)
        let hosts = try names.map { name in
            let vars = inventory.variables(of: name)
            return FleetHost(
                connection: try HostConnection.resolve(host: name, vars: vars, options: options, sshConfig: sshConfig),
                slots: try slots(of: name, vars))
        }
        let remote = hosts.filter { if case .ssh = $0.connection { return true } else { return false } }.count
        if let why = ProcessLimits.shortfall(hosts: remote, limit: ProcessLimits.raiseOpenFiles()) {
            throw CohortError(.invalidInput, why)
        }
        return hosts
    }

    /// `names` and `resolve` in one step.
    public static func select(
        _ pattern: String, limit: String? = nil, allowEmpty: Bool = false, in inventory: Inventory, options: ConnectionOptions
    ) throws -> [FleetHost] {
        try resolve(try names(matching: pattern, limit: limit, allowEmpty: allowEmpty, in: inventory), in: inventory, options: options)
    }

    /// A host's `cohort_slots`, when its inventory sets one.
    public static func slots(of host: String, _ vars: [(String, InventoryValue)]) throws -> Int? {
        guard let value = vars.last(where: { $0.0 == "cohort_slots" })?.1 else { return nil }
        guard let count = value.intValue, count > 0 else {
            throw CohortError(.invalidInput, "host \(host): cohort_slots must be a positive whole number, not \(value)")
        }
        return count
    }
}
