import CohortCore
import Cohort
import Foundation

/// `--bar`: one line on stderr, redrawn at most ten times a second: done/total, running,
/// failed, tasks/s, hosts alive and an ETA from the rate so far. Not thread-safe: its owner locks.
final class ProgressBar {
    private let total: Int
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var done = 0
    private var failed = 0
    private var workers = 0
    private var hosts = 0
    private var shown = false

    init(total: Int) { self.total = total }

    func ended(_ status: MapStatus) {
        done += 1
        if !status.isSuccess { failed += 1 }
    }

    func slotsChanged(by delta: Int, hosts: Int) {
        workers += delta
        self.hosts = hosts
    }

    func draw(force: Bool) {
        let now = ContinuousClock.now
        guard force || now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        let elapsed = (now - start).seconds
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? "\(Int((Double(total - done) / rate).rounded(.up)))s" : "?"
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let gauge = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let running = min(workers, total - done)
        let line = "\r[\(gauge)] \(done)/\(total) done, \(running) running, \(failed) failed, "
            + String(format: "%.1f", rate) + " tasks/s, \(hosts) hosts alive, ETA \(eta)\u{1b}[K"
        Out.write(Array(line.utf8), toStderr: true)
        shown = true
    }

    func clear() {
        guard shown else { return }
        Out.write(Array("\r\u{1b}[K".utf8), toStderr: true)
        shown = false
    }
}
