import CohortCore
import CohortTestSupport
import Foundation

@testable import CohortSSH

extension TestFleet {
    func target(_ host: Host, connectTimeout: Duration = .seconds(10), deadPeer: Duration = .seconds(30)) -> SSHTarget {
        SSHTarget(
            name: host.name, address: host.address, port: host.port, user: NSUserName(),
            identityFiles: [clientKey], identitiesOnly: true, knownHostsFile: knownHosts,
            connectTimeout: connectTimeout, deadPeerTimeout: deadPeer)
    }
}

/// Waits until `condition` holds, polling; fails the test by throwing after `limit`, which only
/// keeps a broken run from hanging the suite (far past any delay a loaded machine makes).
func eventually(_ what: String, limit: Duration = .seconds(600), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw FleetError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Whether `pid` is an sshd process (the listener's per-connection monitor or its session
/// child): by the executable, which setproctitle cannot change and a racing read of
/// cmdline cannot miss, else by the title.
func isSSHD(_ pid: Int32) -> Bool {
    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), target.hasSuffix("/sshd") { return true }
    return commandLine(pid).hasPrefix("sshd")
}

func commandLine(_ pid: Int32) -> String {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
    return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
}
