import CohortCore
import Crypto
import Foundation

/// The `cohort-worker` executable the coordinator ships to hosts, with its SHA-256 (which
/// names its cache folder on the hosts) and the platform it was built for.
public struct WorkerBinary: Sendable {
    public let path: String
    public let bytes: [UInt8]
    public let sha256: String
    /// `uname -s` and `uname -m` of this machine: the worker runs only on the same.
    public let os: String
    public let arch: String
    /// Arguments that put it in worker mode (none for `cohort-worker`; `--cohort-worker` for a
    /// program built on the library, which is its own worker).
    public var arguments: [String] = []

    /// `$COHORT_WORKER`, else `cohort-worker` beside the running executable.
    public static func locate() throws -> WorkerBinary {
        if let configured = ProcessInfo.processInfo.environment["COHORT_WORKER"] { return try load(configured) }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let sibling = ((executable as NSString).deletingLastPathComponent as NSString).appendingPathComponent("cohort-worker")
        return try load(sibling)
    }

    /// The running program itself, started on the hosts with `arguments`.
    public static func current(arguments: [String]) throws -> WorkerBinary {
        var binary = try load((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe")
        binary.arguments = arguments
        return binary
    }

    public static func load(_ path: String) throws -> WorkerBinary {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CohortError(.io, "worker executable not found at \(path) (build it with `swift build --product cohort-worker`, or set COHORT_WORKER)")
        }
        let digest = SHA256.hash(data: data).hex
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return WorkerBinary(path: path, bytes: Array(data), sha256: digest, os: field(names.sysname), arch: field(names.machine))
    }
}
