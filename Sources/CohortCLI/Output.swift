import Cohort
import CohortCore
import CohortInventory
import Foundation
import Synchronization

/// A file descriptor Cohort writes results to (stdout, stderr, a joblog). A failed write is
/// never silent and never a crash: the first error is kept, later writes are dropped, and
/// `onFailure` is told once, so that a map can stop cleanly and the command exit non-zero.
final class OutputSink: Sendable {
    let fd: Int32
    let name: String
    private let state = Mutex<(failure: String?, onFailure: (@Sendable (String) -> Void)?)>((nil, nil))

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    /// The first write error, as "cannot write NAME: REASON".
    var failure: String? { state.withLock { $0.failure } }

    func onFailure(_ body: @escaping @Sendable (String) -> Void) { state.withLock { $0.onFailure = body } }

    func write(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                fail(String(cString: strerror(errno)))
                return
            }
            written += n
        }
    }

    private func fail(_ reason: String) {
        let message = "cannot write \(name): \(reason)"
        let callback = state.withLock { state -> (@Sendable (String) -> Void)? in
            guard state.failure == nil else { return nil }
            state.failure = message
            return state.onFailure
        }
        callback?(message)
    }
}

/// Writes raw bytes: output is passed on exactly as the host produced it.
enum Out {
    static let stdout = OutputSink(fd: 1, name: "standard output")
    static let stderr = OutputSink(fd: 2, name: "standard error")

    static func write(_ bytes: [UInt8], toStderr: Bool = false) {
        (toStderr ? stderr : stdout).write(bytes)
    }

    /// One JSON object on a line of its own, on stdout (`--json`).
    static func jsonLine(_ fields: [(String, InventoryValue)]) {
        write(Array((JSONText.render(.dict(fields), pretty: false) + "\n").utf8))
    }

    /// Throws when a result could not be written (exit 1, after the summary).
    static func check(_ sinks: [OutputSink] = []) throws {
        for sink in [stdout] + sinks {
            if let failure = sink.failure { throw CohortError(.io, failure) }
        }
    }
}
