import CohortCore
import CohortTestSupport
import Foundation
import Testing

/// Output that cannot be written is an error, never a crash and never silent; output spilled
/// to temporary files never outlives the coordinator. Local hosts only: no network.
@Suite(.serialized) struct OutputFailureTests {
    static func sh(_ script: String, environment: [String: String] = [:]) async throws -> Shell.Result {
        try await offPool { try Shell.run("/bin/sh", ["-c", script], environment: environment) }
    }

    static var cohort: String { ShellQuote.quote(CLIRunTests.binary) }

    @Test(arguments: ["> /dev/full", ">&-"])
    func mapOutputThatCannotBeWrittenStopsTheRun(redirect: String) async throws {
        let scratch = try CLIUsageTests.Scratch()
        let result = try await Self.sh("\(Self.cohort) map -i \(ShellQuote.quote(scratch.inventory)) 'echo {}' ::: $(seq 1 50) \(redirect)")
        #expect(result.status == 1, "\(result.status): \(result.stderr)")
        #expect(result.stderr.contains("cannot write standard output"), "\(result.stderr)")
    }

    @Test(arguments: ["> /dev/full", ">&-"])
    func runOutputThatCannotBeWrittenIsAnError(redirect: String) async throws {
        let scratch = try CLIUsageTests.Scratch()
        let result = try await Self.sh("\(Self.cohort) run -i \(ShellQuote.quote(scratch.inventory)) all -- echo hello \(redirect)")
        #expect(result.status == 1, "\(result.status): \(result.stderr)")
        #expect(result.stderr.contains("cannot write standard output"), "\(result.stderr)")
    }

    /// A joblog on a filesystem that fills up mid-run: the map stops as --halt now would,
    /// says why, and exits non-zero; what it did run is accounted for.
    @Test func aJoblogOnAFullDiskStopsTheMapCleanly() async throws {
        let scratch = try CLIUsageTests.Scratch()
        let small = scratch.dir + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = try await Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", small])
        try #require(mount.status == 0, "mount: \(mount.stderr)")
        defer { _ = try? Shell.run("/bin/umount", ["-l", small]) }
        let result = try await Self.sh("\(Self.cohort) map -i \(ShellQuote.quote(scratch.inventory)) --joblog \(ShellQuote.quote(small + "/jobs.tsv")) 'echo {}' ::: $(seq 1 2000) > /dev/null")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write the joblog \(small)/jobs.tsv: No space left on device"), "\(result.stderr)")
        #expect(result.stderr.contains("halted"), "the run stopped early: \(result.stderr)")
    }

    /// A task's big output spills to a temporary file; killing the coordinator leaves nothing
    /// behind in TMPDIR, because the file is unlinked as soon as it is made.
    @Test func spilledOutputLeavesNothingBehind() async throws {
        let scratch = try CLIUsageTests.Scratch()
        let tmp = scratch.dir + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let child = try ChildProcess(
            CLIRunTests.binary, ["map", "-i", scratch.inventory, "head -c 3000000 /dev/zero; sleep 60", ":::", "big"],
            environment: ["TMPDIR": tmp + "/"])
        child.closeStdin()
        // The spill file is open in the coordinator (and already unlinked).
        try await MapFaultTests.waitFor("the output to spill") {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd")) ?? []
            return fds.contains { ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child.pid)/fd/\($0)")) ?? "").contains("cohort-output-") }
        }
        kill(child.pid, SIGKILL)
        _ = try await offPool { child.wait() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }
}
