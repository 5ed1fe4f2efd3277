import CohortCore
import CohortVault
import Foundation
import Testing

@testable import CohortInventory

@Suite struct PythonLiteralTests {
    @Test func literalsAreTypedLikeAstLiteralEval() {
        #expect(PythonLiteral.parse("1") == .int(1))
        #expect(PythonLiteral.parse("-3") == .int(-3))
        #expect(PythonLiteral.parse("1_000") == .int(1000))
        #expect(PythonLiteral.parse("0x1F") == .int(31))
        #expect(PythonLiteral.parse("1.5") == .double(1.5))
        #expect(PythonLiteral.parse("1e3") == .double(1000))
        #expect(PythonLiteral.parse("True") == .bool(true))
        #expect(PythonLiteral.parse("None") == .null)
        #expect(PythonLiteral.parse("'a\\tb'") == .string("a\tb"))
        #expect(PythonLiteral.parse("[1, 'x', (2,)]") == .list([.int(1), .string("x"), .list([.int(2)])]))
        #expect(PythonLiteral.parse("{'a': [1], 2: None}") == .dict([("a", .list([.int(1)])), ("2", .null)]))
    }

    @Test func nonLiteralsStayStrings() {
        for text in ["yes", "a b", "/usr/bin:/bin", "01", "1.2.3", "[1,", "true", "foo()", ""] {
            #expect(PythonLiteral.parse(text) == nil, "\(text)")
        }
    }
}

@Suite struct HostRangeTests {
    @Test func numericAlphabeticPaddedAndStrided() throws {
        #expect(try HostRange.expand("web[01:03]") == ["web01", "web02", "web03"])
        #expect(try HostRange.expand("db-[a:c]") == ["db-a", "db-b", "db-c"])
        #expect(try HostRange.expand("n[001:010:3]") == ["n001", "n004", "n007", "n010"])
        #expect(try HostRange.expand("r[1:2]-n[1:2]") == ["r1-n1", "r1-n2", "r2-n1", "r2-n2"])
        #expect(try HostRange.expand("plain") == ["plain"])
    }

    @Test func badRangesAreRejected() {
        #expect(throws: RangeError.self) { try HostRange.expand("w[01:3]") }
        #expect(throws: RangeError.self) { try HostRange.expand("w[c:a]") }
        #expect(throws: RangeError.self) { try HostRange.expand("w[1:]") }
    }

    @Test func portsAreSplitOffAddresses() throws {
        #expect(try HostRange.splitPort("web:2222") == ("web", 2222))
        #expect(try HostRange.splitPort("[::1]:2200") == ("::1", 2200))
        #expect(try HostRange.splitPort("fe80::1") == ("fe80::1", nil))
        #expect(throws: RangeError.self) { try HostRange.splitPort("web:http") }
    }
}

@Suite struct InventoryErrorTests {
    private func load(_ text: String, name: String = "hosts.ini") throws -> Inventory {
        let dir = NSTemporaryDirectory() + "cohort-inv-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        return try Inventory.load(path: dir + "/" + name)
    }

    private func error(_ text: String, name: String = "hosts.ini") -> CohortError? {
        #expect(throws: CohortError.self) { _ = try load(text, name: name) }
    }

    @Test func everyMistakeNamesFileAndLine() throws {
        let cases: [(String, Int, String)] = [
            ("[web]\nw1\n[web:nonsense]\n", 3, "unknown type 'nonsense'"),
            ("[web]\nw1 novalue\n", 2, "expected key=value host variable assignment, got 'novalue'"),
            ("[web:vars]\nx=1\n", 1, "[web:vars] is for a group that is never defined"),
            ("[all:children]\nghost\n", 2, "includes undefined group 'ghost'"),
            ("[web]\nw[01:3]\n", 2, "equal-length"),
            ("[web]\nw1 x='unterminated\n", 2, "no closing quotation"),
            ("[web:vars]\n[web]\nw1\n[web:vars]\njust words\n", 5, "expected key=value"),
            ("[bad group]\n", 1, "invalid section entry"),
        ]
        for (text, line, message) in cases {
            let failure = try #require(error(text))
            #expect(failure.line == line, "\(text)")
            #expect(failure.message.contains(message), "\(failure.message)")
            #expect(failure.file?.hasSuffix("hosts.ini") == true)
            #expect(CohortExitCode(for: failure) == .invalidInput)
        }
    }

    @Test func yamlMistakesNameFileAndLine() throws {
        let bad = try #require(error("all:\n  hosts:\n    a: [1\n", name: "inv.yml"))
        #expect(bad.file?.hasSuffix("inv.yml") == true)
        #expect(bad.line != nil)
        let wrongKey = try #require(error("all:\n  children:\n    web:\n      host:\n        a:\n", name: "inv.yml"))
        #expect(wrongKey.line == 4)
        #expect(wrongKey.message.contains("unexpected key 'host'"))
    }

    /// An inline `!vault` host variable is opened with the run's vault passwords (the value
    /// is the vault oracle's, Tests/Playbooks/vault/site.yml, password in password.txt there);
    /// without one it is an error naming the file and line, never the ciphertext as a value.
    @Test func anInlineVaultValueIsDecrypted() throws {
        let text = "all:\n  hosts:\n    a:\n      secret: !vault |\n            $ANSIBLE_VAULT;1.1;AES256\n            66383961366361663035643934373138626436346435643934363933666533616333306438343537\n            3538643938383437383062623033653766616434323537390a393039616239396133626363653331\n            31666238363766363366616362343736633265316632653333316164333535336263333061333139\n            3733366134646437360a633932373765623139376330373839663332393533633663316238343633\n            66616539353862346637363062326637303830303336363661343639333065656138\n"
        let secret = VaultSecret(label: "default", password: Array("vault-oracle-default".utf8))
        let inventory = try Vault.$secrets.withValue([secret]) { try load(text, name: "inv.yml") }
        #expect(inventory.variables(of: "a").first { $0.0 == "secret" }?.1 == .string("inline value, multi word"))
        let refused = try #require(error(text, name: "inv.yml"))
        #expect(refused.message.contains("vault-encrypted data, and no vault password was given"), "\(refused.message)")
        #expect(refused.file?.hasSuffix("inv.yml") == true && refused.line == 4, "\(refused)")
    }

    @Test func aMissingInventoryIsAnInputError() {
        #expect(throws: CohortError.self) { _ = try Inventory.load(path: "/nonexistent/inventory.ini") }
    }

    @Test func patternsThatMatchNothingAreEmptyNotErrors() throws {
        let inventory = try load("[web]\nw1\nw2\n[db]\nd1\n")
        #expect(try HostPattern.resolve("nothing", in: inventory) == [])
        #expect(try HostPattern.resolve("web:!w1", in: inventory) == ["w2"])
        #expect(try HostPattern.resolve("~w", in: inventory) == ["w1", "w2"])
        #expect(throws: CohortError.self) { try HostPattern.resolve("~[", in: inventory) }
    }
}
