import CohortTestSupport
import Foundation
import Testing

/// Hosts behind bastions (`scripts/jumpfleet`): their sshds live in a network namespace of
/// their own, so a test that reaches them proves it went through the bastion.
@Suite(.enabled(if: getuid() == 0, "network namespaces need root"))
struct BastionTests {
    static func cohort(_ arguments: [String]) async throws -> Shell.Result { try await CLIRunTests.cohort(arguments) }

    @Test func runMapAndCopyGoThroughOneBastionConnection() async throws {
        let fleet = try JumpFleet.start(targets: 3)
        defer { fleet.stop() }
        let direct = try await Self.cohort(["run", "-i", fleet.inventory, "-F", fleet.sshConfig, "-J", "none", "--connect-timeout", "3", "t1", "--", "true"])
        #expect(direct.status == 2, "the direct path is closed: \(direct.stderr)")

        let run = try await Self.cohort(["run", "-i", fleet.inventory, "-F", fleet.sshConfig, "all", "--", "echo hi"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Set(run.stdout.split(separator: "\n")) == ["t1 | hi", "t2 | hi", "t3 | hi"])
        #expect(fleet.logins("b1") == 1, "one bastion connection served every host")

        let map = try await Self.cohort(["map", "-i", fleet.inventory, "-F", fleet.sshConfig, "--json", "echo {}", ":::"] + (1...300).map(String.init))
        #expect(map.status == 0, "\(map.stderr)")
        let lines = try MapCLITests.jsonLines(map.stdout)
        #expect(lines.compactMap { $0["stdout"] as? String }.sorted() == (1...300).map { "\($0)\n" }.sorted())
        #expect(fleet.logins("b1") == 2)

        let scratch = fleet.directory + "/payload"
        let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        #expect(FileManager.default.createFile(atPath: scratch, contents: Data(payload)))
        let copy = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", fleet.sshConfig, "all", scratch, "~/payload"])
        #expect(copy.status == 0, "\(copy.stderr)")
        for index in 1...3 {
            let copied = FileManager.default.contents(atPath: fleet.directory + "/t\(index)/home/payload")
            #expect(copied == Data(payload), "t\(index) got every byte")
        }
        #expect(fleet.logins("b1") == 3)
    }

    @Test func twoHopsAndTheJumpFlag() async throws {
        let fleet = try JumpFleet.start(targets: 2, hops: 2)
        defer { fleet.stop() }
        let run = try await Self.cohort(["run", "-i", fleet.inventory, "-F", fleet.sshConfig, "all", "--", "echo hi"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Set(run.stdout.split(separator: "\n")) == ["t1 | hi", "t2 | hi"])
        #expect(fleet.logins("b1") == 1 && fleet.logins("b2") == 1)
        let map = try await Self.cohort(["map", "-i", fleet.inventory, "-F", fleet.sshConfig, "echo {}", ":::"] + (1...50).map(String.init))
        #expect(map.status == 0, "\(map.stderr)")
        #expect(map.stdout.split(separator: "\n").sorted() == (1...50).map { "\($0)" }.sorted())
        let payload = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 31) })
        #expect(FileManager.default.createFile(atPath: fleet.directory + "/payload", contents: payload))
        let copy = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", fleet.sshConfig, "all", fleet.directory + "/payload", "~/payload"])
        #expect(copy.status == 0, "\(copy.stderr)")
        for index in 1...2 { #expect(FileManager.default.contents(atPath: fleet.directory + "/t\(index)/home/payload") == payload) }
        // The same chain given with -J (as ssh -J), over a config that names no ProxyJump.
        let plain = fleet.directory + "/plain_config"
        let config = try String(contentsOfFile: fleet.sshConfig, encoding: .utf8)
        try config.replacingOccurrences(of: "  ProxyJump b1,b2\n", with: "").write(toFile: plain, atomically: true, encoding: .utf8)
        let flagged = try await Self.cohort(["run", "-i", fleet.inventory, "-F", plain, "-J", "b1,b2", "t2", "--", "echo flagged"])
        #expect(flagged.status == 0, "\(flagged.stderr)")
        #expect(flagged.stdout == "flagged\n" || flagged.stdout == "t2 | flagged\n", "\(flagged.stdout)")
        // And as Ansible users write it, in the inventory.
        let inventory = fleet.directory + "/args.ini"
        try (try String(contentsOfFile: fleet.inventory, encoding: .utf8) + "\n[targets:vars]\nansible_ssh_common_args='-o ProxyJump=b1,b2'\n")
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let fromArgs = try await Self.cohort(["run", "-i", inventory, "-F", plain, "t1", "--", "echo args"])
        #expect(fromArgs.status == 0, "\(fromArgs.stderr)")
    }

    /// Each hop's key is checked under its own name, as OpenSSH does: an unknown or changed key
    /// at hop 1, at hop 2 and at the target is refused (exit 3), naming the hop it belongs to.
    @Test func eachHopsHostKeyIsCheckedUnderItsOwnName() async throws {
        let fleet = try JumpFleet.start(targets: 1, hops: 2)
        defer { fleet.stop() }
        let lines = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8).split(separator: "\n").map(String.init)
        func key(of host: String) throws -> String {
            try String(contentsOfFile: fleet.directory + "/\(host)/ssh_host_ed25519_key.pub", encoding: .utf8)
                .split(separator: " ").prefix(2).joined(separator: " ")
        }
        let cases: [(prefix: String, name: String, address: String)] = [
            ("[127.0.200.1]:", "b1", "127.0.200.1"), ("127.0.0.5 ", "b2", "127.0.0.5"), ("127.0.0.11 ", "t1", "127.0.0.11"),
        ]
        for (prefix, name, address) in cases {
            let file = fleet.directory + "/kh-\(name)"
            let config = fleet.directory + "/config-\(name)"
            try String(contentsOfFile: fleet.sshConfig, encoding: .utf8)
                .replacingOccurrences(of: "UserKnownHostsFile \(fleet.knownHosts)", with: "UserKnownHostsFile \(file)")
                .write(toFile: config, atomically: true, encoding: .utf8)
            let inventory = fleet.directory + "/inv-\(name).ini"
            try String(contentsOfFile: fleet.inventory, encoding: .utf8)
                .replacingOccurrences(of: "cohort_known_hosts_file=\(fleet.knownHosts)", with: "cohort_known_hosts_file=\(file)")
                .write(toFile: inventory, atomically: true, encoding: .utf8)

            try (lines.filter { !$0.hasPrefix(prefix) }.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let unknown = try await Self.cohort(["run", "-i", inventory, "-F", config, "t1", "--", "true"])
            #expect(unknown.status == 3, "\(name): \(unknown.stderr)")
            #expect(unknown.stderr.contains("host key for \(address)") || unknown.stderr.contains("host key for [\(address)]"), "\(name): \(unknown.stderr)")
            if name != "t1" { #expect(unknown.stderr.contains("through bastion \(name):"), "\(name): \(unknown.stderr)") }

            // Another host's key recorded under this hop's name.
            let other = try key(of: name == "t1" ? "b1" : "t1")
            let changed = lines.map { $0.hasPrefix(prefix) ? String($0.prefix { $0 != " " }) + " " + other : $0 }
            try (changed.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let wrong = try await Self.cohort(["run", "-i", inventory, "-F", config, "t1", "--", "true"])
            #expect(wrong.status == 3, "\(name): \(wrong.stderr)")
            #expect(wrong.stderr.contains("HOST KEY CHANGED"), "\(name): \(wrong.stderr)")
            if name != "t1" { #expect(wrong.stderr.contains("through bastion \(name):"), "\(name): \(wrong.stderr)") }
        }
    }

    @Test func aHundredHostsBehindOneBastionMakeOneConnectionToIt() async throws {
        let fleet = try JumpFleet.start(targets: 100)
        defer { fleet.stop() }
        let run = try await Self.cohort(["run", "-i", fleet.inventory, "-F", fleet.sshConfig, "all", "--", "echo up"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 100, "\(run.stderr)")
        #expect(fleet.logins("b1") == 1, "\(fleet.logins("b1")) bastion logins")
    }

    /// The bastion's connection is cut mid-map: every host behind it is lost at once, said once
    /// as "lost through bastion b1", and their tasks finish on the host that is not behind it,
    /// each reported once (exit 0: every task ended ok).
    @Test func aBastionKilledMidMapLosesItsHostsAndTheirTasksRunElsewhere() async throws {
        let fleet = try JumpFleet.start(targets: 2)
        defer { fleet.stop() }
        let direct = try TestFleet.start(hosts: 1)
        defer { direct.stop() }
        let inventory = fleet.directory + "/mixed.ini"
        let host = direct.hosts[0]
        try (try String(contentsOfFile: fleet.inventory, encoding: .utf8)
            + "\n[direct]\nh1 ansible_host=\(host.address) ansible_port=\(host.port) ansible_ssh_private_key_file=\(direct.clientKey) cohort_known_hosts_file=\(direct.knownHosts)\n")
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            CLIRunTests.binary, ["map", "-i", inventory, "-F", fleet.sshConfig, "--json", "sleep 0.2; echo {}", ":::"] + (1...240).map(String.init))
        child.closeStdin()
        // Read every line as it comes; cut the bastion once both hosts behind it have answered.
        var output = ""
        var cut = false
        while true {
            let bytes = ChildProcess.readSome(child.stdoutFD)
            if bytes.isEmpty { break }
            output += String(decoding: bytes, as: UTF8.self)
            if !cut, output.contains("\"host\": \"t1\""), output.contains("\"host\": \"t2\"") {
                for pid in fleet.sessions(of: "b1") {
                    for process in [pid] + Processes.descendants(of: pid) { kill(process, SIGKILL) }
                }
                cut = true
            }
        }
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        let status = child.wait()
        #expect(cut, "t1 and t2 did not both answer: \(stderr)")
        #expect(status == 0, "every task ended ok, elsewhere: \(stderr)")
        let lines = try MapCLITests.jsonLines(output)
        #expect(lines.compactMap { $0["stdout"] as? String }.sorted() == (1...240).map { "\($0)\n" }.sorted(), "every task once")
        // One line for both hosts: the bastion is the one loss.
        #expect(stderr.contains("cohort: t[1-2]: LOST: lost through bastion b1: "), "\(stderr)")
        #expect(stderr.components(separatedBy: "lost through bastion").count == 2, "said once: \(stderr)")
        #expect(stderr.contains("240 ok, 0 failed, 0 timed out, 0 lost"), "\(stderr)")
    }

    /// A bastion that stops answering (its sshd frozen, the TCP connection still up) is noticed
    /// by the heartbeat on that hop: every host behind it is lost, through it, and said once.
    @Test func aFrozenBastionIsNoticedByItsHeartbeat() async throws {
        let fleet = try JumpFleet.start(targets: 2)
        defer { fleet.stop() }
        let child = try ChildProcess(
            CLIRunTests.binary, ["run", "-i", fleet.inventory, "-F", fleet.sshConfig, "--heartbeat-timeout", "3", "all", "--", "echo started; while sleep 1; do echo . || exit; done"])
        child.closeStdin()
        var output = ""
        var frozen: [Int32] = []
        while true {
            let bytes = ChildProcess.readSome(child.stdoutFD)
            if bytes.isEmpty { break }
            output += String(decoding: bytes, as: UTF8.self)
            if frozen.isEmpty, output.components(separatedBy: "started").count == 3 {
                frozen = fleet.sessions(of: "b1").flatMap { [$0] + Processes.descendants(of: $0) }
                for pid in frozen { kill(pid, SIGSTOP) }
            }
        }
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        let status = child.wait()
        for pid in frozen { kill(pid, SIGCONT) }
        #expect(!frozen.isEmpty, "both hosts started: \(stderr)")
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains("cohort: t[1-2]: UNREACHABLE: lost through bastion b1: host stopped answering"), "\(stderr)")
    }
}
