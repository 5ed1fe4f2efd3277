import CohortWire
import Dispatch
import Foundation
import Synchronization

/// The temporary files a fetch is writing right now. On SIGINT, SIGTERM or SIGHUP the
/// command removes them before it exits (a landing is otherwise removed only when its
/// transfer fails), so an interrupted fetch leaves no hidden `.NAME.cohort-PID-N` behind.
public enum PartialFiles {
    private static let paths = Mutex<Set<String>>([])
    // nonisolated(unsafe): written once, by `removeOnSignals` on the main task before any
    // transfer starts; kept only so that the sources stay alive.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func add(_ path: String) { _ = paths.withLock { $0.insert(path) } }

    static func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }

    /// Removes every partial file now; how many there were.
    @discardableResult
    static func removeAll() -> Int {
        let all = paths.withLock { current in
            defer { current.removeAll() }
            return current
        }
        for path in all { OSName.withPath(path) { _ = unlink($0) } }
        return all.count
    }

    /// On SIGINT, SIGTERM or SIGHUP: the partial files removed, `what` said to have been
    /// interrupted on stderr, and exit with 128 + the signal, as a shell reports it.
    public static func removeOnSignals(what: String) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let removed = removeAll()
                let message = "cohort: \(what) interrupted by \(name); \(removed) partial file\(removed == 1 ? "" : "s") removed\n"
                FileHandle.standardError.write(Data(message.utf8))
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
