import CohortTestSupport
import Foundation
import Testing

/// Usage of the `cohort` binary: where options may stand, what is refused before anything
/// runs (exit 4), help and version. Local hosts only (`ansible_connection=local`): no network.
@Suite(.serialized) struct CLIUsageTests {
    /// A scratch folder with an inventory of one local host.
    final class Scratch {
        let dir = NSTemporaryDirectory() + "cohort-usage-" + UUID().uuidString
        var inventory: String { dir + "/inv.ini" }
        var marker: String { dir + "/ran" }
        init() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "[here]\nlaptop ansible_connection=local cohort_slots=1\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    @Test func versionIsPrinted() async throws {
        let result = try await CLIRunTests.cohort(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("cohort "))
    }

    @Test func optionsAfterThePatternAreOptionsNotTheCommand() async throws {
        let scratch = try Scratch()
        let json = try await CLIRunTests.cohort(["run", "-i", scratch.inventory, "all", "--json", "--", "echo", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains(#""data": "--json\n""#), "\(json.stdout)")
        let gather = try await CLIRunTests.cohort(["run", "all", "-i", scratch.inventory, "--gather", "--", "echo hi"])
        #expect(gather.status == 0, "\(gather.stderr)")
        #expect(gather.stdout.contains("laptop") && gather.stdout.contains("hi"), "\(gather.stdout)")
        let bare = try await CLIRunTests.cohort(["run", "-i", scratch.inventory, "all", "echo", "bare"])
        #expect(bare.stdout == "laptop | bare\n")
    }

    @Test func aCommandStartingWithADashNeedsTheTerminator() async throws {
        let scratch = try Scratch()
        for command in [["-x"], ["touch", scratch.marker, "-x"]] {
            let result = try await CLIRunTests.cohort(["run", "-i", scratch.inventory, "all"] + command)
            #expect(result.status == 4, "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.marker))
    }

    @Test func mapHelpIsHelp() async throws {
        let result = try await CLIRunTests.cohort(["map", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: cohort map"))
    }

    @Test func anUnknownMapOptionRunsNothing() async throws {
        let scratch = try Scratch()
        let result = try await CLIRunTests.cohort(["map", "-i", scratch.inventory, "--bogus", "touch \(scratch.marker)", ":::", "a"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("unknown option '--bogus'"))
        #expect(!FileManager.default.fileExists(atPath: scratch.marker))
    }

    @Test(arguments: [
        (["--slots", "0"], "--slots (-j) takes N (at least 1), +N, -N or N% of a host's cores, not '0'"),
        (["--retries", "-1"], "--retries cannot be negative"),
        (["--timeout", "-5"], "--timeout must be positive"),
        (["--heartbeat-timeout", "1"], "--heartbeat-timeout must be at least 3 seconds"),
        (["--joblog", "/nonexistent-dir/jobs.tsv"], "directory /nonexistent-dir does not exist"),
        (["--journal", "/nonexistent-dir/j"], "directory /nonexistent-dir does not exist"),
    ])
    func badMapValuesAreUsageErrors(flags: [String], message: String) async throws {
        let scratch = try Scratch()
        let result = try await CLIRunTests.cohort(["map", "-i", scratch.inventory] + flags + ["touch \(scratch.marker)", ":::", "a"])
        #expect(result.status == 4, "\(flags): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.marker))
    }

    /// Names from the inventory with line ends, tabs and escape sequences are shown escaped:
    /// they cannot forge an output line, nor break a joblog that --resume must read back.
    @Test func hostileHostNamesCannotForgeLinesOrBreakTheJoblog() async throws {
        let scratch = try CLIUsageTests.Scratch()
        let inventory = scratch.dir + "/evil.yml"
        try #"""
        all:
          hosts:
            "evil\nforged | pwned\t\e]0;x\a":
              ansible_connection: local
              cohort_slots: 1
        """#.write(toFile: inventory, atomically: true, encoding: .utf8)
        let run = try await CLIRunTests.cohort(["run", "-i", inventory, "all", "--", "echo hi"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == #"evil\nforged | pwned\t\x1b]0;x\x07 | hi"# + "\n")
        #expect(!run.stderr.contains("\u{1b}") && !run.stderr.contains("\nforged"), "\(run.stderr)")
        let joblog = scratch.dir + "/jobs.tsv"
        let map = try await CLIRunTests.cohort(["map", "-i", inventory, "--joblog", joblog, "printf '%s\\n\\t' {}", ":::", "a\nb", "c\td"])
        #expect(map.status == 0, "\(map.stderr)")
        let lines = try String(contentsOfFile: joblog, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 9 }, "\(lines)")
        let resumed = try await CLIRunTests.cohort(["map", "-i", inventory, "--joblog", joblog, "--resume", "printf '%s\\n\\t' {}", ":::", "a\nb", "c\td"])
        #expect(resumed.status == 0, "--resume reads its own joblog: \(resumed.stderr)")
        #expect(resumed.stderr.contains("2 skipped"), "\(resumed.stderr)")
    }

    /// Errors that quote input (an inventory's host name, a playbook's value, a flag's value)
    /// show it escaped: before, `cohort: FILE:3: host range in 'ev` was followed by a forged
    /// second line and a terminal escape.
    @Test func errorsQuotingInputCannotForgeLines() async throws {
        let scratch = try CLIUsageTests.Scratch()
        let inventory = scratch.dir + "/evil.yml"
        try #"""
        all:
          hosts:
            "ev\nFORGED | owned\e[2J[":
        """#.write(toFile: inventory, atomically: true, encoding: .utf8)
        let book = scratch.dir + "/evil.yml.play"
        try #"""
        - hosts: all
          tasks:
            - "ev\nFORGED | owned\e[2J": {}
        """#.write(toFile: book, atomically: true, encoding: .utf8)
        let local = scratch.dir + "/local.ini"
        try "h ansible_connection=local\n".write(toFile: local, atomically: true, encoding: .utf8)
        let cases: [[String]] = [
            ["inventory", "-i", inventory, "--list"],
            ["run", "-i", inventory, "all", "--", "true"],
            ["play", "-i", local, book],
            ["map", "-i", local, "--halt", "x\nFORGED\u{1b}[2J", "echo", ":::", "a"],
            ["map", "-i", local, "-x\nFORGED\u{1b}[2J", "echo", ":::", "a"],
            ["copy", "-i", local, "--mode", "x\nFORGED\u{1b}[2J", "all", local, "/tmp/x"],
        ]
        for arguments in cases {
            let result = try await CLIRunTests.cohort(arguments)
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(#"\nFORGED"#), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("\nFORGED") && !result.stderr.contains("\u{1b}"), "\(arguments): \(result.stderr)")
        }
    }
}
