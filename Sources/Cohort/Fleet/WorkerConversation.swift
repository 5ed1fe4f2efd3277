import CohortCore
import CohortSSH
import CohortWire
import Foundation

/// One worker channel driven in order by one consumer (a copy, a fetch, later a playbook):
/// the handshake, then tasks whose frames (results, data, credit) are routed to whoever
/// started them. The pool scheduler drives slots its own way (`MapEngine`); this is the
/// second kind of consumer of `HostWorkers`.
actor WorkerConversation {
    private let host: String
    private let link: any WorkerLink
    private var handshake: CoordinatorHandshake
    private var ready: CheckedContinuation<Void, any Error>?
    private var isReady = false
    private var inboxes: [UInt64: AsyncStream<WireMessage>.Continuation] = [:]
    private var nextID: UInt64 = 1
    /// Set once the channel has ended: every open task, and every later one, fails with it.
    private var ended: CohortError?
    /// When the worker last sent anything (it sends a heartbeat after 5 s of saying nothing).
    private var lastHeard = ContinuousClock.now
    /// How long a worker with open tasks may say nothing: past it the worker is stuck (in a
    /// read that never returns, say) even though its SSH connection still answers keepalives.
    let silenceBound: Duration

    /// The silence bound is the connection's heartbeat bound, and never under three of the
    /// worker's own heartbeat periods.
    init(host: String, channel: WorkerChannel, binary: WorkerBinary, silenceBound: Duration = .seconds(30)) {
        self.host = host
        link = channel.link
        handshake = CoordinatorHandshake(expectedOS: binary.os, expectedArch: binary.arch)
        self.silenceBound = max(silenceBound, .seconds(15))
        let events = channel.events
        Task { await self.pump(events) }
        Task { await self.watch() }
    }

    /// Ends the conversation when the worker has said nothing for `silenceBound` while a
    /// task waits on it; wakes once a second until the channel ends.
    private func watch() async {
        while ended == nil {
            try? await Task.sleep(for: .seconds(1))
            if !inboxes.isEmpty, ContinuousClock.now - lastHeard > silenceBound {
                link.closeInput()
                end(CohortError(.transportLost, "the worker sent nothing for \(silenceBound), not even its heartbeat: it is stuck", host: host))
            }
        }
    }

    /// Waits for the worker's hello and accepts it (or throws why it was refused).
    func start() async throws {
        if isReady { return }
        if let ended { throw ended }
        try await withCheckedThrowingContinuation { ready = $0 }
    }

    /// Sends a task; its frames arrive on the returned stream, which ends after its result
    /// (or early, when the channel ends: then `failure` says why).
    func open(kind: String, payload: [UInt8]) -> (id: UInt64, frames: AsyncStream<WireMessage>) {
        let id = nextID
        nextID += 1
        let (stream, continuation) = AsyncStream<WireMessage>.makeStream()
        let frame = Wire.encode(.task(TaskFrame(id: id, attempt: 0, kind: kind, payload: payload)))
        if ended != nil {
            continuation.finish()
        } else if frame.count > Wire.maxFrameSize {
            // The worker would drop the whole channel for it: this task fails, the host goes on.
            let why = "a \(kind) request of \(frame.count) bytes is over the \(Wire.maxFrameSize)-byte frame limit"
            continuation.yield(.result(ResultFrame(taskID: id, attempt: 0, outcome: .failed, code: 0, message: why, durationNanos: 0)))
            continuation.finish()
        } else {
            // A task's wait counts from when it was sent, not from the worker's last word.
            if inboxes.isEmpty { lastHeard = .now }
            inboxes[id] = continuation
            link.send(frame)
        }
        return (id, stream)
    }

    func send(_ message: WireMessage) {
        guard ended == nil else { return }
        link.send(Wire.encode(message))
    }

    /// Why the channel ended, for a task whose stream ended without a result.
    var failure: CohortError { ended ?? CohortError(.transportLost, "the worker channel ended", host: host) }

    /// Sends a task and waits for its result; for kinds with no data stream.
    func call(kind: String, payload: [UInt8]) async throws -> ResultFrame {
        let (_, frames) = open(kind: kind, payload: payload)
        for await frame in frames {
            if case .result(let result) = frame { return result }
        }
        throw failure
    }

    func shutdown() {
        send(.shutdown(reason: "done"))
        link.closeInput()
    }

    private func pump(_ events: WorkerChannel.Events) async {
        var decoder = FrameDecoder()
        var errors: [UInt8] = []
        var reason = "the worker channel closed"
        do {
            switch events {
            case .remote(let stream): for try await event in stream { try receive(event, &decoder, &errors, &reason) }
            case .local(let stream): for try await event in stream { try receive(event, &decoder, &errors, &reason) }
            }
        } catch let error as CohortError {
            reason = error.message
        } catch {
            reason = "\(error)"
        }
        end(CohortError(.transportLost, reason, host: host))
    }

    private func receive(_ event: ProcessEvent, _ decoder: inout FrameDecoder, _ errors: inout [UInt8], _ reason: inout String) throws {
        switch event {
        case .stdout(let bytes):
            lastHeard = .now
            decoder.feed(bytes)
            while let message = try decoder.next() { try route(message) }
        case .stderr(let bytes):
            errors = Array((errors + bytes).suffix(2048))
        case .exit(let status):
            let said = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            reason = "worker ended (\(status))" + (said.isEmpty ? "" : ": \(said)")
        }
    }

    /// A result for a task that is not open (never sent, or already answered) is a worker that
    /// cannot be trusted: the channel ends with it.
    private func route(_ message: WireMessage) throws(WireError) {
        if !isReady {
            switch handshake.receive(message) {
            case .accept(_, let reply):
                link.send(Wire.encode(reply))
                isReady = true
                ready?.resume()
                ready = nil
            case .refuse(let reason, let reply):
                link.send(Wire.encode(reply))
                link.closeInput()
                end(CohortError(.invalidInput, reason, host: host))
            }
            return
        }
        switch message {
        case .result(let result):
            guard let inbox = inboxes.removeValue(forKey: result.taskID) else {
                throw .protocolViolation("a result for task \(result.taskID), which this worker was not running")
            }
            inbox.yield(message)
            inbox.finish()
        case .data(let id, _), .credit(let id, _), .output(let id, _, _):
            inboxes[id]?.yield(message)
        default:
            break
        }
    }

    private func end(_ error: CohortError) {
        guard ended == nil else { return }
        ended = error
        ready?.resume(throwing: error)
        ready = nil
        for inbox in inboxes.values { inbox.finish() }
        inboxes.removeAll()
    }
}
