import CohortTestSupport
import Foundation
import Testing

/// What a `multiprocessing.Pool` user expects of the library, on a real fleet, through the test
/// program (Tests/CohortTestJobs): a map stops when its consumer goes, nothing outlives a call
/// that returned, a job is found by its full name, a bad input fails alone.
@Suite(.serialized) struct PoolTests {
    static var program: String { TestFleet.repositoryRoot + "/.build/debug/CohortTestJobs" }

    static func run(_ arguments: [String]) async throws -> Shell.Result {
        try #require(FileManager.default.isExecutableFile(atPath: program), "build the test program first (make test does)")
        return try await Shell.run(program, arguments)
    }

    /// 40 one-second jobs on 4 slots: ten rounds. Leaving the loop after 3 results (or
    /// cancelling the consuming task) must stop the rest; before, all 40 ran.
    @Test(arguments: ["cancel-break", "cancel-task"])
    func aMapStopsWhenItsConsumerGoes(mode: String) async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let scratch = try CLIUsageTests.Scratch()
        let result = try await Self.run(["-i", inventory, mode, scratch.dir, fleet.directory])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(result.stdout)")
        if mode == "cancel-break" {
            #expect(lines[0] == "left after 3")
        } else {
            // Results already delivered before the cancellation may still be read.
            #expect(lines[0].hasPrefix("CancellationError after "), "\(lines[0])")
        }
        let marks = try #require(Int(lines[1].dropFirst("marks ".count)), "\(lines)")
        // The first round and whatever had been sent ahead before the stop; never all 40.
        #expect(marks >= 3 && marks < 40, "\(marks) jobs started after the consumer went")
    }

    /// `reduce` throws at the first failure while other jobs still run; the program then
    /// exits at once. That crashed in OpenSSL's exit-time cleanup (exit 139) in 3 runs of 10.
    @Test func aThrowingReduceThenExitDoesNotCrash() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        for _ in 0..<5 {
            let result = try await Self.run(["-i", inventory, "reduce-throws"])
            #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
            #expect(result.stdout == "threw Refused\n")
        }
    }

    @Test func jobsWithTheSameShortNameAreTwoJobs() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let result = try await Self.run(["-i", fleet.inventory, "same-short-names"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "celsius 212.0 miles 1.609344\n")
    }

    @Test func twoJobsUnderOneNameAreRefusedAtStart() async throws {
        let result = try await Self.run(["--duplicate-names"])
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("SameName.First and CohortTestJobs.SameName.Second are both named 'same'"), "\(result.stderr)")
    }

    /// A worker that exits before serving (its program checks something of its own first):
    /// the failure carries the host and the worker's own exit status and words.
    @Test func aWorkerThatCannotStartIsReportedInItsOwnWords() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let home = fleet.directory + "/\(fleet.hosts[0].name)/home"
        #expect(FileManager.default.createFile(atPath: home + "/cohort-test-refuse", contents: nil))
        let result = try await Self.run(["-i", fleet.inventory, "one"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Cohort.lost: no host was left to run it"), "\(result.stdout)")
        #expect(result.stdout.contains("\(fleet.hosts[0].name)"), "\(result.stdout)")
        #expect(result.stdout.contains("refusing to serve: this host is marked"), "\(result.stdout)")
    }

    /// A mixed fleet, one host refusing to serve: the job runs on the other, and the cluster
    /// still says which host failed and in what words.
    @Test func aHostThatFailedIsReportedEvenWhenEveryJobRanElsewhere() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let refusing = fleet.hosts[1].name
        #expect(FileManager.default.createFile(atPath: fleet.directory + "/\(refusing)/home/cohort-test-refuse", contents: nil))
        let result = try await Self.run(["-i", fleet.inventory, "one"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "ok 32.0", "\(result.stdout)")
        let problems = lines.filter { $0.hasPrefix("problem \(refusing)") }
        #expect(!problems.isEmpty, "\(result.stdout)")
        #expect(problems.allSatisfy { $0.contains("refusing to serve: this host is marked") }, "\(result.stdout)")
        #expect(!lines.contains { $0.hasPrefix("problem \(fleet.hosts[0].name)") }, "\(result.stdout)")
    }

    /// Like a `Pool`, a cluster keeps its connections and workers between maps: three maps
    /// log into each host once, and `Cluster.with` once more, then shuts everything down.
    @Test func mapsOnOneClusterShareItsConnections() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        func logins() -> [Int] { fleet.hosts.map { fleet.log(of: $0).components(separatedBy: "Accepted publickey").count - 1 } }
        let before = logins()
        let result = try await Self.run(["-i", inventory, "reuse", fleet.directory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "map 0: 16 ok\nmap 1: 16 ok\nmap 2: 16 ok\nscoped 488.0\nworkers gone\n", "\(result.stdout)")
        let after = logins()
        // One login per host for the three maps, one for the scoped cluster.
        #expect(zip(before, after).map { $1 - $0 } == [2, 2], "logins before \(before), after \(after)")
    }

    /// Batches of 10: input 13 kills its worker, input 7's output cannot be encoded. Each
    /// failed batch is run again one input at a time, so only those two fail.
    @Test func aFailedBatchIsSplitSoOnlyTheBadInputFails() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let result = try await Self.run(["-i", inventory, "split"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 20, "\(result.stdout)")
        for (index, line) in lines.enumerated() {
            switch index {
            case 7: #expect(line == "7 Cohort.badOutput")
            case 13: #expect(line == "13 Cohort.lost")
            default: #expect(line == "\(index) ok \(Double(index))")
            }
        }
    }

    /// A context shipped once per worker reaches every job, a second map's context replaces
    /// the first, a worker restarted in place gets it again, and a job reading a context its
    /// map was not given fails with Cohort.noContext.
    @Test func everyJobSeesItsMapsContext() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let inventory = try MapCLITests.inventory(fleet, slots: 2)
        let result = try await Self.run(["-i", inventory, "context"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            hello true
            hi true
            restart failures ["0 Cohort.timedOut"] others true
            no context: Cohort.noContext, index given true

            """)
    }
}
