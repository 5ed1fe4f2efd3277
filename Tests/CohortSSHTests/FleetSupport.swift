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

/// Waits until `condition` holds, polling; fails the test by throwing after `limit`.
func eventually(_ what: String, limit: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw FleetError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

func commandLine(_ pid: Int32) -> String {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
    return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
}

/// A TCP listener on loopback that the test controls: it never speaks SSH.
final class SilentListener {
    let fd: Int32
    let port: Int

    /// `backlog` 0 plus one queued connection makes the kernel drop further SYNs: a black hole.
    init(backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            close(fd)
            throw FleetError("cannot listen: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A loopback port with nothing listening on it.
func closedPort() throws -> Int {
    let listener = try SilentListener()
    return listener.port
}
