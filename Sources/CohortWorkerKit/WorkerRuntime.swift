import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// The worker process: speaks the wire protocol on stdin/stdout (its SSH channel) and runs
/// tasks. Linked with the Swift standard library only (no Foundation), so a static build needs
/// nothing on the host but glibc and /bin/sh.
///
/// One thread, one poll loop over stdin and the running tasks' pipes. The worker exits when
/// stdin closes: when the coordinator or its connection dies, the worker stops its tasks
/// (TERM to their process groups, then KILL) and leaves within a grace period.
public final class WorkerRuntime {
    private var decoder = FrameDecoder()
    private var running: [UInt64: RunningTask] = [:]
    /// Tasks running on threads of this process (Swift jobs), with their start times.
    private var inProcess: [UInt64: (task: InProcessTask, started: UInt64)] = [:]
    /// Tasks streaming data with the coordinator (file puts and gets).
    private var streaming: [UInt64: any StreamingTask] = [:]
    /// Tasks sent ahead by the coordinator; a worker is one slot and runs one task at a time.
    private var queued: [TaskFrame] = []
    private var heartbeat: UInt64 = 0
    private var lastSent = Clock.now()
    /// Set by a shutdown frame: exit once running tasks have stopped.
    private var shuttingDown = false
    private let kinds: [String: any TaskKind]
    private let restart: (([UInt8]) -> Void)?
    private let resumed: [UInt8]?
    /// Where frames come from and go to: stdin and stdout (its SSH channel) in a deployed
    /// worker; one end of a socketpair when a test runs a worker in-process.
    private let input: Int32
    private let output: Int32

    /// - restart: replaces this process with a fresh worker on the same channel that reads
    ///   `pending` (the frames this one received and has not run) before stdin. Called to stop
    ///   an in-process task, which nothing else can stop; see `WorkerRestart`.
    /// - resumed: given to that successor: the handshake is done, and these bytes come first.
    /// - input, output: the channel's file descriptors (0 and 1 for a deployed worker).
    public init(
        kinds: [String: any TaskKind] = WorkerRuntime.standardKinds, restart: (([UInt8]) -> Void)? = nil, resumed: [UInt8]? = nil,
        input: Int32 = 0, output: Int32 = 1
    ) {
        self.kinds = kinds
        self.restart = restart
        self.resumed = resumed
        self.input = input
        self.output = output
    }

    /// The task kinds every worker serves, `cohort-worker` and a library program alike.
    public static var standardKinds: [String: any TaskKind] {
        [
            "shell": ShellKind(), "shell.stdin": ShellKind(withStdin: true), "file.put": PutFileKind(), "file.check": PutFileKind(checkOnly: true), "file.get": GetFileKind(),
            "file.list": ListFilesKind(), "fs": FsKind(),
        ]
    }

    /// The worker a process started with `arguments` runs: the standard kinds plus `extra`,
    /// restarting itself in place to stop an in-process task (`WorkerRestart`), and resuming
    /// where its predecessor stopped when it is such a successor.
    public static func deployed(arguments: [String], extra: [String: any TaskKind] = [:]) -> WorkerRuntime {
        WorkerRuntime(
            kinds: standardKinds.merging(extra) { _, added in added },
            restart: { WorkerRestart.exec(arguments: arguments, pending: $0) },
            resumed: WorkerRestart.pending(from: arguments))
    }

    /// Runs until the coordinator says shutdown or stdin closes; returns the exit status.
    public func run() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        WorkerPulse.hook = { [unowned self] in self.pulse() }
        defer { WorkerPulse.hook = nil }
        if let resumed {
            decoder.feed(resumed)
        } else {
            send(.hello(Self.facts()))
            guard waitForWelcome() else { return 3 }
        }
        // The read that brought the welcome may have brought the first tasks too.
        guard handleFrames() else { return 65 }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var stdinOpen = true
        while (stdinOpen && !shuttingDown) || !running.isEmpty {
            var fds = [pollfd(fd: input, events: stdinOpen && !shuttingDown ? Int16(POLLIN) : 0, revents: 0)]
            var sources: [Source] = []
            for (id, task) in running {
                for (index, fd) in task.pipes.enumerated() where fd >= 0 {
                    fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    sources.append(.pipe(id, index))
                }
            }
            for (id, job) in inProcess {
                fds.append(pollfd(fd: job.task.doneFD, events: Int16(POLLIN), revents: 0))
                sources.append(.done(id))
            }
            let wait: Int32 = running.values.contains { $0.awaitingExit || $0.killDeadline != nil } ? 10 : 1000
            if poll(&fds, nfds_t(fds.count), wait) < 0, errno != EINTR { return 70 }

            if stdinOpen, fds[0].revents != 0 {
                let n = read(input, &buffer, buffer.count)
                if n <= 0 {
                    stdinOpen = false
                    stopAll(graceMillis: 2000)
                } else {
                    decoder.feed(buffer[0..<n])
                    if !handleFrames() { return 65 }
                }
            }
            for (slot, source) in sources.enumerated() where fds[slot + 1].revents != 0 {
                guard case .pipe(let id, let index) = source else {
                    if case .done(let id) = source { finishInProcess(id) }
                    continue
                }
                guard let task = running[id] else { continue }
                let fd = task.pipes[index]
                let n = read(fd, &buffer, min(buffer.count, Wire.maxOutputChunk))
                if n > 0 {
                    send(.output(taskID: id, stream: UInt8(index + 1), bytes: Array(buffer[0..<n])))
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(fd)
                    running[id]?.pipes[index] = -1
                }
            }
            reapAndEscalate()
            let now = Clock.now()
            if now - lastSent > 5_000_000_000 {
                heartbeat += 1
                send(.heartbeat(sequence: heartbeat))
            }
        }
        return 0
    }

    private func waitForWelcome() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            do {
                if let message = try decoder.next() {
                    switch message {
                    case .welcome: return true
                    case .shutdown(let reason):
                        Self.report("cohort-worker: refused by the coordinator: \(reason)")
                        return false
                    default:
                        Self.report("cohort-worker: expected welcome, got \(message)")
                        return false
                    }
                }
            } catch {
                Self.report("cohort-worker: \(error)")
                return false
            }
            let n = read(input, &buffer, buffer.count)
            if n <= 0 { return false }
            decoder.feed(buffer[0..<n])
        }
    }

    /// Handles every complete frame; false on a corrupt stream (the worker then exits).
    private func handleFrames() -> Bool {
        while true {
            let message: WireMessage?
            do { message = try decoder.next() } catch {
                Self.report("cohort-worker: \(error)")
                stopAll(graceMillis: 0)
                return false
            }
            guard let message else { return true }
            switch message {
            case .task(let task):
                queued.append(task)
                startNext()
            case .cancel(let id, let grace):
                if let index = queued.firstIndex(where: { $0.id == id }) {
                    let task = queued.remove(at: index)
                    send(.result(ResultFrame(
                        taskID: id, attempt: task.attempt, outcome: .failedToStart, code: 0,
                        message: "cancelled before it started", durationNanos: 0)))
                }
                running[id]?.terminate(graceMillis: grace)
                if inProcess[id] != nil { abandon(id) }
                if let task = streaming[id] { sendStreaming(id, task.cancel()) }
            case .data(let id, let bytes):
                if let task = streaming[id] { sendStreaming(id, task.received(bytes)) }
            case .credit(let id, let bytes):
                if let task = streaming[id] { sendStreaming(id, task.granted(bytes)) }
            case .heartbeat(let sequence):
                send(.heartbeat(sequence: sequence))
            case .shutdown:
                shuttingDown = true
                stopAll(graceMillis: 2000)
                return true
            case .hello, .welcome, .output, .result:
                Self.report("cohort-worker: unexpected \(message)")
            }
        }
    }

    private enum Source {
        case pipe(UInt64, Int)
        case done(UInt64)
    }

    private func startNext() {
        while running.isEmpty, inProcess.isEmpty, streaming.isEmpty, !queued.isEmpty, !shuttingDown {
            start(queued.removeFirst())
        }
    }

    private func start(_ frame: TaskFrame) {
        guard let kind = kinds[frame.kind] else {
            send(.result(ResultFrame(
                taskID: frame.id, attempt: frame.attempt, outcome: .failedToStart, code: 0,
                message: "this worker has no task kind '\(frame.kind)'", durationNanos: 0)))
            return
        }
        switch kind.start(frame) {
        case .started(let task):
            running[frame.id] = task
        case .finished(let result):
            send(.result(result))
        case .inProcess(let task):
            inProcess[frame.id] = (task, Clock.now())
        case .streaming(let task):
            streaming[frame.id] = task
            sendStreaming(frame.id, task.start())
        }
    }

    /// Sends a streaming task's frames; its result ends it, and the next task may start.
    private func sendStreaming(_ id: UInt64, _ frames: [WireMessage]) {
        for frame in frames {
            send(frame)
            if case .result = frame {
                streaming[id] = nil
                startNext()
            }
        }
    }

    private func finishInProcess(_ id: UInt64) {
        guard let job = inProcess.removeValue(forKey: id) else { return }
        close(job.task.doneFD)
        send(.result(job.task.result()))
        startNext()
    }

    /// Cancels an in-process task, which cannot be interrupted: its result says it was
    /// stopped, then the worker restarts in place (same pid, same channel), which ends the
    /// task's thread, and the successor runs the frames this worker had not run yet. Without
    /// `restart` the task runs on unobserved and its result is dropped.
    private func abandon(_ id: UInt64) {
        guard let job = inProcess.removeValue(forKey: id) else { return }
        close(job.task.doneFD)
        send(.result(ResultFrame(
            taskID: id, attempt: job.task.attempt, outcome: .signaled, code: SIGKILL,
            message: "stopped: a job inside the worker cannot be interrupted, so the worker restarted",
            durationNanos: Clock.now() - job.started)))
        guard let restart else {
            startNext()
            return
        }
        var pending: [UInt8] = []
        for frame in queued { pending += Wire.encode(.task(frame)) }
        pending += decoder.pending
        restart(pending)
        Self.report("cohort-worker: cannot restart itself (errno \(errno)); leaving")
        exit(70)
    }

    private func reapAndEscalate() {
        let now = Clock.now()
        for (id, task) in running {
            if let deadline = task.killDeadline, now >= deadline {
                kill(-task.pid, SIGKILL)
                running[id]?.killDeadline = nil
            }
            guard task.pipes.allSatisfy({ $0 < 0 }) else { continue }
            var status: Int32 = 0
            let reaped = waitpid(task.pid, &status, WNOHANG)
            if reaped == 0 {
                running[id]?.awaitingExit = true
                continue
            }
            running[id] = nil
            defer { startNext() }
            let signalled = status & 0x7f != 0
            send(.result(ResultFrame(
                taskID: id, attempt: task.attempt, outcome: signalled ? .signaled : .exited,
                code: signalled ? status & 0x7f : (status >> 8) & 0xff, durationNanos: now - task.started)))
        }
    }

    private func stopAll(graceMillis: UInt32) {
        queued.removeAll()
        for id in running.keys { running[id]?.terminate(graceMillis: graceMillis) }
        // A half-written file is removed now: the channel is gone, no more data will come.
        for (id, task) in streaming { sendStreaming(id, task.cancel()) }
    }

    private var lastPulse = Clock.now()

    /// Called between chunks of long work on the loop: a heartbeat when due; and if stdin
    /// has hung up, the coordinator is gone, so the tasks are stopped and the worker exits.
    private func pulse() {
        let now = Clock.now()
        guard now - lastPulse > 100_000_000 else { return }
        lastPulse = now
        if now - lastSent > 5_000_000_000 {
            heartbeat += 1
            send(.heartbeat(sequence: heartbeat))
        }
        // POLLRDHUP (0x2000, not imported): a socket's peer shut down; POLLHUP: a pipe's.
        var fd = pollfd(fd: input, events: Int16(0x2000), revents: 0)
        if poll(&fd, 1, 0) > 0, Int32(fd.revents) & (Int32(POLLHUP) | Int32(POLLERR) | 0x2000) != 0 {
            for (_, task) in running { kill(-task.pid, SIGKILL) }
            exit(0)
        }
    }

    private func send(_ message: WireMessage) {
        var frame = Wire.encode(message)
        // A result the coordinator could not take (it would end the channel) fails its task.
        if frame.count > Wire.maxFrameSize, case .result(let result) = message {
            let why = "the task's result is \(frame.count) bytes, over the \(Wire.maxFrameSize)-byte frame limit"
            frame = Wire.encode(
                .result(ResultFrame(taskID: result.taskID, attempt: result.attempt, outcome: .failed, code: 0, message: why, durationNanos: result.durationNanos)))
        }
        var offset = 0
        while offset < frame.count {
            let n = frame[offset...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                // The coordinator is gone; stdin will close too.
                return
            }
            offset += n
        }
        lastSent = Clock.now()
    }

    static func report(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func facts() -> WorkerFacts {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return WorkerFacts(
            protocolVersion: Wire.protocolVersion, cores: UInt32(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
            os: field(names.sysname), arch: field(names.machine), hostname: field(names.nodename), pid: getpid())
    }
}

enum Clock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
