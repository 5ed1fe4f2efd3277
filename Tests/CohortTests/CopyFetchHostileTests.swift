import CohortTestSupport
import Foundation
import Testing

/// `cohort copy` and `cohort fetch` against what a hostile host plants (issue 21): a link
/// inside DEST, setuid and world-writable files.
@Suite(.serialized) struct CopyFetchHostileTests {
    /// A directory symlink planted inside DEST is replaced by a directory, as rsync does: the
    /// copy never writes through it, nor changes the mode of what it points to.
    @Test func aLinkPlantedInsideDestIsNeverWrittenThrough() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let scratch = try CLIUsageTests.Scratch()
        let root = scratch.dir + "/tree"
        try FileManager.default.createDirectory(atPath: root + "/deep", withIntermediateDirectories: true)
        try "inside\n".write(toFile: root + "/deep/file", atomically: true, encoding: .utf8)
        chmod(root + "/deep", 0o777)
        let home = CopyFetchTests.home(fleet, fleet.hosts[0])
        let outside = fleet.directory + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        chmod(outside, 0o700)
        try FileManager.default.createDirectory(atPath: home + "/dest/tree", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: home + "/dest/tree/deep", withDestinationPath: outside)
        let result = try await CopyFetchTests.cohort(["copy", "-i", fleet.inventory, "-F", "none", "-r", "all", root, "~/dest/"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "written through the planted link")
        #expect((try FileManager.default.attributesOfItem(atPath: outside))[.posixPermissions] as? Int == 0o700)
        let landed = try FileManager.default.attributesOfItem(atPath: home + "/dest/tree/deep")
        #expect(landed[.type] as? FileAttributeType == .typeDirectory)
        #expect(try String(contentsOfFile: home + "/dest/tree/deep/file", encoding: .utf8) == "inside\n")
    }

    /// A host's setuid or world-writable file arrives as scp leaves it: no setuid, setgid or
    /// sticky bit, and this process's umask applied.
    @Test func fetchedModesLoseSetuidAndFollowTheUmask() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let home = CopyFetchTests.home(fleet, fleet.hosts[0])
        for (name, mode) in [("suid", 0o6755), ("open", 0o666), ("sticky", 0o1777)] {
            try "x\n".write(toFile: home + "/" + name, atomically: true, encoding: .utf8)
            chmod(home + "/" + name, mode_t(mode))
        }
        let local = fleet.directory + "/fetched"
        let result = try await Shell.run(
            "/bin/sh", ["-c", "umask 022; exec \"$0\" fetch -i \"$1\" -F none all '~/suid' '~/open' '~/sticky' \"$2\"", CLIRunTests.binary, fleet.inventory, local])
        #expect(result.status == 0, "\(result.stderr)")
        var modes: [String: Int] = [:]
        for name in ["suid", "open", "sticky"] {
            let found = try FileManager.default.subpathsOfDirectory(atPath: local).first { $0.hasSuffix("/" + name) }
            let path = local + "/" + (try #require(found, "\(name) not fetched"))
            modes[name] = (try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int
        }
        #expect(modes == ["suid": 0o755, "open": 0o644, "sticky": 0o755], "\(modes)")
    }

    /// SIGTERM or SIGINT mid-fetch: the partial file is removed, the interruption said, and
    /// the exit status is 128 + the signal.
    @Test(arguments: [SIGTERM, SIGINT])
    func anInterruptedFetchLeavesNoPartialFile(signal: Int32) async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let home = CopyFetchTests.home(fleet, fleet.hosts[0])
        #expect(try await Shell.run("/bin/sh", ["-c", "truncate -s 4G '\(home)/big'"]).status == 0)
        let local = fleet.directory + "/fetched"
        let cohort = try ChildProcess(CLIRunTests.binary, ["fetch", "-i", fleet.inventory, "-F", "none", "all", "~/big", local])
        func partial() -> [String] {
            ((try? FileManager.default.subpathsOfDirectory(atPath: local)) ?? []).filter { ($0 as NSString).lastPathComponent.hasPrefix(".") }
        }
        // Once the landing exists (a condition, polled), the signal.
        var seen = false
        for _ in 0..<6000 where !seen {
            seen = !partial().isEmpty
            if !seen { usleep(10_000) }
        }
        try #require(seen, "no partial file appeared")
        kill(cohort.pid, signal)
        let status = cohort.wait()
        let stderr = String(decoding: ChildProcess.readAll(cohort.stderrFD), as: UTF8.self)
        #expect(status == 128 + signal, "\(stderr)")
        #expect(stderr.contains("fetch interrupted by SIG") && stderr.contains("1 partial file removed"), "\(stderr)")
        #expect(partial().isEmpty, "\(partial())")
    }
}
