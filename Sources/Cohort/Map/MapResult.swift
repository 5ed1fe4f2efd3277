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
    /// It ran and failed in a way of its kind's own (a Swift job that threw), not by an exit
    /// status: the words say how; `MapResult.payload` carries the kind's own description.
    case failed(String)
    /// Its fate is unknown: it kept killing its worker (quarantined) or no host was left.
    case lost(String)
    /// Never started: the run halted first (`--halt`).
    case halted

    public var isSuccess: Bool { self == .exited(0) }

    /// How the journal records a task that ran to an end; nil for one whose fate is unknown
    /// (lost, halted), which a resumed run must run again.
    public var journalWord: String? {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let number): "signal \(number)"
        case .timedOut: "timeout"
        case .failedToStart: "failed-to-start"
        case .failed: "failed"
        case .lost, .halted: nil
        }
    }
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
    /// What the worker said with the result, in words: why a task could not start or failed.
    public var message: String = ""
    /// The kind's result bytes: a Swift job's encoded outputs or failure; empty for shell tasks.
    public var payload: [UInt8] = []

    /// The result of a task a halt ended before it was ever sent: all there is to know of it is
    /// its number, so a printer may keep that alone until the task's turn.
    public static func haltedBeforeStart(_ index: Int) -> MapResult {
        MapResult(
            index: index, host: nil, slot: nil, status: .halted, stdout: CapturedOutput(), stderr: CapturedOutput(), startedAt: nil,
            duration: .zero, attempts: 1)
    }

    /// Whether this is such a result.
    public var isHaltedBeforeStart: Bool { status == .halted && host == nil && attempts == 1 }
}

public enum MapEvent: Sendable {
    case hostReady(host: String, slots: Int, uploaded: Bool)
    case hostFailed(host: String, error: CohortError)
    case slotLost(host: String, slot: Int, reason: String)
    /// A worker process died while running `task` (0-based input index), its host still up:
    /// the task is re-run (or, past `retries`, quarantined); the host keeps its other slots.
    case workerDied(host: String, slot: Int, task: Int, reason: String)
    /// `--halt` tripped: no new task starts; with `now`, running ones are cancelled.
    case halting(reason: String, now: Bool)
    /// The journal could not be written: a resumed run may repeat tasks.
    case journalFailed(CohortError)
}

public struct MapSummary: Sendable {
    public var succeeded = 0
    public var failed = 0
    public var timedOut = 0
    public var lost = 0
    public var halted = 0
    /// Not run: already finished according to the journal or joblog.
    public var skipped = 0
    /// Set when `--halt` stopped the run; the reason.
    public var haltReason: String?
    public var hostFailures: [(String, CohortError)] = []

    /// 4 never happens here; 3 if a host refused us for security, 2 if tasks were lost or a
    /// host was unreachable, 1 if a task failed or timed out, 0 otherwise.
    public var exitCode: CohortExitCode {
        if hostFailures.contains(where: { $0.1.isSecurityRefusal }) { return .securityRefused }
        if lost > 0 || !hostFailures.isEmpty { return .unreachable }
        if failed > 0 || timedOut > 0 || haltReason != nil { return .commandFailed }
        return .ok
    }
}

/// GNU parallel's `--halt now|soon,fail=N|N%`: stop the run after too many failures, at once
/// (cancelling running tasks) or soon (starting no new task, letting running ones finish).
public struct HaltPolicy: Sendable, Equatable {
    public enum Threshold: Sendable, Equatable {
        case count(Int)
        /// Percent of the tasks ended so far, once at least 3 have ended.
        case percent(Double)
    }

    public var now: Bool
    public var threshold: Threshold

    /// Parses `now,fail=3`, `soon,fail=10%`; the plain GNU forms `never`, `0`, `1`, `2` too.
    public init?(_ text: String) {
        switch text {
        case "1": (now, threshold) = (false, .count(1))
        case "2": (now, threshold) = (true, .count(1))
        default:
            let parts = text.split(separator: ",", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["now", "soon"].contains(parts[0]), parts[1].hasPrefix("fail=") else { return nil }
            now = parts[0] == "now"
            let value = parts[1].dropFirst(5)
            if value.hasSuffix("%") {
                guard let percent = Double(value.dropLast()), percent > 0, percent <= 100 else { return nil }
                threshold = .percent(percent)
            } else {
                guard let count = Int(value), count > 0 else { return nil }
                threshold = .count(count)
            }
        }
    }

    /// Whether `failed` failures out of `ended` ended tasks trip it.
    public func trips(failed: Int, ended: Int) -> Bool {
        switch threshold {
        case .count(let n): return failed >= n
        case .percent(let p): return ended >= 3 && Double(failed) * 100 >= p * Double(ended)
        }
    }
}
