/// Everything that crosses a worker channel, coordinator ⇄ worker.
///
/// Task payloads are opaque bytes tagged with a `kind` ("shell", a Swift job's name, later
/// playbook modules): new kinds plug in at both ends without touching this codec or the
/// scheduler.
public enum WireMessage: Sendable, Equatable {
    /// Worker → coordinator, first frame: who and what the worker is.
    case hello(WorkerFacts)
    /// Coordinator → worker: the handshake succeeded.
    case welcome(version: UInt16)
    case task(TaskFrame)
    /// Worker → coordinator: output as the task produces it (stream 1 stdout, 2 stderr).
    case output(taskID: UInt64, stream: UInt8, bytes: [UInt8])
    case result(ResultFrame)
    /// Either way, so that a hung peer is noticed even when no task is running.
    case heartbeat(sequence: UInt64)
    /// Coordinator → worker: stop a task (TERM to its process group, `graceMillis`, then KILL).
    case cancel(taskID: UInt64, graceMillis: UInt32)
    /// Coordinator → worker: exit once running tasks are stopped. `reason` is shown to users
    /// when the coordinator refuses a worker.
    case shutdown(reason: String)
    /// Either way: the next piece of a task's data stream (a file's bytes); empty bytes end
    /// the stream. Sent only within the credit the receiver granted.
    case data(taskID: UInt64, bytes: [UInt8])
    /// Either way: the receiver of a task's data stream lets the sender send `bytes` more. Flow
    /// control: neither side ever holds more than the window it granted.
    case credit(taskID: UInt64, bytes: UInt32)
}

public struct WorkerFacts: Sendable, Equatable {
    public var protocolVersion: UInt16
    public var cores: UInt32
    /// `uname -s` and `-m`, e.g. "Linux", "x86_64".
    public var os: String
    public var arch: String
    public var hostname: String
    public var pid: Int32

    public init(protocolVersion: UInt16, cores: UInt32, os: String, arch: String, hostname: String, pid: Int32) {
        self.protocolVersion = protocolVersion
        self.cores = cores
        self.os = os
        self.arch = arch
        self.hostname = hostname
        self.pid = pid
    }
}

public struct TaskFrame: Sendable, Equatable {
    public var id: UInt64
    public var attempt: UInt32
    public var kind: String
    public var payload: [UInt8]

    public init(id: UInt64, attempt: UInt32, kind: String, payload: [UInt8]) {
        self.id = id
        self.attempt = attempt
        self.kind = kind
        self.payload = payload
    }
}

public struct ResultFrame: Sendable, Equatable {
    public enum Outcome: UInt8, Sendable {
        /// `code` is the exit status.
        case exited = 0
        /// `code` is the signal number.
        case signaled = 1
        /// The task could not start; `message` says why.
        case failedToStart = 2
        /// The task ran and failed (a kind's own failure, not an exit status): `message` says
        /// why in words, `payload` carries the kind's description of it.
        case failed = 3
    }

    public var taskID: UInt64
    public var attempt: UInt32
    public var outcome: Outcome
    public var code: Int32
    public var message: String
    /// A kind's result bytes (a Swift job's encoded outputs or failure); empty for shell tasks,
    /// whose output streams in `output` frames. `message` is only ever words for people.
    public var payload: [UInt8]
    public var durationNanos: UInt64

    public init(
        taskID: UInt64, attempt: UInt32, outcome: Outcome, code: Int32, message: String = "", payload: [UInt8] = [],
        durationNanos: UInt64
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.outcome = outcome
        self.code = code
        self.message = message
        self.payload = payload
        self.durationNanos = durationNanos
    }
}
