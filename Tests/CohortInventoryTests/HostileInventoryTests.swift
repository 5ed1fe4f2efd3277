import CohortCore
import Foundation
import Testing

@testable import CohortInventory

/// Inventories that used to crash Cohort, grow its memory without bound or be misread: each
/// is now an error naming its file and line (exit 4), and nothing is contacted.
@Suite struct HostileInventoryTests {
    /// Writes `text` under `name` in a scratch folder and loads it.
    static func load(_ name: String, _ text: String) throws(CohortError) -> Inventory {
        let dir = NSTemporaryDirectory() + "cohort-hostile-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
        return try Inventory.load(path: dir + "/" + name)
    }

    static func failure(_ name: String, _ text: String) -> CohortError? {
        do {
            _ = try load(name, text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("cycle.ini", "[a:children]\nb\n[b:children]\na\n[a]\nh1\n", 4, "'a' as child to 'b' creates a recursive dependency loop"),
        ("self.ini", "[a:children]\na\n", 2, "'a' as child to 'a'"),
        ("late.ini", "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n[a]\nh\n[b]\n[c]\n", 6, "'a' as child to 'c'"),
        ("cycle.yml", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a: {}\n", 5, "recursive dependency loop"),
        ("open.ini", "[web\nh1\n", 1, "section header '[web' is not closed"),
        ("range.ini", "[web]\nh[1:3\n", 2, "is not closed: it needs a ']'"),
        ("huge.ini", "[web]\nh[1:100000000]\n", 2, "expands to more than 100000 hosts"),
        ("product.ini", "[web]\nh[1:400]x[1:400]\n", 2, "expands to more than 100000 hosts"),
        ("overflow.ini", "h[-9223372036854775808:9223372036854775807]\n", 1, "more than 100000"),
        ("port.ini", "[web]\nh1 ansible_port=http\n", 2, "ansible_port must be a port number (1-65535), not 'http'"),
        ("port2.ini", "[web]\nh1\n[web:vars]\nansible_port=99999\n", 4, "not '99999'"),
        ("port.yml", "all:\n  hosts:\n    h1:\n      ansible_port: 99999\n", 4, "not '99999'"),
        ("dup.yml", "all:\n  vars:\n    x: 1\n    x: 2\n", 3, "duplicate key 'x'"),
        ("plugin.yml", "plugin: constructed\nstrict: false\n", 1, "inventory plugin 'constructed'; inventory plugins are not supported"),
        ("inline.yml", "all:\n  vars:\n    s: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      3633\n", 3, "vault-encrypted data, and no vault password was given"),
    ])
    func refusedWithFileAndLine(name: String, text: String, line: Int, message: String) throws {
        let error = try #require(Self.failure(name, text), "\(name) was accepted")
        #expect(error.code == .invalidInput)
        #expect(error.file?.hasSuffix("/" + name) == true)
        #expect(error.line == line, "\(name): \(error)")
        #expect(error.message.contains(message), "\(name): \(error)")
    }

    @Test func aYAMLAliasBombIsRefusedQuickly() throws {
        var text = "all:\n  vars:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        let names = Array("bcdefghi")
        for (index, name) in names.enumerated() {
            let previous = index == 0 ? "a" : String(names[index - 1])
            text += "    \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = try #require(Self.failure("bomb.yml", text))
        #expect(error.message.contains("more than 1000000 values once its aliases are followed"))
    }

    @Test func deepNestingIsNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let inventory = try Self.load("deep.ini", "[web]\nh1 x=\(deep)\n")
        // Beyond Python's nesting limit the text stays a string, as in Ansible.
        #expect(inventory.variables(of: "h1").first { $0.0 == "x" }?.1 == .string(deep))
        let yaml = try #require(Self.failure("deep.yml", "all:\n  vars:\n    x: \(deep)\n"))
        #expect(yaml.message.contains("nesting"), "\(yaml)")
    }

    @Test func vaultAndBinaryFilesAreNamed() throws {
        let vault = try #require(Self.failure("hosts", "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n"))
        #expect(vault.message.contains("vault-encrypted data, and no vault password was given"), "\(vault)")
        #expect(vault.file?.hasSuffix("/hosts") == true)
        let binary = try #require(Self.failure("hosts", "\u{7f}ELF\u{2}\u{1}\u{0}\u{0}[web]\n"))
        #expect(binary.message.contains("not a text file"))
        #expect(binary.file?.hasSuffix("/hosts") == true)
    }
}
