import ArgumentParser
import CohortCore
import CohortInventory
import Foundation

struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Show an inventory as ansible-inventory does (--list JSON, --graph tree).")

    @OptionGroup var inventoryOptions: InventoryOptions

    @Flag(help: "Print groups, hosts and hostvars as JSON, like ansible-inventory --list.")
    var list = false

    @Flag(help: "Print the group tree, like ansible-inventory --graph.")
    var graph = false

    @Option(help: "Print one host's variables as JSON.")
    var host: String?

    @Argument(help: "With --graph: the group to start from.")
    var group: String?

    func validate() throws {
        guard [list, graph, host != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --list, --graph, --host HOST")
        }
    }

    func run() throws {
        let (inventory, _) = try inventoryOptions.load()
        if list {
            Out.write(Array(inventory.listJSON().utf8))
        } else if graph {
            let root = group ?? "all"
            guard inventory.groups[root] != nil else { throw ValidationError("no group named '\(Printable.escaped(root))'") }
            Out.write(Array(inventory.graph(from: root).utf8))
        } else if let host {
            guard inventory.hosts[host] != nil else { throw ValidationError("no host named '\(Printable.escaped(host))'") }
            Out.write(Array((JSONText.render(.dict(inventory.variables(of: host))) + "\n").utf8))
        }
        try Out.check()
    }
}
