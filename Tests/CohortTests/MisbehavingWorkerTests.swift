import CohortTestSupport
import Foundation
import Testing

/// A worker that breaks the protocol on one host (garbage, a frame longer than any allowed, a
/// frame of a type that does not exist, a result for a task it was not running) is dropped: its tasks run on the other host, each
/// once, the run goes on, and the host that misbehaved is named.
@Suite struct MisbehavingWorkerTests {
    /// Name, what h2's worker does instead of `exec WORKER "$@"` (until its input ends), and the start of the reason
    /// the coordinator gives.
    static let behaviours: [(String, String, String)] = [
        ("garbage", "head -c 4096 /dev/urandom; cat >/dev/null", "corrupt stream: "),
        ("oversized frame", "printf '\\177\\377\\377\\377'; head -c 65536 /dev/zero; cat >/dev/null", "corrupt stream: "),
        ("unknown frame type", "printf '\\000\\000\\000\\001\\356'; cat >/dev/null", "corrupt stream: "),
        // The real worker, its frames passed through; after its first result, a forged copy.
        ("a result for a task never given", forge("id + 1_000_000_000"), "protocol violation: a result for task 1000000"),
        ("the same result twice", forge("id"), "protocol violation: a result for task "),
    ]

    /// Shell: runs the real worker (`$real`) with its output through a filter that, after the
    /// first result frame, sends that frame again with its task id replaced by `newID` (a
    /// Python expression of `id`).
    static func forge(_ newID: String) -> String {
        let filter = """
            import struct, sys
            i, o, forged = sys.stdin.buffer, sys.stdout.buffer, False
            while True:
                head = i.read(4)
                if len(head) < 4: break
                body = i.read(struct.unpack(">I", head)[0])
                o.write(head + body); o.flush()
                if body[0] == 5 and not forged:
                    forged, id = True, struct.unpack(">Q", body[1:9])[0]
                    o.write(head + body[:1] + struct.pack(">Q", \(newID)) + body[9:]); o.flush()
            """
        return "\"$real\" \"$@\" | python3 -c '\(filter)'"
    }

    @Test(arguments: 0..<behaviours.count)
    func aWorkerThatBreaksTheProtocolIsDroppedAndItsTasksRunElsewhere(_ index: Int) async throws {
        let (name, misbehave, reason) = Self.behaviours[index]
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let real = (CLIRunTests.binary as NSString).deletingLastPathComponent + "/cohort-worker"
        // The same worker file goes to both hosts; on h2 (told apart by the port sshd serves) it
        // misbehaves, and once the coordinator has closed it (which it does on deciding to drop
        // it) leaves a mark. h1's workers start only after that mark: else a loaded machine may
        // let h1 finish every task before h2 has done anything wrong, or before it is read.
        let script = fleet.directory + "/worker.sh"
        let dropped = fleet.directory + "/h2-dropped"
        try """
            #!/bin/sh
            real=\(real)
            case "$SSH_CONNECTION" in
              *" \(fleet.hosts[1].port)") { \(misbehave) ; } ; touch \(dropped); exit 0 ;;
              *" \(fleet.hosts[0].port)") n=0; while [ ! -e \(dropped) ] && [ $n -lt 3000 ]; do sleep 0.05; n=$((n+1)); done ;;
            esac
            exec "$real" "$@"

            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let result = try await Shell.run(
            CLIRunTests.binary, ["map", "-i", fleet.inventory, "-F", "none", "--json", "echo {}", ":::"] + (1...40).map(String.init),
            environment: ProcessInfo.processInfo.environment.merging(["COHORT_WORKER": script]) { $1 })
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let lines = try MapCLITests.jsonLines(result.stdout)
        #expect(lines.compactMap { $0["stdout"] as? String }.sorted() == (1...40).map { "\($0)\n" }.sorted(), "\(name): every task once")
        // A forged frame follows one real result of each of h2's workers, which stands.
        let h2Slots = lines.filter { $0["host"] as? String != "h1" }.compactMap { $0["slot"] as? Int }
        #expect(h2Slots.count == Set(h2Slots).count && (reason.hasPrefix("protocol") || h2Slots.isEmpty), "\(name): \(h2Slots)")
        #expect(result.stderr.contains("h2: LOST: " + reason), "\(name): the host and what it did are named: \(result.stderr)")
        #expect(result.stderr.contains("40 tasks: 40 ok, 0 failed, 0 timed out, 0 lost"), "\(name): \(result.stderr)")
    }
}
