import CohortTestSupport
import Foundation
import Testing

/// A worker that breaks the protocol on one host (garbage, a frame longer than any allowed, a
/// frame of a type that does not exist) is dropped: its tasks run on the other host, each
/// once, the run goes on, and the host that misbehaved is named.
@Suite struct MisbehavingWorkerTests {
    static let behaviours: [(String, String)] = [
        ("garbage", "head -c 4096 /dev/urandom; exec cat >/dev/null"),
        ("oversized frame", "printf '\\177\\377\\377\\377'; head -c 65536 /dev/zero; exec cat >/dev/null"),
        ("unknown frame type", "printf '\\000\\000\\000\\001\\356'; exec cat >/dev/null"),
    ]

    @Test(arguments: 0..<behaviours.count)
    func aWorkerThatBreaksTheProtocolIsDroppedAndItsTasksRunElsewhere(_ index: Int) async throws {
        let (name, misbehave) = Self.behaviours[index]
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let real = (CLIRunTests.binary as NSString).deletingLastPathComponent + "/cohort-worker"
        // The same worker file goes to both hosts; on h2 (told apart by the port sshd serves) it misbehaves.
        let script = fleet.directory + "/worker.sh"
        try """
            #!/bin/sh
            case "$SSH_CONNECTION" in
              *" \(fleet.hosts[1].port)") \(misbehave) ;;
            esac
            exec \(real) "$@"

            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let result = try await Shell.run(
            CLIRunTests.binary, ["map", "-i", fleet.inventory, "-F", "none", "--json", "echo {}", ":::"] + (1...40).map(String.init),
            environment: ProcessInfo.processInfo.environment.merging(["COHORT_WORKER": script]) { $1 })
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let lines = try MapCLITests.jsonLines(result.stdout)
        #expect(lines.compactMap { $0["stdout"] as? String }.sorted() == (1...40).map { "\($0)\n" }.sorted(), "\(name): every task once")
        #expect(Set(lines.compactMap { $0["host"] as? String }) == ["h1"], "\(name)")
        #expect(result.stderr.contains("h2: LOST: corrupt stream: "), "\(name): the host and what it did are named: \(result.stderr)")
        #expect(result.stderr.contains("40 tasks: 40 ok, 0 failed, 0 timed out, 0 lost"), "\(name): \(result.stderr)")
    }
}
