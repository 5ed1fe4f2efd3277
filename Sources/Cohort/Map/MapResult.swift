import CohortCore
import Foundation

/// How one task of a map ended.
public enum MapStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    /// Stopped after `--timeout` (TERM to its process group, then KILL).
    case timedOut
    /// The worker could not start it.
    case failedToStart(String)
    /// Its fate is unknown: it kept killing its worker (quarantined) or no host was left.
    case lost(String)

    public var isSuccess: Bool { self == .exited(0) }
}

/// One task's result, delivered exactly once, when the task ends.
public struct MapResult: Sendable {
    /// The task's position in the input (0-based).
    public var index: Int
    public var host: String?
    /// 1-based slot number, as GNU parallel's `{%}`.
    public var slot: Int?
    public var status: MapStatus
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    public var startedAt: Date?
    public var duration: Duration
    /// How many times it was sent to a worker.
    public var attempts: Int
}

public enum MapEvent: Sendable {
    case hostReady(host: String, slots: Int, uploaded: Bool)
    case hostFailed(host: String, error: CohortError)
    case slotLost(host: String, slot: Int, reason: String)
}

public struct MapSummary: Sendable {
    public var succeeded = 0
    public var failed = 0
    public var timedOut = 0
    public var lost = 0
    public var hostFailures: [(String, CohortError)] = []

    /// 4 never happens here; 3 if a host refused us for security, 2 if tasks were lost or a
    /// host was unreachable, 1 if a task failed or timed out, 0 otherwise.
    public var exitCode: CohortExitCode {
        if hostFailures.contains(where: { $0.1.isSecurityRefusal }) { return .securityRefused }
        if lost > 0 || !hostFailures.isEmpty { return .unreachable }
        if failed > 0 || timedOut > 0 { return .commandFailed }
        return .ok
    }
}
