import CohortCore
import CohortTestSupport
import Foundation
import Testing

/// `cohort copy` and `cohort fetch` on real hosts: byte-exact round trips, modes, owners and
/// links, the checksum skip, a full disk, a host lost mid-copy, bounded memory.
@Suite(.serialized) struct CopyFetchTests {
    static func cohort(_ arguments: [String]) async throws -> Shell.Result {
        try await MapCLITests.cohort(arguments)
    }

    static func home(_ fleet: TestFleet, _ host: TestFleet.Host) -> String { fleet.directory + "/\(host.name)/home" }

    /// A tree of awkward files: empty, one byte, 8 MiB of random data, names with spaces, a
    /// newline and UTF-8, an executable, a nested folder, a link.
    static func tree(in dir: String) async throws -> String {
        let root = dir + "/tree"
        try FileManager.default.createDirectory(atPath: root + "/deep/er", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/empty", contents: Data())
        _ = FileManager.default.createFile(atPath: root + "/one", contents: Data([0xff]))
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 8388608 /dev/urandom > '\(root)/random.bin'"]).status == 0)
        _ = FileManager.default.createFile(atPath: root + "/with space and\nnewline é.txt", contents: Data("odd name\n".utf8))
        _ = FileManager.default.createFile(atPath: root + "/deep/er/run.sh", contents: Data("#!/bin/sh\necho hi\n".utf8), attributes: [.posixPermissions: 0o750])
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "deep/er/run.sh")
        // Names that are not UTF-8 (Latin-1 "café", a lone 0xff): only the shell can make them.
        let odd = "printf 'latin1\\n' > \"$1/$(printf 'caf\\351')\"; mkdir \"$1/$(printf '\\377dir')\"; head -c 300000 /dev/urandom > \"$1/$(printf '\\377dir/big\\351')\""
        #expect(try await Shell.run("/bin/sh", ["-c", odd, "sh", root]).status == 0)
        return root
    }

    /// The names that are not UTF-8 in `tree(in:)`, as a shell word list, and `cmp` of each
    /// against its copy under `copy`: exit 0 only when all are there, byte for byte.
    static func sameOddFiles(_ root: String, _ copy: String) async throws -> Bool {
        let script = "for n in \"$(printf 'caf\\351')\" \"$(printf '\\377dir/big\\351')\"; do cmp \"$1/$n\" \"$2/$n\" || exit 1; done"
        return try await Shell.run("/bin/sh", ["-c", script, "sh", root, copy]).status == 0
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] { try MapCLITests.jsonLines(text) }

    @Test func aTreeRoundTripsByteForByteAndASecondCopySendsNothing() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        let root = try await Self.tree(in: scratch.dir)
        let first = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "--json", "all", root, "~/dst/"])
        #expect(first.status == 0, "\(first.stderr)")
        for host in fleet.hosts {
            let copied = Self.home(fleet, host) + "/dst/tree"
            #expect(FileManager.default.contents(atPath: copied + "/random.bin") == FileManager.default.contents(atPath: root + "/random.bin"))
            #expect(FileManager.default.contents(atPath: copied + "/with space and\nnewline é.txt") == Data("odd name\n".utf8))
            #expect(FileManager.default.contents(atPath: copied + "/empty") == Data())
            #expect(FileManager.default.contents(atPath: copied + "/one") == Data([0xff]))
            #expect(try FileManager.default.attributesOfItem(atPath: copied + "/deep/er/run.sh")[.posixPermissions] as? Int == 0o750)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: copied + "/link") == "deep/er/run.sh")
            #expect(try await Self.sameOddFiles(root, copied), "names that are not UTF-8 on \(host.name)")
            let left = try FileManager.default.subpathsOfDirectory(atPath: copied).filter { $0.contains(".cohort") }
            #expect(left.isEmpty, "temporary files left: \(left)")
        }
        let hostLines = try Self.jsonLines(first.stdout).filter { $0["path"] == nil }
        #expect(hostLines.count == 2 && hostLines.allSatisfy { ($0["bytes"] as? Int ?? 0) > 8_000_000 })
        // The same copy again: every file already matches, no data is sent.
        let second = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "--json", "all", root, "~/dst/"])
        #expect(second.status == 0, "\(second.stderr)")
        let again = try Self.jsonLines(second.stdout)
        #expect(again.filter { $0["path"] == nil }.allSatisfy { $0["bytes"] as? Int == 0 && $0["changed"] as? Int == 0 }, "\(second.stdout)")
        #expect(again.filter { $0["path"] != nil }.allSatisfy { $0["status"] as? String == "unchanged" })
        // And back: into LOCALDIR/HOST/<remote path>, the same bytes.
        let back = scratch.dir + "/back"
        let fetched = try await Self.cohort(["fetch", "-i", fleet.inventory, "-F", "none", "-r", "all", "~/dst/tree", back])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        for host in fleet.hosts {
            let local = back + "/\(host.name)/dst/tree"
            for name in ["random.bin", "empty", "one", "with space and\nnewline é.txt", "deep/er/run.sh"] {
                #expect(FileManager.default.contents(atPath: local + "/" + name) == FileManager.default.contents(atPath: root + "/" + name), "\(name)")
            }
            #expect(try FileManager.default.attributesOfItem(atPath: local + "/deep/er/run.sh")[.posixPermissions] as? Int == 0o750)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: local + "/link") == "deep/er/run.sh")
            #expect(try await Self.sameOddFiles(root, local), "fetched names that are not UTF-8 from \(host.name)")
        }
        let refetch = try await Self.cohort(["fetch", "-i", fleet.inventory, "-F", "none", "-r", "--json", "all", "~/dst/tree", back])
        #expect(try Self.jsonLines(refetch.stdout).filter { $0["path"] == nil }.allSatisfy { $0["bytes"] as? Int == 0 }, "\(refetch.stdout)")
    }

    /// A tree lands by its own name, whatever each host held: `DIR` as DEST/DIR, `DIR/` into
    /// DEST, the same on a host that had DEST and one that did not, and on the second run (which
    /// then sends nothing). Before, a host that had DEST got DEST/DIR and one without got DEST.
    @Test func aTreeLandsTheSameOnEveryHostAndEveryRun() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        let root = scratch.dir + "/site"
        try FileManager.default.createDirectory(atPath: root + "/css", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/index.html", contents: Data("<p>\n".utf8))
        _ = FileManager.default.createFile(atPath: root + "/css/a.css", contents: Data("p{}\n".utf8))
        try FileManager.default.createDirectory(atPath: Self.home(fleet, fleet.hosts[0]) + "/www", withIntermediateDirectories: true)
        func layout(_ host: TestFleet.Host, _ folder: String) throws -> [String] {
            try FileManager.default.subpathsOfDirectory(atPath: Self.home(fleet, host) + "/" + folder).sorted()
        }
        for run in 1...2 {
            let named = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "--json", "all", root, "~/www"])
            #expect(named.status == 0, "\(named.stderr)")
            let contents = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "--json", "all", root + "/", "~/flat"])
            #expect(contents.status == 0, "\(contents.stderr)")
            for host in fleet.hosts {
                #expect(try layout(host, "www") == ["site", "site/css", "site/css/a.css", "site/index.html"], "run \(run) on \(host.name)")
                #expect(try layout(host, "flat") == ["css", "css/a.css", "index.html"], "run \(run) on \(host.name)")
            }
            if run == 2 {
                let hostLines = try Self.jsonLines(named.stdout + contents.stdout).filter { $0["path"] == nil }
                #expect(hostLines.count == 4 && hostLines.allSatisfy { $0["bytes"] as? Int == 0 && $0["changed"] as? Int == 0 }, "\(hostLines)")
            }
        }
        // A file where the tree's DEST must be: that host fails in words, nothing written there.
        try "file\n".write(toFile: Self.home(fleet, fleet.hosts[1]) + "/plain", atomically: true, encoding: .utf8)
        let blocked = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "all", root, "~/plain"])
        #expect(blocked.status == 1, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("~/plain exists and is not a directory"), "\(blocked.stderr)")
    }

    @Test func modesOwnersAndFollowedLinks() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        let root = try await Self.tree(in: scratch.dir)
        let result = try await Self.cohort([
            "copy", "-i", fleet.inventory, "-F", "none", "--mode", "0600", "--owner", "nobody", "--group", "nogroup", "-L", "all",
            root + "/link", "~/followed",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let copied = Self.home(fleet, fleet.hosts[0]) + "/followed"
        let attributes = try FileManager.default.attributesOfItem(atPath: copied)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular, "-L copies what the link points to")
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(attributes[.ownerAccountName] as? String == "nobody")
        #expect(attributes[.groupOwnerAccountName] as? String == "nogroup")
        // Several sources need a directory; a file is there: that host fails, in words, exit 1.
        try "file\n".write(toFile: Self.home(fleet, fleet.hosts[0]) + "/plain", atomically: true, encoding: .utf8)
        let notDirectory = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "all", root + "/one", root + "/empty", "~/plain"])
        #expect(notDirectory.status == 1, "\(notDirectory.stderr)")
        #expect(notDirectory.stderr.contains("~/plain exists and is not a directory"), "\(notDirectory.stderr)")
        let badOwner = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "--owner", "no-such-user", "all", root + "/one", "~/x"])
        #expect(badOwner.status == 1)
        #expect(badOwner.stderr.contains("no user 'no-such-user' on this host"), "\(badOwner.stderr)")
    }

    /// On a terminal the copy draws a progress line (bytes, hosts, rate, ETA) and clears it.
    @Test func aProgressLineOnATerminal() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 67108864 /dev/zero > '\(scratch.dir)/big'"]).status == 0)
        let command = ShellQuote.commandLine([CLIRunTests.binary, "copy", "-i", fleet.inventory, "-F", "none", "all", scratch.dir + "/big", "~/big"])
        // script(1) gives the copy a terminal, and writes what appeared on it to stdout.
        let result = try await Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("to 1 hosts") && result.stdout.contains("ETA"), "\(result.stdout)")
        #expect(result.stdout.contains("64.0 MiB/64.0 MiB") || result.stdout.contains("h1 | changed"), "\(result.stdout)")
        let piped = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "all", scratch.dir + "/big", "~/big2"])
        #expect(!piped.stderr.contains("ETA"), "no meter when stderr is not a terminal")
        // fetch draws the same line, its total from the hosts' listings.
        let back = ShellQuote.commandLine([CLIRunTests.binary, "fetch", "-i", fleet.inventory, "-F", "none", "all", "~/big", scratch.dir + "/back"])
        let fetched = try await Shell.run("/usr/bin/script", ["-qec", back, "/dev/null"])
        #expect(fetched.status == 0, "\(fetched.stdout)")
        #expect(fetched.stdout.contains("/64.0 MiB from 1 hosts") && fetched.stdout.contains("ETA"), "\(fetched.stdout)")
        #expect(fetched.stdout.contains("h1 | changed"), "\(fetched.stdout)")
        let pipedFetch = try await Self.cohort(["fetch", "-i", fleet.inventory, "-F", "none", "all", "~/big", scratch.dir + "/back2"])
        #expect(pipedFetch.status == 0 && !pipedFetch.stderr.contains("ETA"), "\(pipedFetch.stderr)")
    }

    @Test func badInputIsRefusedBeforeAnythingIsSent() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        let root = try await Self.tree(in: scratch.dir)
        for (arguments, message) in [
            (["copy", root + "/missing", "~/x"], "cannot read"),
            (["copy", root, "~/x"], "is a directory (give -r"),
            (["copy", root + "/one"], "give at least one source and a destination"),
            (["fetch", "~/x", root + "/one"], "the local folder is a file"),
            (["fetch", "../../etc/passwd", scratch.dir + "/out"], "climbs above its root"),
        ] {
            let result = try await Self.cohort([arguments[0], "-i", fleet.inventory, "-F", "none", "all"] + arguments.dropFirst())
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!fleet.log(of: fleet.hosts[0]).contains("Accepted"), "no host was contacted")
    }

    /// A full disk on the host: the copy fails in words, the old file is intact, and nothing
    /// temporary is left.
    @Test func aFullDiskLeavesTheOldFileIntact() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let small = Self.home(fleet, fleet.hosts[0]) + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = try await Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", small])
        try #require(mount.status == 0, "mount: \(mount.stderr)")
        defer { _ = try? Shell.run("/bin/umount", ["-l", small]) }
        try "old content\n".write(toFile: small + "/file", atomically: false, encoding: .utf8)
        let scratch = try CLIUsageTests.Scratch()
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 2000000 /dev/urandom > '\(scratch.dir)/big'"]).status == 0)
        let result = try await Self.cohort(["copy", "-i", fleet.inventory, "-F", "none", "all", scratch.dir + "/big", "~/small/file"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
        #expect(try String(contentsOfFile: small + "/file", encoding: .utf8) == "old content\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: small) == ["file"])
    }

    /// The host's sshd killed mid-copy: the host is reported lost (exit 2), its old file
    /// intact, and the unnamed file being written goes with the worker.
    @Test func aHostLostMidCopyKeepsItsOldFile() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let target = Self.home(fleet, host) + "/big"
        try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
        let scratch = try CLIUsageTests.Scratch()
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 1073741824 /dev/zero > '\(scratch.dir)/big'"]).status == 0)
        let child = try ChildProcess(CLIRunTests.binary, ["copy", "-i", fleet.inventory, "-F", "none", "all", scratch.dir + "/big", "~/big"])
        child.closeStdin()
        // Mid-copy: the worker holds the unnamed file it is writing.
        try await MapFaultTests.waitFor("the copy to be under way") {
            fleet.sessionProcesses(of: host).contains { pid in
                let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
                return fds.contains { ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "").contains("(deleted)") }
            }
        }
        for pid in fleet.sessionProcesses(of: host) { kill(pid, SIGKILL) }
        let status = try await offPool { child.wait() }
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains("UNREACHABLE"), "\(stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: Self.home(fleet, host)).filter { $0.contains(".cohort") }.isEmpty)
    }

    /// 1 GiB to 4 hosts: the file is read once for all of them, in a bounded window.
    @Test func aBigFileToFourHostsInBoundedMemory() async throws {
        let fleet = try TestFleet.start(hosts: 4)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 1073741824 /dev/zero > '\(scratch.dir)/gig'"]).status == 0)
        let child = try ChildProcess(CLIRunTests.binary, ["copy", "-i", fleet.inventory, "-F", "none", "all", scratch.dir + "/gig", "~/gig"])
        child.closeStdin()
        var peak = 0
        let pid = child.pid
        let sampler = Task.detached {
            var highest = 0
            while !Task.isCancelled {
                let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                    let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
                {
                    highest = max(highest, kb)
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return highest
        }
        let status = try await offPool { child.wait() }
        sampler.cancel()
        peak = await sampler.value
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        #expect(status == 0, "\(stderr)")
        #expect(peak > 0 && peak < 100 * 1024, "peak RSS \(peak) KiB")
        print("copy of 1 GiB to 4 hosts: peak RSS \(peak) KiB")
        for host in fleet.hosts {
            #expect((try? FileManager.default.attributesOfItem(atPath: Self.home(fleet, host) + "/gig")[.size] as? Int) == 1 << 30)
        }
    }
}
