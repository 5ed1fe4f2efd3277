import CohortWire
import Dispatch
import Foundation
import Synchronization

/// The temporary files a fetch is writing right now. On SIGINT, SIGTERM or SIGHUP the
/// command removes them before it exits (a landing is otherwise removed only when its
/// transfer fails), so an interrupted fetch leaves no hidden `.NAME.cohort-PID-N` behind.
public enum PartialFiles {
    /// The landings open now, and whether a signal has already removed them (after which no
    /// new one may be made: the command is exiting).
    private struct State {
        var paths: Set<String> = []
        var closed = false
    }
    private static let state = Mutex(State())
    // nonisolated(unsafe): written once, by `removeOnSignals` on the main task before any
    // transfer starts; kept only so that the sources stay alive.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Runs `create` (which makes the file at `path` and answers its descriptor, or -1) under
    /// the same lock as `removeAll`, so a signal never falls between a landing's creation and
    /// its registration: it is either not made yet, or known and removed. The descriptor, or
    /// -1 and the errno (read inside the lock, which may itself change errno).
    static func create(_ path: String, _ create: () -> Int32) -> (fd: Int32, error: Int32) {
        state.withLock { current in
            guard !current.closed else { return (-1, EINTR) }
            let fd = create()
            guard fd >= 0 else { return (-1, errno) }
            current.paths.insert(path)
            return (fd, 0)
        }
    }

    /// Runs `finish` (which renames or removes the landing at `path`) under the lock, then
    /// forgets the landing: a signal sees it either before or after, never half-way.
    @discardableResult
    static func finish<T>(_ path: String, _ finish: () -> T) -> T {
        state.withLock { current in
            defer { current.paths.remove(path) }
            return finish()
        }
    }

    /// Removes every partial file now and refuses new ones; how many there were.
    @discardableResult
    static func removeAll() -> Int {
        state.withLock { current in
            current.closed = true
            for path in current.paths { OSName.withPath(path) { _ = unlink($0) } }
            defer { current.paths.removeAll() }
            return current.paths.count
        }
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
