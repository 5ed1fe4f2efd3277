import Foundation

/// Hosts reachable only through bastions (`scripts/jumpfleet`): targets whose sshds listen in a
/// network namespace of their own, one or two bastions in front. Root only.
public final class JumpFleet: @unchecked Sendable {
    // @unchecked: immutable after start, apart from `stop`, which is idempotent.
    public let directory: String
    public let targets: Int
    public var inventory: String { directory + "/inventory.ini" }
    public var sshConfig: String { directory + "/ssh_config" }
    public var knownHosts: String { directory + "/known_hosts" }

    public static func start(targets: Int, hops: Int = 1) throws -> JumpFleet {
        let directory = NSTemporaryDirectory() + "cohort-jump-" + UUID().uuidString.prefix(8)
        let result = try Shell.run(
            TestFleet.repositoryRoot + "/scripts/jumpfleet", ["up", String(targets), "--dir", directory, "--hops", String(hops)])
        guard result.status == 0 else { throw FleetError("jumpfleet up failed: \(result.stderr)") }
        return JumpFleet(directory: directory, targets: targets)
    }

    private init(directory: String, targets: Int) {
        self.directory = directory
        self.targets = targets
    }

    public func stop() {
        _ = try? Shell.run(TestFleet.repositoryRoot + "/scripts/jumpfleet", ["down", "--dir", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A bastion's sshd log (`b1`, `b2`) or a target's (`t1`...).
    public func log(of host: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(host)/sshd.log", encoding: .utf8)) ?? ""
    }

    /// Logins a bastion or target accepted so far.
    public func logins(_ host: String) -> Int {
        log(of: host).components(separatedBy: "Accepted publickey").count - 1
    }

    /// The `sshd -i` processes serving bastion `host`'s connections now.
    public func sessions(of host: String) -> [Int32] {
        guard let pids = try? String(contentsOfFile: directory + "/pids", encoding: .utf8) else { return [] }
        return pids.split(separator: "\n").compactMap { Int32($0) }.filter { pid in
            let line = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return line.contains("-i\u{0}") && line.contains("\(directory)/\(host)/sshd_config")
        }
    }
}
