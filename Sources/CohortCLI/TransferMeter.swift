import CohortCore
import Foundation
import Synchronization

/// The progress line `cohort copy` and `cohort fetch` draw on stderr when it is a terminal:
/// bytes accounted for over all hosts (sent, or found already there), the hosts, the rate and
/// an ETA, redrawn at most ten times a second. A fetch learns its total as listings arrive.
final class TransferMeter: Sendable {
    private struct State {
        var done: UInt64 = 0
        var total: UInt64
        var lastDraw: ContinuousClock.Instant
        var shown = false
    }

    private let hosts: Int
    /// "to" for a copy, "from" for a fetch.
    private let direction: String
    private let start = ContinuousClock.now
    private let state: Mutex<State>

    init(total: UInt64, hosts: Int, direction: String = "to") {
        self.hosts = hosts
        self.direction = direction
        state = Mutex(State(total: total, lastDraw: .now - .seconds(1)))
    }

    func advance(_ bytes: UInt64, expected: UInt64 = 0) {
        let line: String? = state.withLock { state in
            state.done += bytes
            state.total += expected
            let now = ContinuousClock.now
            guard now - state.lastDraw >= .milliseconds(100) else { return nil }
            state.lastDraw = now
            state.shown = true
            return Self.line(done: state.done, total: state.total, hosts: hosts, elapsed: (now - start).seconds, direction: direction)
        }
        if let line { Out.write(Array(("\r" + line + "\u{1b}[K").utf8), toStderr: true) }
    }

    func clear() {
        let shown = state.withLock { $0.shown }
        if shown { Out.write(Array("\r\u{1b}[K".utf8), toStderr: true) }
    }

    /// `[######..........] 120.0 MiB/512.0 MiB to 4 hosts, 85.3 MiB/s, ETA 5s` (pure).
    static func line(done: UInt64, total: UInt64, hosts: Int, elapsed: Double, direction: String = "to") -> String {
        let width = 16
        let filled = total > 0 ? min(width, Int(Double(width) * Double(done) / Double(total))) : width
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = total > done ? Double(total - done) : 0
        let eta = rate > 0 ? "\(Int((left / rate).rounded(.up)))s" : "?"
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(FilePrinter.size(done))/\(FilePrinter.size(total)) \(direction) \(hosts) hosts, \(FilePrinter.size(UInt64(rate)))/s, ETA \(eta)"
    }
}
