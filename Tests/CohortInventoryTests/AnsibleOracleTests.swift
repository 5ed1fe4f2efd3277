import CohortInventory
import CohortTestSupport
import Foundation
import Testing

/// ansible-core is the oracle: every fixture inventory must give the same `--list` JSON
/// (groups, hosts, children, typed hostvars) and the same `--graph` as ansible-inventory, and
/// host patterns must select the same hosts as `ansible --list-hosts`.
@Suite struct AnsibleOracleTests {
    static let fixtures = TestFleet.repositoryRoot + "/Tests/CohortInventoryTests/Fixtures"

    static let cases: [String] = [
        "ini-basic/hosts.ini", "ini-precedence/hosts.ini", "ini-ranges/hosts.ini",
        "yaml-basic/hosts.yml", "yaml-types/inventory.yaml", "dir-with-docs", "toml-basic/hosts.toml",
    ]

    /// Found through COHORT_ANSIBLE_INVENTORY (set by `make test`) or PATH. Missing is a failure,
    /// not a skip: these tests are the compatibility guarantee.
    static func oracle(_ tool: String = "ansible-inventory") throws -> String {
        if let configured = ProcessInfo.processInfo.environment["COHORT_ANSIBLE_INVENTORY"] {
            return (configured as NSString).deletingLastPathComponent + "/" + tool
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw OracleMissing()
    }

    struct OracleMissing: Error, CustomStringConvertible {
        var description: String { "ansible-core is not installed: run `make test` (it installs it into .build-oracle/venv)" }
    }

    static let quiet = ["ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_NOCOLOR": "1"]

    /// Canonical JSON in which 1, 1.0 and true stay different.
    static func canonical(_ json: String) async throws -> String {
        let script = "import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))"
        let result = try await Shell.run("/usr/bin/env", ["python3", "-c", script], stdin: json)
        guard result.status == 0 else { throw FleetError("not JSON: \(result.stderr)\n\(json)") }
        return result.stdout
    }

    @Test(arguments: cases)
    func listMatchesAnsibleInventory(fixture: String) async throws {
        let path = Self.fixtures + "/" + fixture
        let theirs = try await Shell.run(try Self.oracle(), ["-i", path, "--list"], environment: Self.quiet)
        try #require(theirs.status == 0, "ansible-inventory failed: \(theirs.stderr)")
        let ours = try Inventory.load(path: path).listJSON()
        let (mine, oracle) = (try await Self.canonical(ours), try await Self.canonical(theirs.stdout))
        #expect(mine == oracle)
    }

    @Test(arguments: cases)
    func graphMatchesAnsibleInventory(fixture: String) async throws {
        let path = Self.fixtures + "/" + fixture
        let theirs = try await Shell.run(try Self.oracle(), ["-i", path, "--graph"], environment: Self.quiet)
        try #require(theirs.status == 0, "ansible-inventory failed: \(theirs.stderr)")
        #expect(try Inventory.load(path: path).graph() == theirs.stdout)
    }

    /// CRLF line ends (a file saved on Windows) read as Ansible reads them.
    @Test(arguments: ["ini-basic/hosts.ini", "ini-ranges/hosts.ini", "yaml-basic/hosts.yml"])
    func crlfInventoriesMatchAnsibleInventory(fixture: String) async throws {
        let dir = NSTemporaryDirectory() + "cohort-crlf-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/" + (fixture as NSString).lastPathComponent
        let text = try String(contentsOfFile: Self.fixtures + "/" + fixture, encoding: .utf8)
        try text.replacingOccurrences(of: "\n", with: "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        let theirs = try await Shell.run(try Self.oracle(), ["-i", path, "--list"], environment: Self.quiet)
        try #require(theirs.status == 0, "ansible-inventory failed: \(theirs.stderr)")
        let ours = try Inventory.load(path: path)
        #expect(!ours.hostOrder.contains { $0.contains("\r") || $0.contains("[") })
        #expect(try await Self.canonical(ours.listJSON()) == (try await Self.canonical(theirs.stdout)))
    }

    /// The examples in docs/inventory.md parse, and as ansible-inventory reads them.
    @Test(arguments: ["ini", "yaml", "toml"])
    func theGuidesExamplesMatchAnsibleInventory(language: String) async throws {
        let guide = try String(contentsOfFile: TestFleet.repositoryRoot + "/docs/inventory.md", encoding: .utf8)
        let start = try #require(guide.range(of: "```\(language)\n"), "no \(language) example in the guide")
        let end = try #require(guide[start.upperBound...].range(of: "```"))
        let dir = NSTemporaryDirectory() + "cohort-guide-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/example." + (language == "yaml" ? "yml" : language)
        try String(guide[start.upperBound..<end.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)
        let theirs = try await Shell.run(try Self.oracle(), ["-i", path, "--list"], environment: Self.quiet)
        try #require(theirs.status == 0, "ansible-inventory failed: \(theirs.stderr)")
        #expect(try await Self.canonical(try Inventory.load(path: path).listJSON()) == (try await Self.canonical(theirs.stdout)))
    }

    static let patterns = [
        "all", "*", "web", "prod", "web:db", "prod:&web", "prod:!db", "~web0[12]", "web*", "*.example.com",
        "web[0]", "web[1:2]", "web[-1]", "db001,solo", "!db", "&prod:web", "ungrouped", "prod:!web0*:&web",
    ]

    @Test func patternsSelectTheSameHostsAsAnsible() async throws {
        let path = Self.fixtures + "/ini-basic/hosts.ini"
        let inventory = try Inventory.load(path: path)
        for pattern in Self.patterns {
            let theirs = try await Shell.run(try Self.oracle("ansible"), ["-i", path, pattern, "--list-hosts"], environment: Self.quiet)
            try #require(theirs.status == 0, "ansible --list-hosts \(pattern) failed: \(theirs.stderr)")
            // "  hosts (2):\n    web01\n    web02\n"
            let expected = theirs.stdout.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(try HostPattern.resolve(pattern, in: inventory) == expected, "pattern \(pattern)")
        }
    }
}
