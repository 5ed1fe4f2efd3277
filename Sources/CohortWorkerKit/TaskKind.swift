import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// One kind of task a worker can run. Kinds are looked up by the task frame's `kind`; new ones
/// (Swift jobs, playbook modules) register here without changes to the wire or the scheduler.
public protocol TaskKind {
    func start(_ task: TaskFrame) -> TaskStart
}

public enum TaskStart {
    /// A child process whose output the worker streams and whose exit it reports.
    case started(RunningTask)
    /// Finished at once (a failure to start).
    case finished(ResultFrame)
    /// Running on a thread of the worker itself (a Swift job).
    case inProcess(InProcessTask)
    /// Exchanging a data stream with the coordinator (a file put or get), on the worker's loop.
    case streaming(any StreamingTask)
}

/// A task that exchanges a data stream with the coordinator while it runs. The runtime hands
/// it the frames addressed to it and sends the frames it returns; the task is done once one of
/// them is its result. Everything it does is quick local IO, so it runs on the worker's loop.
public protocol StreamingTask: AnyObject {
    /// Frames to send as it starts: a credit asking for data, data, or at once its result.
    func start() -> [WireMessage]
    /// The next piece of the stream the coordinator sends (empty: the end).
    func received(_ bytes: [UInt8]) -> [WireMessage]
    /// The coordinator lets it send `bytes` more.
    func granted(_ bytes: UInt32) -> [WireMessage]
    /// Cancelled, or the channel closed: undo what is half done and answer.
    func cancel() -> [WireMessage]
}

/// A task that runs inside the worker process, off the worker's loop so that the loop goes on
/// answering heartbeats and cancels. `doneFD` becomes readable once `result()` is ready.
///
/// Nothing can stop it from outside: a worker cancels one by restarting itself (`restart` in
/// `WorkerRuntime`), which ends every thread it had.
public struct InProcessTask {
    public var doneFD: Int32
    public var attempt: UInt32
    public var result: () -> ResultFrame

    public init(doneFD: Int32, attempt: UInt32, result: @escaping () -> ResultFrame) {
        self.doneFD = doneFD
        self.attempt = attempt
        self.result = result
    }
}

/// A child process in its own process group, with its stdout and stderr pipes.
public struct RunningTask {
    public var pid: pid_t
    public var attempt: UInt32
    /// stdout, stderr read ends; -1 once closed.
    public var pipes: [Int32]
    public var started: UInt64
    var killDeadline: UInt64?
    var awaitingExit = false

    /// TERM to the whole process group now, KILL after the grace period.
    mutating func terminate(graceMillis: UInt32) {
        kill(-pid, SIGTERM)
        let deadline = Clock.now() + UInt64(graceMillis) * 1_000_000
        killDeadline = min(killDeadline ?? deadline, deadline)
    }
}

/// `shell`: the payload is a command line for `/bin/sh -c`, whose stdin is /dev/null.
/// `shell.stdin`: the payload is the command line's length (4 bytes, big-endian), the line,
/// then the bytes its stdin reads. They go to the process through an anonymous memory file,
/// never its command line, which every local user can read in /proc/PID/cmdline.
public struct ShellKind: TaskKind {
    let withStdin: Bool

    public init(withStdin: Bool = false) {
        self.withStdin = withStdin
    }

    /// The payload of a `shell.stdin` task.
    public static func payload(command: String, stdin: [UInt8]) -> [UInt8] {
        let line = Array(command.utf8)
        let count = UInt32(line.count)
        return [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)] + line + stdin
    }

    public func start(_ task: TaskFrame) -> TaskStart {
        var command = String(decoding: task.payload, as: UTF8.self)
        var input: Int32 = -1
        if withStdin {
            let bytes = task.payload
            guard bytes.count >= 4 else { return failed(task, "shell.stdin: a payload of \(bytes.count) bytes") }
            let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            guard length <= bytes.count - 4 else { return failed(task, "shell.stdin: a command of \(length) bytes in a payload of \(bytes.count)") }
            command = String(decoding: bytes[4..<(4 + length)], as: UTF8.self)
            input = Self.anonymousFile()
            guard input >= 0 else { return failed(task, "memfd_create: \(String(cString: strerror(errno)))") }
            let data = bytes[(4 + length)...]
            let written = data.withUnsafeBytes { raw in Self.writeAll(input, raw) }
            guard written, lseek(input, 0, SEEK_SET) == 0 else {
                close(input)
                return failed(task, "cannot hold the command's stdin: \(String(cString: strerror(errno)))")
            }
        }
        defer { if input >= 0 { close(input) } }
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        // Close-on-exec on every end (the worker is single-threaded, so no spawn can come
        // between pipe and fcntl): a task never inherits another task's pipes. dup2 in the
        // child clears the flag on its own stdout and stderr.
        guard pipe(&out) == 0, pipe(&err) == 0 else { return failed(task, "pipe: \(errno)") }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input >= 0 {
            posix_spawn_file_actions_adddup2(&actions, input, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so that a timeout can stop everything the task started;
        // default signal handling, since the worker ignores SIGPIPE.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        close(out[1])
        close(err[1])
        guard rc == 0 else {
            close(out[0])
            close(err[0])
            return failed(task, "cannot start /bin/sh: \(String(cString: strerror(rc)))")
        }
        for fd in [out[0], err[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return .started(RunningTask(pid: pid, attempt: task.attempt, pipes: [out[0], err[0]], started: Clock.now()))
    }

    /// `memfd_create` (looked up at run time: Glibc's module does not import it), else an
    /// unnamed file in /tmp; close-on-exec either way, readable by nobody else.
    static func anonymousFile() -> Int32 {
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        if let symbol = dlsym(nil, "memfd_create") {
            let fd = unsafeBitCast(symbol, to: MemfdCreate.self)("cohort-stdin", 1)  // MFD_CLOEXEC
            if fd >= 0 { return fd }
        }
        return open("/tmp", HostFiles.openTemporary | O_RDWR | O_CLOEXEC, 0o600)
    }

    private static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    private func failed(_ task: TaskFrame, _ message: String) -> TaskStart {
        .finished(ResultFrame(taskID: task.id, attempt: task.attempt, outcome: .failedToStart, code: 0, message: message, durationNanos: 0))
    }
}
