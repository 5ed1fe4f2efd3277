import CohortCore
import CohortTestSupport
import Foundation
import Testing

@testable import CohortInventory

/// The TOML parser against Python's `tomllib` (what ansible-core reads TOML inventories with),
/// and its errors.
@Suite struct TOMLDocumentTests {
    static let documents = [
        "a = 1\nb = -2\nc = +3\nd = 1_000\ne = 0xDEAD_beef\nf = 0o755\ng = 0b1101\n",
        "f1 = 1.5\nf2 = -0.25e3\nf3 = 5e+22\nf4 = 6.626e-34\nf5 = 3.14_15\n",
        "s1 = \"tab\\there \\\"q\\\" \\u00e9 \\U0001F600\"\ns2 = 'C:\\path\\x'\ns3 = \"\"\"\nline one\nline two\\\n    continued\"\"\"\ns4 = '''\nraw \\n ''quoted''\n'''\n",
        "[t]\nx = 1\n[t.u]\ny = [1, [2, 3], { z = 'w' }]\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n",
        "a.b.c = 1\na.b.d = 2\n\"quoted key\".x = true\n'lit'.y = false\n",
        "arr = [\n  1,\n  2, # comment\n  3,\n]\nempty = []\ninline = {}\n",
        "# only comments\n\n  # and blank lines\nk = \"v\" # trailing\n",
        "crlf = 1\r\n[t]\r\nx = \"y\"\r\n",
        "odt = 1979-05-27T07:32:00Z\nldt = 1979-05-27T07:32:00\nld = 1979-05-27\nsp = 1979-05-27 07:32:00+01:00\n",
    ]

    /// What tomllib makes of it, as JSON (dates as Python's isoformat, as ansible-core shows them).
    static func oracle(_ toml: String) async throws -> String {
        let script = """
            import json, sys, tomllib, datetime
            def conv(o):
                if isinstance(o, dict): return {k: conv(v) for k, v in o.items()}
                if isinstance(o, list): return [conv(v) for v in o]
                if isinstance(o, (datetime.date, datetime.time)): return o.isoformat()
                return o
            print(json.dumps(conv(tomllib.loads(sys.stdin.read())), sort_keys=True))
            """
        let result = try await Shell.run("/usr/bin/env", ["python3", "-c", script], stdin: toml)
        guard result.status == 0 else { throw FleetError("tomllib refused: \(result.stderr)") }
        return result.stdout
    }

    static func canonical(_ json: String) async throws -> String {
        let script = "import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))"
        return try await Shell.run("/usr/bin/env", ["python3", "-c", script], stdin: json).stdout
    }

    @Test(arguments: documents)
    func parsesAsTomllibDoes(toml: String) async throws {
        let table = try TOMLParser.parse(toml)
        let ours = JSONText.render(try TOMLInventoryParser.convert(.table(table), file: "t.toml", line: nil))
        #expect(try await Self.canonical(ours) == (try await Self.oracle(toml)), "\(toml)")
    }

    @Test func keysKeepFileOrder() throws {
        let table = try TOMLParser.parse("zeta = 1\nalpha = 2\n[mid]\n[beta]\n")
        #expect(table.keys == ["zeta", "alpha", "mid", "beta"])
    }

    @Test(arguments: [
        ("a = 1\na = 2\n", 2, "defined twice"),
        ("[t]\n[t]\n", 2, "defined twice"),
        ("a = \"open\n", 1, "not closed"),
        ("x = 1\ny = bare\n", 2, "not a TOML value"),
        ("x = [1, 2\n", 2, "in an array"),
        ("x = { a = 1,\n b = 2 }\n", 1, "one line"),
        ("x = 1 y = 2\n", 1, "end of the line"),
        ("[t\nx = 1\n", 1, "must end with ']'"),
        ("x = 007\n", 1, "not a TOML value"),
        ("x = \"\\q\"\n", 1, "unknown escape"),
    ])
    func errorsHaveALine(toml: String, line: Int, message: String) {
        do {
            _ = try TOMLParser.parse(toml)
            Issue.record("accepted: \(toml)")
        } catch {
            #expect(error.line == line, "\(toml): \(error)")
            #expect(error.message.contains(message), "\(toml): \(error.message)")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = "x = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        #expect(throws: TOMLError.self) { try TOMLParser.parse(deep) }
    }

    @Test func inventoryMistakesAreFileAndLineErrors() throws {
        for (text, line, message) in [
            ("[web]\nhost = { a = 1 }\n", 2, "unexpected key 'host'"),
            ("[web]\nchildren = \"db\"\n", 2, "must be a list of group names"),
            ("[web.hosts]\nh1 = { ansible_port = 99999 }\n", 2, "ansible_port must be a port number"),
            ("plugin = \"aws_ec2\"\n", 1, "inventory plugin 'aws_ec2'"),
            ("[a]\nchildren = [\"b\"]\n[b]\nchildren = [\"a\"]\n", 4, "recursive dependency loop"),
        ] {
            var inventory = Inventory()
            do {
                try TOMLInventoryParser.parse(text, file: "inv.toml", into: &inventory)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.file == "inv.toml" && error.line == line, "\(text): \(error)")
                #expect(error.message.contains(message), "\(text): \(error)")
            }
        }
    }
}
