import CohortCore
import CohortSSH
import Foundation

/// A worker's byte pipe: an SSH channel (`InteractiveProcess`) or a local process.
protocol WorkerLink: Sendable {
    func send(_ bytes: [UInt8])
    func closeInput()
}

extension InteractiveProcess: WorkerLink {}

/// A `cohort-worker` on this machine, for `ansible_connection=local` hosts: the same frames
/// over the child's stdin and stdout instead of an SSH channel.
final class LocalWorker: WorkerLink, @unchecked Sendable {
    // @unchecked: `stdinFD` is used only on `writer`, a serial queue; the rest is immutable.
    private let pid: pid_t
    private var stdinFD: Int32
    private let writer = DispatchQueue(label: "cohort-local-worker-stdin")
    let events: AsyncThrowingStream<ProcessEvent, any Error>

    private static let spawnLock = NSLock()

    init(executable: String, arguments: [String] = []) throws {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        // Pipes are made close-on-exec under one lock, so that a worker spawned at the same
        // time never inherits (and holds open) another worker's ends.
        Self.spawnLock.lock()
        // stdin is a socket pair rather than a pipe: `send` with MSG_NOSIGNAL then reports a
        // dead worker as an error instead of raising SIGPIPE in the coordinator.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            Self.spawnLock.unlock()
            throw CohortError(.io, "cannot make pipes for a local worker: \(String(cString: strerror(errno)))")
        }
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        argv.forEach { free($0) }
        Self.spawnLock.unlock()
        [input[0], output[1], errors[1]].forEach { close($0) }
        guard rc == 0 else {
            [input[1], output[0], errors[0]].forEach { close($0) }
            throw CohortError(.io, "cannot start the local worker \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
        stdinFD = input[1]
        let (stream, continuation) = AsyncThrowingStream<ProcessEvent, any Error>.makeStream()
        events = stream
        let (out, err, spawned) = (output[0], errors[0], child)
        // Blocking reads on threads of their own, never on the cooperative pool.
        let stderrDone = DispatchSemaphore(value: 0)
        Thread {
            Self.pump(err) { continuation.yield(.stderr($0)) }
            stderrDone.signal()
        }.start()
        Thread {
            Self.pump(out) { continuation.yield(.stdout($0)) }
            stderrDone.wait()
            var raw: Int32 = 0
            while waitpid(spawned, &raw, 0) < 0, errno == EINTR {}
            let status: ExitStatus = raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signaled(name: String(raw & 0x7f))
            continuation.yield(.exit(status))
            continuation.finish()
        }.start()
    }

    private static func pump(_ fd: Int32, _ body: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            body(Array(buffer[0..<n]))
        }
        close(fd)
    }

    func send(_ bytes: [UInt8]) {
        writer.async { [self] in
            var offset = 0
            while offset < bytes.count, stdinFD >= 0 {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(stdinFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }  // the worker is gone; its reader reports that
                offset += n
            }
        }
    }

    func closeInput() {
        writer.async { [self] in
            if stdinFD >= 0 { close(stdinFD) }
            stdinFD = -1
        }
    }
}
