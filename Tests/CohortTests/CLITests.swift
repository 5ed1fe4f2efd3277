import CohortTestSupport
import Foundation
import Testing

/// The `cohort` binary end to end against real sshd hosts: output formats and every exit code.
// Serialized: each test blocks a cooperative thread while the CLI runs, and the pool has one
// thread per core; running them side by side would starve the async tests around them.
@Suite(.serialized) struct CLIRunTests {
    static var binary: String {
        ProcessInfo.processInfo.environment["COHORT_BIN"] ?? TestFleet.repositoryRoot + "/.build/debug/cohort"
    }

    static func cohort(_ arguments: [String]) async throws -> Shell.Result {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (make test does)")
        return try await Shell.run(binary, arguments)
    }

    /// The fleet's inventory, plus extra lines.
    static func inventory(_ fleet: TestFleet, adding extra: String = "") throws -> String {
        let path = fleet.directory + "/test-\(UUID().uuidString.prefix(6)).ini"
        try (try String(contentsOfFile: fleet.inventory, encoding: .utf8) + "\n" + extra).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func allHostsAnswerWithTaggedLinesAndExitZero() async throws {
        let fleet = try TestFleet.start(hosts: 3)
        defer { fleet.stop() }
        let result = try await Self.cohort(["run", "-i", fleet.inventory, "-F", "none", "all", "--", "echo out; echo err >&2"])
        #expect(result.status == 0)
        #expect(Set(result.stdout.split(separator: "\n")) == ["h1 | out", "h2 | out", "h3 | out"])
        #expect(result.stderr.contains("h2 ! err"))
        #expect(result.stderr.contains("ok 3, failed 0, unreachable 0"))
    }

    @Test func severalWordsAreAnArgvThatCannotInject() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let result = try await Self.cohort(["run", "-i", fleet.inventory, "-F", "none", "h1", "--", "printf", "%s|", "a b", "$HOME", ";echo injected"])
        #expect(result.stdout == "h1 | a b|$HOME|;echo injected|\n")
    }

    @Test func jsonLinesCarryStreamsStatusAndRawBytes() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let result = try await Self.cohort(["run", "-i", fleet.inventory, "-F", "none", "--json", "all", "--", "printf 'ok\\n'; printf '\\377' >&2; exit 3"])
        #expect(result.status == 1)
        let lines = try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let h1 = lines.filter { $0["host"] as? String == "h1" }
        #expect(h1.contains { $0["stream"] as? String == "stdout" && $0["data"] as? String == "ok\n" })
        #expect(h1.contains { $0["stream"] as? String == "stderr" && $0["data_base64"] as? String == "/w==" })
        #expect(h1.contains { $0["exit"] as? Int == 3 && $0["status"] as? String == "failed" && $0["duration_ms"] is Double })
        let summary = try #require(lines.last?["summary"] as? [String: [String]])
        #expect(Set(summary["failed"] ?? []) == ["h1", "h2"])
    }

    @Test func gatherFoldsIdenticalOutputs() async throws {
        let fleet = try TestFleet.start(hosts: 3)
        defer { fleet.stop() }
        let port1 = fleet.hosts[0].port
        let result = try await Self.cohort([
            "run", "-i", fleet.inventory, "-F", "none", "--gather", "all", "--",
            "if [ \"${SSH_CONNECTION##* }\" = \(port1) ]; then echo odd; else echo same; fi",
        ])
        #expect(result.status == 0)
        #expect(result.stdout.contains("h[2-3] (ok)\n---------------\nsame\n"))
        #expect(result.stdout.contains("h1 (ok)\n---------------\nodd\n"))
    }

    @Test func exitCodeOneWhenACommandFailsSomewhere() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let result = try await Self.cohort([
            "run", "-i", fleet.inventory, "-F", "none", "all", "--", "test \"${SSH_CONNECTION##* }\" != \(fleet.hosts[0].port)",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("h1 ! FAILED (exit 1)"))
        #expect(result.stderr.contains("ok 1, failed 1 (h1), unreachable 0"))
    }

    /// -v tells what ssh -v would: the address, the algorithms, the host key and the
    /// known_hosts line that matched, the key that authenticated, and the deployment; nothing
    /// secret. Without -v, none of it.
    @Test func verboseDiagnosticsOnStderr() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let quiet = try await Self.cohort(["run", "-i", fleet.inventory, "-F", "none", "all", "--", "true"])
        #expect(!quiet.stderr.contains("debug"), "\(quiet.stderr)")
        let result = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "-v", "echo {}", ":::", "x"])
        #expect(result.status == 0, "\(result.stderr)")
        for expected in [
            "connecting to \(NSUserName())@\(host.address) port \(host.port)", "key exchange ", "cipher ",
            "host key found in \(fleet.knownHosts):1", "authenticated as \(NSUserName()) with \(fleet.clientKey)", "worker ",
        ] {
            #expect(result.stderr.contains(expected), "missing '\(expected)' in: \(result.stderr)")
        }
        let secret = try String(contentsOfFile: fleet.clientKey, encoding: .utf8).split(separator: "\n")[1]
        #expect(!result.stderr.contains(secret))
    }

    @Test func exitCodeTwoWhenAHostIsUnreachableAndTheOthersStillRun() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let refusing = try RefusingPort()
        let inventory = try Self.inventory(fleet, adding: "[dead]\nghost ansible_host=127.0.0.1 ansible_port=\(refusing.port)\n")
        let result = try await Self.cohort(["run", "-i", inventory, "-F", "none", "all", "--", "echo alive"])
        withExtendedLifetime(refusing) {}
        #expect(result.status == 2)
        #expect(result.stdout == "h1    | alive\n")
        #expect(result.stderr.contains("ghost ! UNREACHABLE: connection refused"))
    }

    @Test func exitCodeThreeForAnUnknownHostKeyWithItsFingerprint() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let empty = fleet.directory + "/empty_known_hosts"
        let inventory = try Self.inventory(fleet)
        try String(contentsOfFile: inventory, encoding: .utf8).replacingOccurrences(of: fleet.knownHosts, with: empty)
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let refused = try await Self.cohort(["run", "-i", inventory, "-F", "none", "all", "--", "true"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("REFUSED: host key for [\(fleet.hosts[0].address)]:\(fleet.hosts[0].port) is not in"))
        #expect(refused.stderr.contains("SHA256:"))
        // Accepting it records it; afterwards strict checking passes.
        #expect(try await Self.cohort(["run", "-i", inventory, "-F", "none", "--accept-new-host-keys", "all", "--", "true"]).status == 0)
        #expect(try await Self.cohort(["run", "-i", inventory, "-F", "none", "all", "--", "true"]).status == 0)
    }

    @Test func exitCodeFourForBadInputAndNothingRuns() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let marker = fleet.directory + "/ran"
        let badPort = try Self.inventory(fleet, adding: "[broken]\nbad ansible_port=notaport\n")
        let cases: [([String], String)] = [
            (["run", "-i", badPort, "-F", "none", "all", "--", "touch \(marker)"], "ansible_port must be a port number"),
            (["run", "-i", fleet.inventory, "-F", "none", "nomatch", "--", "touch \(marker)"], "matches no host"),
            (["run", "-i", fleet.inventory, "-F", "none", "all"], "no command given"),
            (["run", "-i", fleet.inventory, "--frobnicate", "all", "--", "touch \(marker)"], "frobnicate"),
            (["run", "-i", fleet.directory + "/missing.ini", "all", "--", "touch \(marker)"], "inventory not found"),
        ]
        for (arguments, message) in cases {
            let result = try await Self.cohort(arguments)
            #expect(result.status == 4, "\(arguments)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
        let badLine = fleet.directory + "/bad.ini"
        try "[web]\nw1\n[web:oops]\n".write(toFile: badLine, atomically: true, encoding: .utf8)
        let result = try await Self.cohort(["run", "-i", badLine, "all", "--", "touch \(marker)"])
        #expect(result.status == 4)
        #expect(result.stderr == "cohort: \(badLine):3: section [web:oops] has unknown type 'oops' (use hosts, vars or children)\n")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try await Self.cohort(["run", "-i", fleet.inventory, "-F", "none", "--allow-empty", "nomatch", "--", "true"]).status == 0)
    }

    @Test func sshConfigSuppliesAddressPortKeyAndKnownHosts() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let names = fleet.directory + "/names.ini"
        try "[fleet]\nh1\nh2\n".write(toFile: names, atomically: true, encoding: .utf8)
        let result = try await Self.cohort(["run", "-i", names, "-F", fleet.directory + "/ssh_config", "all", "--", "echo ok"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(result.stdout.split(separator: "\n")) == ["h1 | ok", "h2 | ok"])
        let proxy = fleet.directory + "/proxy_config"
        try "Host h1\n  ProxyCommand ssh -W %h:%p bastion\n".write(toFile: proxy, atomically: true, encoding: .utf8)
        let refused = try await Self.cohort(["run", "-i", names, "-F", proxy, "all", "--", "true"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("\(proxy):2: ssh_config option 'ProxyCommand'"))
    }

    /// Past what descriptors allow, one clear error before anything connects (here the hard
    /// limit is 128, and 100 hosts need 164): not 36 hosts failing one by one.
    @Test func moreHostsThanDescriptorsIsOneErrorAndNothingRuns() async throws {
        let dir = NSTemporaryDirectory() + "cohort-nofile-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Numeric addresses where nothing listens: nothing may be contacted anyway.
        let hosts = (1...100).map { "n\($0) ansible_host=127.0.9.\($0) ansible_port=9" }.joined(separator: "\n")
        try "[many]\n\(hosts)\n".write(toFile: dir + "/inv.ini", atomically: true, encoding: .utf8)
        let result = try await Shell.run(
            "/usr/bin/prlimit", ["--nofile=128:128", "--", Self.binary, "run", "-i", dir + "/inv.ini", "-F", "none", "all", "--", "true"])
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("100 hosts need at least 164 open descriptors"), "\(result.stderr)")
        #expect(!result.stderr.contains("UNREACHABLE"), "\(result.stderr)")
    }

    @Test func localConnectionRunsHereWithoutSSH() async throws {
        let dir = NSTemporaryDirectory() + "cohort-local-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[here]\nlaptop ansible_connection=local\nbox\n".write(toFile: dir + "/inv.ini", atomically: true, encoding: .utf8)
        let result = try await Self.cohort(["run", "-i", dir + "/inv.ini", "-c", "local", "all", "--", "echo $$ > /dev/null; printf 'local\\n'; exit 0"])
        #expect(result.status == 0)
        #expect(Set(result.stdout.split(separator: "\n")) == ["laptop | local", "box    | local"])
    }
}

@Suite(.serialized) struct CLIScaleTests {
    /// Peak thread count of a running `cohort run`, sampled every 20 ms until it exits. The
    /// sampling blocks this thread on purpose: an async sampler can be starved by the suite.
    private func threads(fleet: TestFleet, pattern: String) throws -> (threads: Int, status: Int32, stdout: String) {
        let child = try ChildProcess(CLIRunTests.binary, ["run", "-i", fleet.inventory, "-F", "none", pattern, "--", "sleep 2; echo done"])
        child.closeStdin()
        var peak = 0
        while child.isRunning {
            let status = (try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)) ?? ""
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }),
                let n = Int(line.split(separator: "\t").last ?? "")
            {
                peak = max(peak, n)
            }
            usleep(20_000)
        }
        let output = ChildProcess.readAll(child.stdoutFD)
        return (peak, child.wait(), String(decoding: output, as: UTF8.self))
    }

    @Test func threadsDoNotGrowWithTheNumberOfHosts() async throws {
        let fleet = try TestFleet.start(hosts: 24)
        defer { fleet.stop() }
        let (one, oneStatus, _) = try threads(fleet: fleet, pattern: "h1")
        let (all, allStatus, allOutput) = try threads(fleet: fleet, pattern: "all")
        try #require(one > 0 && all > 0, "no thread count was sampled")
        #expect(oneStatus == 0 && allStatus == 0)
        #expect(allOutput.split(separator: "\n").count == 24)
        // Sessions share a fixed set of IO threads: 24 hosts cost no more threads than one.
        #expect(all <= one + 2, "1 host: \(one) threads, 24 hosts: \(all) threads")
    }

    @Test func limitNarrowsThePattern() async throws {
        let fleet = try TestFleet.start(hosts: 3)
        defer { fleet.stop() }
        let result = try await CLIRunTests.cohort(["run", "-i", fleet.inventory, "-F", "none", "--limit", "h2:h3", "all", "--", "echo hi"])
        #expect(result.status == 0)
        #expect(Set(result.stdout.split(separator: "\n")) == ["h2 | hi", "h3 | hi"])
    }
}
