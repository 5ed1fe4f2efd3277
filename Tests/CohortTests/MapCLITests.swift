import CohortTestSupport
import Foundation
import Testing

/// `cohort map` end to end: real sshd hosts, workers deployed by the coordinator, faults
/// injected by killing and freezing the processes the fleet started.
@Suite(.serialized) struct MapCLITests {
    static func cohort(_ arguments: [String], stdin: String? = nil) async throws -> Shell.Result {
        try #require(FileManager.default.isExecutableFile(atPath: CLIRunTests.binary), "build the CLI first (make test does)")
        return try await Shell.run(CLIRunTests.binary, arguments, stdin: stdin)
    }

    /// The fleet's inventory with `cohort_slots` fixed, so that slot counts do not depend on
    /// this machine's cores.
    static func inventory(_ fleet: TestFleet, slots: Int) throws -> String {
        try CLIRunTests.inventory(fleet, adding: "[all:vars]\ncohort_slots=\(slots)\n")
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func tenThousandTinyTasksEachEndOnceOverEverySlot() async throws {
        let fleet = try TestFleet.start(hosts: 4)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 2)
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--json", "echo {}"] + [":::"] + (1...10_000).map(String.init))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try Self.jsonLines(result.stdout)
        #expect(lines.count == 10_000)
        let outputs = lines.compactMap { $0["stdout"] as? String }
        #expect(Set(outputs) == Set((1...10_000).map { "\($0)\n" }))
        #expect(Set(lines.compactMap { $0["task"] as? Int }).count == 10_000)
        let used = Set(lines.map { "\($0["host"] as? String ?? "?")/\($0["slot"] as? Int ?? 0)" })
        #expect(used.count == 8, "every slot of every host ran tasks: \(used.sorted())")
        #expect(result.stderr.contains("10000 tasks: 10000 ok, 0 failed"))
        // The worker was deployed into each host's cache, named by its SHA-256, mode 0700.
        for host in fleet.hosts {
            let cache = fleet.directory + "/\(host.name)/home/.cache/cohort"
            let entries = try FileManager.default.contentsOfDirectory(atPath: cache)
            #expect(entries.count == 1 && entries[0].count == 64)
            let mode = try FileManager.default.attributesOfItem(atPath: cache + "/" + entries[0])[.posixPermissions] as? Int
            #expect(mode == 0o700)
        }
    }

    /// The cached worker is hashed once and then recognised by its inode, size and times; a copy
    /// changed in place (same inode, same size) is hashed again, found stale and replaced.
    @Test func theCachedWorkerIsReusedUntilItChanges() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 1)
        let cache = fleet.directory + "/\(fleet.hosts[0].name)/home/.cache/cohort"
        func run() async throws -> (inode: Int, stamp: String) {
            let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "echo {}", ":::", "ok"])
            #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
            let folder = cache + "/" + (try FileManager.default.contentsOfDirectory(atPath: cache).first ?? "")
            let inode = try FileManager.default.attributesOfItem(atPath: folder + "/cohort-worker")[.systemFileNumber] as? Int
            return (inode ?? -1, (try? String(contentsOfFile: folder + "/.verified", encoding: .utf8)) ?? "")
        }
        let first = try await run()
        #expect(!first.stamp.isEmpty, "the upload leaves its .verified stamp")
        let second = try await run()
        #expect(second.inode == first.inode && second.stamp == first.stamp, "reused as it was")
        // Corrupt the cached copy in place: same inode, same size, other bytes.
        let folder = cache + "/" + (try FileManager.default.contentsOfDirectory(atPath: cache).first ?? "")
        // Writable once the last run's workers have exited (until then: ETXTBSY).
        var opened: FileHandle?
        for _ in 0..<100 where opened == nil {
            opened = FileHandle(forWritingAtPath: folder + "/cohort-worker")
            if opened == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let handle = try #require(opened, "the cached worker stayed busy 10 s after its run")
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xCC, count: 64))
        try handle.close()
        let third = try await run()
        #expect(third.inode != first.inode, "a changed copy is uploaded again")
        let digest = try await Shell.run("/usr/bin/sha256sum", [folder + "/cohort-worker"]).stdout.prefix(64)
        #expect(folder.hasSuffix(String(digest)))
    }

    /// sshd refuses channels beyond its MaxSessions (OpenSSH's default: 10), so a host with more
    /// slots than that gets more connections: 16 workers on a host that allows 10 sessions.
    @Test func moreSlotsThanTheHostsMaxSessionsOpenMoreConnections() async throws {
        let fleet = try TestFleet.start(hosts: 1, maxSessions: 10)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 16)
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--json", "sleep 0.3; echo {}", ":::"] + (1...64).map(String.init))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("LOST"), "\(result.stderr)")
        let lines = try Self.jsonLines(result.stdout)
        #expect(lines.count == 64)
        #expect(Set(lines.compactMap { $0["slot"] as? Int }).count == 16, "every one of the 16 slots ran tasks")
        // Two connections: the host's sshd log shows two accepted logins.
        let log = try String(contentsOfFile: fleet.directory + "/h1/sshd.log", encoding: .utf8)
        #expect(log.components(separatedBy: "Accepted publickey").count - 1 == 2, "\(log)")
    }

    /// GNU parallel's `-j` forms relative to cores, from each host's own count (nproc; these
    /// loopback hosts have this machine's), rounded up, never below one; `0` and the rest
    /// refused before anything runs.
    @Test func jobsRelativeToEachHostsCores() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for (jobs, perHost) in [("150%", (cores * 3 + 1) / 2), ("+1", cores + 1), ("-\(cores + 5)", 1), ("3", 3)] {
            let result = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "-j", jobs, "true", ":::", "1", "2"])
            #expect(result.status == 0, "-j \(jobs): \(result.stderr)")
            #expect(result.stderr.contains("2 hosts, \(2 * perHost) workers at the end"), "-j \(jobs): \(result.stderr)")
        }
        let marker = fleet.directory + "/ran"
        for jobs in ["0", "x", "1e3%", "+", "-0x1"] {
            let result = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "-j", jobs, "touch \(marker)", ":::", "1"])
            #expect(result.status == 4, "-j \(jobs): \(result.stderr)")
            #expect(result.stderr.contains("--slots (-j) takes N"), "-j \(jobs): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A worker that cannot start on a host is reported with the host's own words: here the
    /// worker cache is on a noexec filesystem, as a hardened home can be.
    @Test(.enabled(if: getuid() == 0, "mounting a noexec filesystem needs root"))
    func aWorkerThatCannotStartShowsTheHostsOwnMessage() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let cache = fleet.directory + "/h1/home/.cache"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let mount = try await Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "noexec,size=256m", "tmpfs", cache])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? Shell.run("/bin/umount", ["-l", cache]) }
        let inventory = try Self.inventory(fleet, slots: 2)
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "echo {}", ":::", "a", "b"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("h1: LOST: worker ended (exit 126)"), "\(result.stderr)")
        #expect(result.stderr.contains("Permission denied"), "the host's own message: \(result.stderr)")
        #expect(result.stderr.contains("2 tasks: 0 ok, 0 failed, 0 timed out, 2 lost"), "\(result.stderr)")
    }

    @Test func replacementStringsQuotingOrderAndTags() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 2)
        let result = try await Self.cohort([
            "map", "-i", inventory, "-F", "none", "-k", "--tag", "echo {#} {1/} {1.} {1//} {1/.} {2}",
            ":::", "/a/b.txt", "c.tar.gz", ":::", "x", "$(echo injected);y",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            /a/b.txt x\t1 b.txt /a/b /a b x
            /a/b.txt $(echo injected);y\t2 b.txt /a/b /a b $(echo injected);y
            c.tar.gz x\t3 c.tar.gz c.tar . c.tar x
            c.tar.gz $(echo injected);y\t4 c.tar.gz c.tar . c.tar $(echo injected);y

            """)
    }

    /// GNU parallel's options people use with remote hosts, through real hosts: linked
    /// sources (`:::+` was an input value before), `-a`, `-N`, `--colsep`, `--tagstring`,
    /// `--wd`, `--results`, `-j`. Expected output is GNU parallel 20221122's for the same line.
    @Test func parallelsLinkingAndPerTaskOptions() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 2)
        let scratch = try CLIUsageTests.Scratch()
        try "1\n2\n3\n".write(toFile: scratch.dir + "/n", atomically: true, encoding: .utf8)
        func map(_ words: [String]) async throws -> String {
            let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "-k"] + words)
            #expect(result.status == 0, "\(words): \(result.stderr)")
            return result.stdout
        }
        #expect(try await map(["echo {1} {2}", ":::", "a", "b", "c", ":::+", "1", "2", "3"]) == "a 1\nb 2\nc 3\n")
        #expect(try await map(["--link", "echo", ":::", "a", "b", ":::", "1", "2", "3"]) == "a 1\nb 2\na 3\n")
        #expect(try await map(["-a", scratch.dir + "/n", "-j", "1", "echo", ":::+", "x", "y"]) == "1 x\n2 y\n")
        #expect(try await map(["-N", "2", "echo {1}-{2}", ":::", "a", "b", "c"]) == "a-b\nc-\n")
        #expect(try await map(["--colsep", ",", "echo {2}{1}", ":::", "a,b", "c,d"]) == "ba\ndc\n")
        #expect(try await map(["--tagstring", "{1}:{#}", "echo hi", ":::", "a", "b c"]) == "a:1\thi a\nb c:2\thi b c\n")
        #expect(try await map(["--wd", "/tmp", "pwd", ":::", "1"]) == "/tmp\n")
        let results = scratch.dir + "/results"
        _ = try await map(["--results", results, "echo out {1}; echo err {2} >&2", ":::", "a", "b/c", ":::", "x"])
        for (value, folder) in [("a", "a"), ("b/c", "b\\_c")] {
            let place = results + "/1/\(folder)/2/x/"
            #expect(FileManager.default.contents(atPath: place + "stdout") == Data("out \(value)\n".utf8), "\(place)")
            #expect(FileManager.default.contents(atPath: place + "stderr") == Data("err x\n".utf8), "\(place)")
        }
        #expect(FileManager.default.contents(atPath: results + "/1/a/2/x/seq") == Data("1".utf8))
        // An option GNU parallel has and Cohort has not is refused by name, before any host.
        let refused = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--shuf", "echo", ":::", "a"])
        #expect(refused.status == 4 && refused.stderr.contains("--shuf"), "\(refused.stderr)")
    }

    @Test func inputLinesFromStdinAndDryRun() async throws {
        let dry = try await Self.cohort(["map", "-i", "/nonexistent", "--dry-run", "gzip -9 {}"], stdin: "a b\nc'd\n")
        #expect(dry.status == 0)
        #expect(dry.stdout == "gzip -9 'a b'\ngzip -9 'c'\\''d'\n")
    }

    @Test func outputIsByteExactAndNeverInterleaved() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 3)
        // Each task writes its lines slowly, so that tasks overlap in time.
        let result = try await Self.cohort([
            "map", "-i", inventory, "-F", "none", "for i in 1 2 3; do printf '{}\\377\\n'; sleep 0.05; done",
            ":::", "a", "b", "c", "d", "e", "f",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        var blocks: [[UInt8]] = []
        var rest = result.stdoutBytes[...]
        while !rest.isEmpty {
            let block = Array(rest.prefix(9))
            rest = rest.dropFirst(9)
            blocks.append(block)
        }
        #expect(blocks.count == 6)
        for block in blocks {
            let letter = block[0]
            #expect(block == [letter, 0xFF, 0x0A, letter, 0xFF, 0x0A, letter, 0xFF, 0x0A], "one task's lines stay together, bytes unchanged")
        }
    }

    @Test func aTimeoutStopsTheTaskAndReportsTimedOut() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let start = ContinuousClock.now
        let result = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "--json", "--timeout", "1", "if [ {} = 1 ]; then sleep 900; fi", ":::", "1", "2"])
        #expect(result.status == 1)
        let lines = try Self.jsonLines(result.stdout)
        #expect(lines.first { $0["task"] as? Int == 1 }?["status"] as? String == "timed_out")
        #expect(lines.first { $0["task"] as? Int == 2 }?["status"] as? String == "ok")
        // The bound only tells "stopped" from "waited for the 900 s sleep": loose on purpose.
        #expect(ContinuousClock.now - start < .seconds(450), "the sleep was stopped, not waited for")
    }

    @Test func aTaskThatKillsItsWorkerRunsAgainElsewhereOnce() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 2)
        let marker = fleet.directory + "/killed-once"
        // Task 5's first attempt kills its worker (kill -9 of the task's parent).
        let result = try await Self.cohort([
            "map", "-i", inventory, "-F", "none", "--json",
            "if [ {} = 5 ] && mkdir \(marker) 2>/dev/null; then kill -9 $PPID; sleep 1; fi; echo {}",
            ":::",
        ] + (1...20).map(String.init))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try Self.jsonLines(result.stdout)
        #expect(lines.count == 20)
        #expect(Set(lines.compactMap { $0["stdout"] as? String }) == Set((1...20).map { "\($0)\n" }))
        #expect(lines.first { $0["task"] as? Int == 5 }?["attempts"] as? Int == 2)
        // The worker died, not the host: said so, with the task it was running.
        #expect(result.stderr.contains("a worker died running task 5 (5): worker ended"), "\(result.stderr)")
        #expect(!result.stderr.contains("LOST"), "\(result.stderr)")
    }

    @Test func aTaskThatAlwaysKillsItsWorkerIsQuarantinedAndReported() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 2)
        let result = try await Self.cohort([
            "map", "-i", inventory, "-F", "none", "--retries", "1", "--json", "if [ {} = 3 ]; then kill -9 $PPID; sleep 1; fi; echo {}",
            ":::", "1", "2", "3", "4", "5", "6",
        ])
        #expect(result.status == 2, "\(result.stderr)")
        let lines = try Self.jsonLines(result.stdout)
        #expect(Set(lines.compactMap { $0["stdout"] as? String }) == ["1\n", "2\n", "4\n", "5\n", "6\n", ""])
        // Two runs (--retries 1), each killing its worker: two attempts, not three.
        #expect(lines.first { $0["task"] as? Int == 3 }?["attempts"] as? Int == 2)
        #expect(result.stderr.components(separatedBy: "a worker died running task 3 (3)").count - 1 == 2, "\(result.stderr)")
        let third = lines.first { $0["task"] as? Int == 3 }
        #expect(third?["status"] as? String == "lost")
        #expect((third?["error"] as? String)?.contains("its worker died each of the 2 times it ran (quarantined)") == true, "\(String(describing: third))")
        #expect(result.stderr.contains("5 ok, 0 failed, 0 timed out, 1 lost"))
    }

    @Test func aJoblogInGNUFormatAndResumeFailed() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let joblog = fleet.directory + "/joblog"
        let first = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "--joblog", joblog, "exit {}", ":::", "0", "3", "0"])
        #expect(first.status == 1)
        let log = try String(contentsOfFile: joblog, encoding: .utf8).split(separator: "\n")
        #expect(log.first == "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand")
        #expect(log.count == 4)
        #expect(log.contains { $0.hasPrefix("2\t") && $0.hasSuffix("\t3\t0\texit 3") })
        // --resume-failed runs task 2 again (and only it): its command now succeeds.
        let again = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none", "--joblog", joblog, "--resume-failed", "echo {#}", ":::", "0", "3", "0"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "2\n")
        #expect(again.stderr.contains("2 skipped"))
    }

    /// As GNU parallel's `soon`: after the failure nothing new starts, not even the tasks the
    /// worker had prefetched; they end "halted", counted apart from failures. The tasks after
    /// the failing one sleep 30 s, so only a task that was wrongly started could end ok.
    @Test func haltSoonStartsNoNewTaskAfterAFailure() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 1)
        let command = "[ {} = fail ] && exit 1; [ {#} -le 2 ] || sleep 30"
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--halt", "soon,fail=1", command, ":::", "ok", "fail"] + Array(repeating: "later", count: 30))
        #expect(result.status == 1)
        #expect(result.stderr.contains("--halt"))
        #expect(result.stderr.contains("32 tasks: 1 ok, 1 failed, 0 timed out, 0 lost, 30 halted"), "\(result.stderr)")
    }

    /// `now` stops the running tasks too; they are halted, not failed.
    @Test func haltNowCountsStoppedTasksAsHalted() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try Self.inventory(fleet, slots: 3)
        let command = "[ {} = fail ] && { sleep 0.5; exit 1; }; sleep 30"
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--halt", "now,fail=1", command, ":::", "fail"] + Array(repeating: "later", count: 9))
        #expect(result.status == 1)
        #expect(result.stderr.contains("10 tasks: 0 ok, 1 failed, 0 timed out, 0 lost, 9 halted"), "\(result.stderr)")
    }

    @Test func localHostsRunWorkersHereBesideRemoteOnes() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try CLIRunTests.inventory(fleet, adding: "[here]\nlaptop ansible_connection=local cohort_slots=2\n[fleet:vars]\ncohort_slots=2\n")
        // Tasks of 0.1 s: the local workers start at once, and h1 (connect, deploy) has
        // seconds to join before they could have taken everything.
        let result = try await Self.cohort(["map", "-i", inventory, "-F", "none", "--json", "sleep 0.1; echo {}", ":::"] + (1...60).map(String.init))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try Self.jsonLines(result.stdout)
        #expect(Set(lines.compactMap { $0["stdout"] as? String }) == Set((1...60).map { "\($0)\n" }))
        #expect(result.stderr.contains("2 hosts, 4 workers at the end"))
        #expect(Set(lines.compactMap { $0["host"] as? String }) == ["h1", "laptop"])
    }

    @Test func badInputIsExitFourAndNothingRuns() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let marker = fleet.directory + "/ran"
        for arguments in [
            ["--halt", "sometimes", "touch \(marker)", ":::", "1"],
            ["--resume", "touch \(marker)", ":::", "1"],
            ["touch \(marker)", "::::", fleet.directory + "/no-such-file"],
        ] {
            let result = try await Self.cohort(["map", "-i", fleet.inventory, "-F", "none"] + arguments)
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}

/// Hosts and coordinators dying mid-run: the cohort binary runs in the background while the
/// test kills or freezes processes that the fleet (or the test) started, by PID.
@Suite(.serialized) struct MapFaultTests {
    /// The CLI running in the background, its output drained on threads of its own.
    final class Background: @unchecked Sendable {
        // @unchecked: `out` and `err` are written by the drain threads under `lock`.
        let child: ChildProcess
        private let lock = NSLock()
        private var out: [UInt8] = []
        private var err: [UInt8] = []
        private let drained = DispatchGroup()

        init(_ arguments: [String]) throws {
            child = try ChildProcess(CLIRunTests.binary, arguments)
            child.closeStdin()
            for (fd, isOut) in [(child.stdoutFD, true), (child.stderrFD, false)] {
                drained.enter()
                Thread { [self] in
                    while true {
                        let chunk = ChildProcess.readSome(fd)
                        if chunk.isEmpty { break }
                        lock.lock()
                        if isOut { out += chunk } else { err += chunk }
                        lock.unlock()
                    }
                    drained.leave()
                }.start()
            }
        }

        var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }

        func finish() -> (status: Int32, stdout: String, stderr: String) {
            let status = child.wait()
            drained.wait()
            lock.lock()
            defer { lock.unlock() }
            return (status, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
    }

    /// Waits for `condition`, however loaded the machine: `limit` only keeps a broken run from
    /// hanging the suite, so it is far past any scheduling delay (CI has seen a trivial suite
    /// take 120 s), never a claim about speed.
    static func waitFor(_ what: String, limit: Duration = .seconds(600), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw FleetError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func sshdSessions(_ fleet: TestFleet, _ host: TestFleet.Host) -> [Int32] {
        fleet.sessionProcesses(of: host).filter { pid in
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cmdline.hasPrefix("sshd")
        }
    }

    /// 40 tasks over 3 hosts, held at a gate until `fault` has struck h1's sessions.
    func runWithFault(_ flags: [String], _ fault: (TestFleet, [Int32]) -> Void) async throws -> (status: Int32, stdout: String, stderr: String) {
        let fleet = try TestFleet.start(hosts: 3)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let started = fleet.directory + "/started"
        let gate = fleet.directory + "/go"
        try FileManager.default.createDirectory(atPath: started, withIntermediateDirectories: true)
        let run = try Background(
            ["map", "-i", inventory, "-F", "none", "--json"] + flags
                + ["touch \(started)/{}.port${SSH_CONNECTION##* }; while [ ! -e \(gate) ]; do sleep 0.05; done; echo {}", ":::"]
                + (1...40).map(String.init))
        // Every task waits at the gate, so the run cannot end before the fault: strike once h1
        // holds a task (each file names the sshd port that ran its task), then open the gate.
        let h1 = ".port\(fleet.hosts[0].port)"
        try await Self.waitFor("a task on h1") {
            ((try? FileManager.default.contentsOfDirectory(atPath: started)) ?? []).contains { $0.hasSuffix(h1) }
        }
        let sessions = Self.sshdSessions(fleet, fleet.hosts[0])
        #expect(!sessions.isEmpty)
        fault(fleet, sessions)
        defer { sessions.forEach { kill($0, SIGCONT) } }
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        return try await offPool { run.finish() }
    }

    static func checkEveryTaskOnce(_ result: (status: Int32, stdout: String, stderr: String)) throws {
        let lines = try MapCLITests.jsonLines(result.stdout)
        #expect(lines.count == 40)
        #expect(Set(lines.compactMap { $0["stdout"] as? String }) == Set((1...40).map { "\($0)\n" }))
        #expect(lines.allSatisfy { $0["status"] as? String == "ok" })
        #expect(result.stderr.contains("h1: LOST"), "the loss is reported: \(result.stderr)")
        #expect(result.stderr.contains("40 tasks: 40 ok"))
    }

    @Test func aKilledSessionsTasksFinishOnTheOtherHosts() async throws {
        let result = try await runWithFault([]) { _, sessions in sessions.forEach { kill($0, SIGKILL) } }
        #expect(result.status == 0, "\(result.stderr)")
        try Self.checkEveryTaskOnce(result)
    }

    @Test func aFrozenHostsTasksFinishOnTheOtherHosts() async throws {
        let result = try await runWithFault(["--heartbeat-timeout", "3"]) { _, sessions in sessions.forEach { kill($0, SIGSTOP) } }
        #expect(result.status == 0, "\(result.stderr)")
        try Self.checkEveryTaskOnce(result)
        #expect(result.stderr.contains("heartbeat"))
    }

    @Test func aKilledCoordinatorResumesFromItsJournalWithoutRerunningFinishedTasks() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let journal = fleet.directory + "/journal"
        let ran = fleet.directory + "/ran"
        try FileManager.default.createDirectory(atPath: ran, withIntermediateDirectories: true)
        // Each run of a task leaves a file of its own: how often each task ran can be counted.
        // Tasks after the 20th wait at a gate, opened only for the second run: the first run
        // cannot finish before it is killed, however slow the machine.
        let gate = fleet.directory + "/go"
        let command = [
            "sleep 0.05; mktemp \(ran)/{}.XXXXXX >/dev/null; if [ {} -gt 20 ]; then while [ ! -e \(gate) ]; do sleep 0.05; done; fi; echo {}",
            ":::",
        ] + (1...60).map(String.init)
        let first = try Background(["map", "-i", inventory, "-F", "none", "--journal", journal] + command)
        try await Self.waitFor("ten journal entries") {
            ((try? String(contentsOfFile: journal, encoding: .utf8))?.split(separator: "\n").count ?? 0) > 10
        }
        kill(first.child.pid, SIGKILL)
        _ = try await offPool { first.finish() }
        let journaled = Set(try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").dropFirst().compactMap {
            Int($0.split(separator: "\t")[0])
        })
        #expect(journaled.count >= 10 && journaled.count < 60)

        // Another command with the same journal is refused before anything runs.
        let changed = try await MapCLITests.cohort(["map", "-i", inventory, "-F", "none", "--journal", journal, "echo {}", ":::"] + (1...60).map(String.init))
        #expect(changed.status == 4)
        #expect(changed.stderr.contains("another run"))

        // Workers of the killed coordinator leave within seconds: their channel closed.
        try await Self.waitFor("the killed coordinator's workers to exit") {
            fleet.hosts.allSatisfy { host in
                !fleet.sessionProcesses(of: host).contains { pid in
                    ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("cohort-worker")
                }
            }
        }

        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let second = try await MapCLITests.cohort(["map", "-i", inventory, "-F", "none", "--journal", journal] + command)
        #expect(second.status == 0, "\(second.stderr)")
        let rerun = Set(second.stdout.split(separator: "\n").compactMap { Int($0) })
        #expect(rerun.isDisjoint(with: journaled.map { $0 + 1 }), "no journaled task ran again")
        #expect(rerun.union(journaled.map { $0 + 1 }) == Set(1...60))
        #expect(second.stderr.contains("\(journaled.count) skipped"))
        for task in journaled {
            let runs = try FileManager.default.contentsOfDirectory(atPath: ran).filter { $0.hasPrefix("\(task + 1).") }
            #expect(runs.count == 1, "task \(task + 1) ran \(runs.count) times")
        }
    }

    /// `cohort run` streams a command's output through a bounded window: 100 MB in, far less
    /// memory. Measured on the coordinator alone, in a process of its own.
    @Test func aHundredMegabytesOfRunOutputInBoundedMemory() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let script = """
            import resource, subprocess, sys
            code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let result = try await Shell.run("/usr/bin/env", [
            "python3", "-c", script, CLIRunTests.binary, "run", "-i", fleet.inventory, "-F", "none", "all", "--",
            "yes 012345678 | head -c 100000000",
        ])
        let fields = result.stdout.split(separator: " ")
        #expect(fields.first == "0", "\(result.stderr.suffix(500))")
        let peakKiB = Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .max
        #expect(peakKiB < 96 * 1024, "peak RSS \(peakKiB) KiB for 100 MB of output")
    }

    @Test func twoHundredMegabytesFromOneTaskWithBoundedMemory() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let out = fleet.directory + "/big.out"
        // python3 reports the coordinator's peak RSS (its only child) after it exits.
        let script = """
            import resource, subprocess, sys
            with open(sys.argv[1], 'wb') as f:
                code = subprocess.run(sys.argv[2:], stdout=f).returncode
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let source = fleet.directory + "/source.bin"
        let result = try await Shell.run("/usr/bin/env", [
            "python3", "-c", script, out, CLIRunTests.binary, "map", "-i", fleet.inventory, "-F", "none",
            "head -c 200000000 /dev/urandom | tee {}", ":::", source,
        ])
        let fields = result.stdout.split(separator: " ")
        #expect(fields.first == "0", "\(result.stderr.suffix(500))")
        let peakKiB = Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .max
        #expect(peakKiB < 150 * 1024, "peak RSS \(peakKiB) KiB for 200 MB of output")
        // What arrived is byte for byte what the task wrote.
        let same = try await Shell.run("/usr/bin/cmp", [source, out])
        #expect(same.status == 0, "\(same.stdout)")
        let size = try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int
        #expect(size == 200_000_000)
    }
}
