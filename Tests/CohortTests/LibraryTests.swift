import CohortTestSupport
import Foundation
import Testing

/// The Swift library end to end: `cohort-primes` (Sources/CohortExamplePrimes) declares jobs,
/// ships itself to the fleet as its own worker, and gets typed outputs and typed errors back.
@Suite(.serialized) struct LibraryTests {
    static var example: String { TestFleet.repositoryRoot + "/.build/debug/cohort-primes" }

    @Test func typedJobsRoundTripInputOutputAndErrorsAcrossTheFleet() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.example), "build the example first (make test does)")
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
