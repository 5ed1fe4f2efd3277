import Foundation

/// A fleet of real sshd processes on loopback, started by `scripts/testfleet` for one test
/// and stopped by it (exactly the processes it started). Every test that crosses SSH uses one.
public final class TestFleet: @unchecked Sendable {
    // @unchecked: immutable after start, apart from `stop`, which is idempotent.
    public struct Host: Sendable {
        public var name: String
        public var address: String
        public var port: Int
        /// The listening sshd; its children are the per-connection session processes.
        public var sshdPID: Int32
    }

    public let directory: String
    public let hosts: [Host]
    public var inventory: String { directory + "/inventory.ini" }
    public var knownHosts: String { directory + "/known_hosts" }
    public var clientKey: String { directory + "/client/id_ed25519" }

    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("cannot find the repository root from \(#filePath)")
    }()

    /// `maxSessions`: sshd's MaxSessions (testfleet's 1000 unless given; OpenSSH's default is 10);
    /// `maxStartups`: sshd's MaxStartups (testfleet's 200:30:400; OpenSSH's is 10:30:100).
    /// `rootfs`: separate Debian hosts (`testfleet --rootfs`, root only), each with its own
    /// root filesystem whose changes land in `upper(of:)`.
    public static func start(hosts count: Int, maxSessions: Int? = nil, maxStartups: String? = nil, rootfs: Bool = false) throws -> TestFleet {
        let directory = NSTemporaryDirectory() + "cohort-fleet-" + UUID().uuidString.prefix(8)
        let limit = (maxSessions.map { ["--max-sessions", String($0)] } ?? []) + (maxStartups.map { ["--max-startups", $0] } ?? [])
            + (rootfs ? ["--rootfs"] : [])
        let result = try Shell.run(repositoryRoot + "/scripts/testfleet", ["up", String(count), "--dir", directory] + limit)
        guard result.status == 0 else { throw FleetError("testfleet up failed: \(result.stderr)") }
        let table = try String(contentsOfFile: directory + "/hosts.tsv", encoding: .utf8)
        let hosts = table.split(separator: "\n").map { line -> Host in
            let f = line.split(separator: "\t").map(String.init)
            return Host(name: f[0], address: f[1], port: Int(f[2])!, sshdPID: Int32(f[3])!)
        }
        return TestFleet(directory: directory, hosts: hosts)
    }

    private init(directory: String, hosts: [Host]) {
        self.directory = directory
        self.hosts = hosts
    }

    public func stop() {
        _ = try? Shell.run(Self.repositoryRoot + "/scripts/testfleet", ["down", "--dir", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A `--rootfs` host's upper layer: every path its runs created or changed.
    public func upper(of host: Host) -> String { "\(directory)/\(host.name)/upper" }

    /// The shared lower layer of `--rootfs` hosts (what `upper` paths are compared with).
    public static var rootfsBase: String {
        let result = try? Shell.run("/bin/bash", ["-c", ". \"$1\" && rootfs_base", "rootfs", repositoryRoot + "/scripts/lib/rootfs.sh"])
        return (result?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func log(of host: Host) -> String {
        (try? String(contentsOfFile: "\(directory)/\(host.name)/sshd.log", encoding: .utf8)) ?? ""
    }

    /// The per-connection sshd processes of `host` (children of its listener), and theirs.
    public func sessionProcesses(of host: Host) -> [Int32] {
        Processes.descendants(of: host.sshdPID)
    }
}

public struct FleetError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum Processes {
    public static func descendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(pid) }
        }
        var out: [Int32] = []
        var queue = children[root] ?? []
        while let next = queue.popLast() {
            out.append(next)
            queue += children[next] ?? []
        }
        return out
    }

    /// Resident set size of this process in bytes.
    public static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb * 1024
    }
}

public enum Shell {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: [UInt8]
    }

    /// Runs a program to its end and collects its output.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws -> Result {
        let child = try ChildProcess(program, arguments, environment: environment)
        if let stdin { child.write(Array(stdin.utf8)) }
        child.closeStdin()
        // stderr is drained on a thread of its own so that neither pipe can fill and block the child.
        let errBox = DataBox()
        let drained = DispatchSemaphore(value: 0)
        Thread {
            errBox.set(Data(ChildProcess.readAll(child.stderrFD)))
            drained.signal()
        }.start()
        let out = ChildProcess.readAll(child.stdoutFD)
        let status = child.wait()
        drained.wait()
        let errData = errBox.get()
        return Result(
            status: status, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: out)
    }
}

final class DataBox: @unchecked Sendable {
    // @unchecked: `data` is guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
