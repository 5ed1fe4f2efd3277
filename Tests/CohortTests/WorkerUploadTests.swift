import CohortTestSupport
import Foundation
import Testing

/// The worker upload is trusted only once it is whole: a coordinator killed mid-upload leaves
/// nothing that a later run would execute, and the next run uploads again and succeeds.
@Suite(.serialized) struct WorkerUploadTests {
    /// A real worker made large (ELF executables run with bytes appended), so that its upload
    /// lasts long enough to be cut at chosen points.
    static func paddedWorker(in dir: String) throws -> String {
        let worker = ProcessInfo.processInfo.environment["COHORT_WORKER"] ?? TestFleet.repositoryRoot + "/.build/debug/cohort-worker"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: worker))
        bytes.append(Data(repeating: 0, count: 128 << 20))
        let path = dir + "/padded-worker"
        try bytes.write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    static func sha256(_ path: String) async throws -> String {
        String(try await Shell.run("/usr/bin/sha256sum", [path]).stdout.prefix(64))
    }

    /// Files in the host's worker cache whose name starts with `prefix`, with their sizes.
    static func cached(_ cache: String, prefix: String) -> [(path: String, size: Int)] {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        return folders.flatMap { folder -> [(path: String, size: Int)] in
            let dir = cache + "/" + folder
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(prefix) }.map { name in
                let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0
                return (dir + "/" + name, size)
            }
        }
    }

    /// Each rebuild is a new copy in every host's cache: an upload keeps the program's most
    /// recently used older copy and removes the rest, and leaves other programs' copies alone.
    @Test func anUploadPrunesTheSameProgramsOlderCopies() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let cache = fleet.directory + "/\(fleet.hosts[0].name)/home/.cache/cohort"
        func fake(_ digit: Character, program: String?, daysAgo: Int) throws -> String {
            let name = String(repeating: digit, count: 64)
            try FileManager.default.createDirectory(atPath: cache + "/" + name, withIntermediateDirectories: true)
            if let program { _ = FileManager.default.createFile(atPath: cache + "/\(name)/.program", contents: Data((program + "\n").utf8)) }
            let when = Date(timeIntervalSinceNow: -Double(daysAgo) * 86_400)
            try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: cache + "/" + name)
            return name
        }
        let newest = try fake("a", program: "cohort-worker", daysAgo: 1)
        _ = try fake("b", program: "cohort-worker", daysAgo: 2)
        _ = try fake("c", program: "cohort-worker", daysAgo: 3)
        let other = try fake("d", program: "my-pool-program", daysAgo: 9)
        let unnamed = try fake("e", program: nil, daysAgo: 9)
        _ = FileManager.default.createFile(atPath: cache + "/notes.txt", contents: Data())
        let run = try await MapCLITests.cohort(["map", "-i", fleet.inventory, "-F", "none", "echo {}", ":::", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let worker = ProcessInfo.processInfo.environment["COHORT_WORKER"] ?? TestFleet.repositoryRoot + "/.build/debug/cohort-worker"
        let current = try await Self.sha256(worker)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: cache))
        #expect(left == [current, newest, other, unnamed, "notes.txt"], "\(left.sorted())")
    }

    /// `cohort cache` lists each host's cached copies, newest first, and `--prune` keeps the
    /// most recently used copy of each program (`--all`: none).
    @Test func theCacheCommandListsAndPrunes() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let cache = fleet.directory + "/\(fleet.hosts[0].name)/home/.cache/cohort"
        func fake(_ digit: Character, program: String?, daysAgo: Int) throws {
            let name = String(repeating: digit, count: 64)
            try FileManager.default.createDirectory(atPath: cache + "/" + name, withIntermediateDirectories: true)
            if let program { _ = FileManager.default.createFile(atPath: cache + "/\(name)/.program", contents: Data((program + "\n").utf8)) }
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -Double(daysAgo) * 86_400)], ofItemAtPath: cache + "/" + name)
        }
        try fake("a", program: "tool", daysAgo: 1)
        try fake("b", program: "tool", daysAgo: 2)
        try fake("c", program: "other", daysAgo: 3)
        try fake("d", program: nil, daysAgo: 4)
        let base = ["cache", "-i", fleet.inventory, "-F", "none"]
        let list = try await MapCLITests.cohort(base + ["all"])
        #expect(list.status == 0, "\(list.stderr)")
        let shown = list.stdout.split(separator: "\n").map { $0.split(separator: " ").dropFirst(2).prefix(2).joined(separator: " ") }
        #expect(shown == ["aaaaaaaaaaaa tool", "bbbbbbbbbbbb tool", "cccccccccccc other", "dddddddddddd ?"], "\(list.stdout)")
        let pruned = try await MapCLITests.cohort(base + ["--prune", "all"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: cache)) == Set(["a", "c", "d"].map { String(repeating: $0, count: 64) }))
        let emptied = try await MapCLITests.cohort(base + ["--prune", "--all", "all"])
        #expect(emptied.status == 0, "\(emptied.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).isEmpty)
        #expect(try await MapCLITests.cohort(base + ["--all", "all"]).status == 4)
    }

    @Test func aCoordinatorKilledMidUploadLeavesNothingTrusted() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 1)
        let worker = try Self.paddedWorker(in: fleet.directory)
        let digest = try await Self.sha256(worker)
        let cache = fleet.directory + "/\(fleet.hosts[0].name)/home/.cache/cohort"
        let environment = ["COHORT_WORKER": worker]
        for threshold in [1, 32 << 20, 96 << 20] {
            let child = try ChildProcess(
                CLIRunTests.binary, ["map", "-i", inventory, "-F", "none", "echo {}", ":::", "ok"], environment: environment)
            child.closeStdin()
            // Kill it as soon as the upload has reached the threshold, by PID.
            let deadline = ContinuousClock.now + .seconds(600)
            var reached = false
            while ContinuousClock.now < deadline, child.isRunning {
                if Self.cached(cache, prefix: ".cohort-worker.").contains(where: { $0.size >= threshold }) {
                    reached = true
                    break
                }
                usleep(500)
            }
            kill(child.pid, SIGKILL)
            _ = try await offPool { child.wait() }
            try #require(reached, "the upload never reached \(threshold) bytes")
            // The remote shell sees the stream end, finds the file short and removes it.
            try await MapFaultTests.waitFor("the partial upload to be removed") {
                Self.cached(cache, prefix: ".cohort-worker.").isEmpty
            }
            for file in Self.cached(cache, prefix: "cohort-worker") {
                #expect(try await Self.sha256(file.path) == digest, "a cut upload was put in place (\(file.size) bytes)")
            }
        }
        let result = try await offPool {
            try Shell.run(CLIRunTests.binary, ["map", "-i", inventory, "-F", "none", "echo {}", ":::", "ok"], environment: environment)
        }
        #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
        let placed = try #require(Self.cached(cache, prefix: "cohort-worker").first)
        #expect(try await Self.sha256(placed.path) == digest)
        #expect(placed.path.contains("/\(digest)/"))
    }

    /// A cache that cannot be written fails that host's upload in the shell's own words; the
    /// host is named, the run exits 2 and the host's share runs on the other one. (An earlier upload script ended in
    /// `; true` for its pruning and so reported such a failure as a good upload, then tried
    /// to run a worker that was not there.)
    @Test func aCacheThatCannotBeWrittenIsNamedWithItsReason() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let home = fleet.directory + "/\(fleet.hosts[0].name)/home"
        try FileManager.default.createDirectory(atPath: home + "/.cache", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: home + "/.cache/cohort", contents: Data("not a folder\n".utf8)))
        let inputs = (1...40).map(String.init)
        let result = try await offPool {
            try Shell.run(CLIRunTests.binary, ["map", "-i", inventory, "-F", "none", "--json", "echo {}", ":::"] + inputs)
        }
        #expect(result.status == 2, "exit 2: a host could not be used (README): \(result.stderr)")
        let lines = try MapCLITests.jsonLines(result.stdout)
        #expect(lines.compactMap { $0["stdout"] as? String }.sorted() == inputs.map { $0 + "\n" }.sorted())
        #expect(lines.allSatisfy { $0["host"] as? String == fleet.hosts[1].name }, "\(lines.prefix(3))")
        let said = result.stderr.split(separator: "\n").filter { $0.hasPrefix("cohort: \(fleet.hosts[0].name): ") }
        #expect(said.contains { $0.contains("cannot upload the worker") && $0.hasSuffix("Not a directory") }, "\(result.stderr)")
        #expect(!result.stderr.contains("No such file"), "no attempt to run a worker that is not there: \(result.stderr)")
    }
}
