import CohortTestSupport
import CohortWire
import Foundation
import Testing

/// The Swift library end to end: `cohort-primes` (Sources/CohortExamplePrimes) declares jobs,
/// ships itself to the fleet as its own worker, and gets typed outputs and typed errors back.
@Suite(.serialized) struct LibraryTests {
    /// Built by `make static` with `--static-swift-stdlib`, the way docs/library.md says to build
    /// a library program.
    static var example: String { TestFleet.repositoryRoot + "/.build-static/debug/cohort-primes" }

    /// The program is its own worker, so it must start on a host that has neither the Swift
    /// runtime nor libssh2 nor OpenSSL: all linked in.
    @Test func theProgramNeedsNoSwiftRuntimeNorLibssh2() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.example), "build the example first (make static)")
        #expect(try await BareHost.foreignLibraries(of: Self.example) == [])
    }

    @Test(.enabled(if: getuid() == 0, "chroot needs root; the ldd check above still runs"))
    func theProgramServesAsAWorkerInAChrootHoldingOnlyTheCLibrary() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.example), "build the example first (make static)")
        let (hello, errors) = try await BareHost.firstFrame(of: Self.example, ["--cohort-worker"], withProc: true)
        guard case .hello(let facts) = hello else {
            Issue.record("no hello from cohort-primes --cohort-worker in a bare chroot: \(errors)")
            return
        }
        #expect(facts.protocolVersion == Wire.protocolVersion)
    }

    /// A job that never returns cannot be interrupted inside its worker: the worker reports it
    /// stopped and restarts in place (same pid, same channel), ending the job's thread, and runs
    /// the jobs it had been sent ahead. One slot, so every job passes through that one worker.
    @Test func aSwiftJobPastTheTimeoutIsStoppedAndItsWorkerGoesOn() async throws {
        let program = TestFleet.repositoryRoot + "/.build/debug/CohortTestJobs"
        try #require(FileManager.default.isExecutableFile(atPath: program), "build the test program first (make test does)")
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 1)
        let started = ContinuousClock.now
        // Input 4 is NaN, which JSON cannot carry: that input fails alone, as Cohort.badInput.
        let result = try await Shell.run(program, ["-i", inventory, "--timeout", "2", "0", "0", "600", "0", "nan", "0"])
        #expect(result.status == 0, "\(result.stderr)")
        // Far below the 600 s the spinning job asked for: it was stopped, not waited for.
        #expect(ContinuousClock.now - started < .seconds(300))
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(lines.count == 6, "\(result.stdout)")
        #expect(lines[2] == ["2", "Cohort.timedOut"])
        #expect(lines[4] == ["4", "Cohort.badInput"])
        let others = lines.enumerated().filter { $0.offset != 2 && $0.offset != 4 }.map(\.element)
        #expect(others.allSatisfy { $0.count == 3 && $0[1] == "ok" }, "\(others)")
        #expect(Set(others.map { $0.last! }).count == 1, "one worker, restarted in place: \(others)")
        // Nothing is left spinning on the host: the worker has exited after the run (gone, or a
        // zombie its sshd has not reaped yet).
        let pid = try #require(others.first.flatMap { Int32($0[2]) })
        var ps = "?"
        // The bound only keeps a broken run from hanging the suite.
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            ps = try await Shell.run("/bin/ps", ["-o", "stat=,args=", "-p", "\(pid)"]).stdout
            if ps.isEmpty || ps.hasPrefix("Z") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ps.isEmpty || ps.hasPrefix("Z"), "worker \(pid) still running ten minutes after the map: \(ps)")
    }

    @Test func typedJobsRoundTripInputOutputAndErrorsAcrossTheFleet() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.example), "build the example first (make static)")
        let fleet = try TestFleet.start(hosts: 3)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let result = try await Shell.run(Self.example, ["-i", inventory, "--below", "100000", "--jobs", "40"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // π(100,000) = 9,592, summed from 40 ranges counted on 6 workers.
        #expect(lines.first?.hasPrefix("primes below 100000: 9592 (40 jobs on 3 hosts") == true, "\(lines)")
        #expect(lines.dropFirst().elementsEqual(["84 / 2 = 42", "7 / 0: DivisionByZero(numerator: 7)"]))
        // The worker on each host is the example program itself, cached under its SHA-256.
        let digest = try await Shell.run("/usr/bin/sha256sum", [Self.example]).stdout.prefix(64)
        for host in fleet.hosts {
            let cache = fleet.directory + "/\(host.name)/home/.cache/cohort"
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == [String(digest)])
        }
    }
}
