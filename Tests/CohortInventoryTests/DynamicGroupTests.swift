import CohortCore
import Foundation
import Testing

@testable import CohortInventory

/// `group_by`'s change to the inventory, as ansible-core 2.19's `add_dynamic_group` makes it:
/// what counts as a change, a new group's `group_vars/` file, `ungrouped` left, loops refused.
@Suite struct DynamicGroupTests {
    private func load(_ text: String, groupVars: [String: String]) throws -> Inventory {
        let dir = NSTemporaryDirectory() + "cohort-dyn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/group_vars", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, body) in groupVars { try body.write(toFile: dir + "/group_vars/" + name, atomically: true, encoding: .utf8) }
        try text.write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        return try Inventory.load(path: dir + "/hosts.ini")
    }

    @Test func aNewGroupTakesItsGroupVarsAndTheHostLeavesUngrouped() throws {
        var inventory = try load("a\nb\n", groupVars: ["debian.yml": "colour: blue\n", "all.yml": "colour: grey\n"])
        #expect(inventory.hosts(in: "ungrouped") == ["a", "b"])
        #expect(inventory.variables(of: "a").first { $0.0 == "colour" }?.1.text == "grey")
        #expect(try inventory.addDynamicGroup("debian", parents: ["all"], host: "a"))
        #expect(inventory.hosts(in: "debian") == ["a"])
        #expect(inventory.hosts(in: "ungrouped") == ["b"])
        #expect(inventory.variables(of: "a").last { $0.0 == "colour" }?.1.text == "blue")
        #expect(inventory.variables(of: "b").last { $0.0 == "colour" }?.1.text == "grey")
        // Again for the same host: nothing changes.
        #expect(try !inventory.addDynamicGroup("debian", parents: ["all"], host: "a"))
        #expect(try inventory.addDynamicGroup("debian", parents: ["all"], host: "b"))
    }

    @Test func parentsAreMadeAndLinked() throws {
        var inventory = try load("[web]\na\n", groupVars: [:])
        #expect(try inventory.addDynamicGroup("x", parents: ["managed", "web"], host: "a"))
        #expect(inventory.groups["x"]?.parents.sorted() == ["managed", "web"])
        // A parentless new group joins `all` when the inventory is reconciled.
        #expect(inventory.groups["managed"]?.parents == ["all"])
        #expect(try !inventory.addDynamicGroup("x", parents: ["managed"], host: "a"))
        #expect(try inventory.addDynamicGroup("x", parents: ["other"], host: "a"))
    }

    @Test func aLoopIsRefused() throws {
        var inventory = try load("a\n", groupVars: [:])
        #expect(try inventory.addDynamicGroup("p", parents: ["q"], host: "a"))
        #expect(throws: CohortError.self) { try inventory.addDynamicGroup("q", parents: ["p"], host: "a") }
        #expect(throws: CohortError.self) { try inventory.addDynamicGroup("all", parents: ["all"], host: "a") }
        #expect(throws: CohortError.self) { try inventory.addDynamicGroup("p", parents: ["p"], host: "a") }
        #expect(throws: CohortError.self) { try inventory.addDynamicGroup("z", parents: ["all"], host: "nobody") }
    }
}
