import CohortCore
import CohortSSH
import CohortWire
import Synchronization

/// One host of a copy or fetch: its worker (one slot), driven in order, and its tally.
final class HostSession: Sendable {
    let name: String
    let workers: HostWorkers
    let conversation: WorkerConversation
    private struct State {
        var destinationIsDirectory = false
        var stopped = false
        var report: FileCopy.HostReport
    }
    private let state: Mutex<State>

    private init(name: String, workers: HostWorkers, conversation: WorkerConversation) {
        self.name = name
        self.workers = workers
        self.conversation = conversation
        state = Mutex(State(report: FileCopy.HostReport(host: name)))
    }

    static func open(_ host: FleetHost, worker: WorkerBinary, client: SSHClient, limiter: ConnectRateLimiter) async throws -> HostSession {
        let workers = try await HostWorkers.open(host, worker: worker, slots: .exactly(1), sessionsPerConnection: 1, client: client, limiter: limiter)
        guard let channel = workers.channels.first else { throw CohortError(.io, "no worker channel", host: host.name) }
        var bound = Duration.seconds(30)
        if case .ssh(let target) = host.connection { bound = target.deadPeerTimeout }
        let conversation = WorkerConversation(host: host.name, channel: channel, binary: worker, silenceBound: bound)
        do { try await conversation.start() } catch {
            await workers.close()
            throw error
        }
        return HostSession(name: host.name, workers: workers, conversation: conversation)
    }

    /// The same host's worker as another user (`become`), on `base`'s connection: started
    /// at once when the user's copy is in place (one sudo), else installed first. Closing it
    /// ends its channel only: the connection stays `base`'s.
    static func openBecome(on base: HostSession, user: String, password: String?, method: BecomeScripts.Method = .sudo, worker: WorkerBinary) async throws -> HostSession {
        let scripts = try await base.workers.becomeScripts(user: user, password: password, method: method, worker: worker)
        for attempt in 0..<2 {
            guard let channel = base.workers.becomeChannel(scripts, password: password) else {
                throw CohortError(.invalidInput, "become needs an SSH host", host: base.name)
            }
            let workers = HostWorkers(
                name: base.name, channels: [channel], uploaded: false, connections: [],
                spawn: { [workers = base.workers] in
                    guard let channel = workers.becomeChannel(scripts, password: password) else { throw CohortError(.io, "no connection", host: base.name) }
                    return channel
                })
            let conversation = WorkerConversation(host: base.name, channel: channel, binary: worker, silenceBound: base.conversation.silenceBound)
            do {
                try await conversation.start()
                return HostSession(name: base.name, workers: workers, conversation: conversation)
            } catch let error as CohortError {
                channel.link.closeInput()
                if attempt == 0, error.message.contains(BecomeScripts.notInstalled) {
                    try await base.workers.installBecome(scripts, password: password)
                    continue
                }
                if let refusal = BecomeScripts.refusal(error.message, method: method, password: password) { throw CohortError(.becomeRefused, refusal, host: base.name) }
                throw error
            }
        }
        throw CohortError(.becomeRefused, "the worker installed for \(user) was not found when started", host: base.name)
    }

    /// One more worker of the same host and user beside this one (same connection): its
    /// own slot, so that a background job does not hold up the host's later tasks. Closing
    /// it ends its channel only.
    func sibling(worker: WorkerBinary) async throws -> HostSession {
        guard let spawn = workers.spawn else { throw CohortError(.io, "this host's worker cannot be started twice", host: name) }
        let channel = try spawn()
        let siblings = HostWorkers(name: name, channels: [channel], uploaded: false, connections: [], spawn: spawn)
        let conversation = WorkerConversation(host: name, channel: channel, binary: worker, silenceBound: conversation.silenceBound)
        do { try await conversation.start() } catch {
            channel.link.closeInput()
            throw error
        }
        return HostSession(name: name, workers: siblings, conversation: conversation)
    }

    var destinationIsDirectory: Bool {
        get { state.withLock { $0.destinationIsDirectory } }
        set { state.withLock { $0.destinationIsDirectory = newValue } }
    }

    var error: CohortError? { state.withLock { $0.report.error } }

    /// Lost, or stopped after a failure that leaves nothing else to do on this host.
    var isDone: Bool { state.withLock { $0.report.error != nil || $0.stopped } }

    /// A failure of this host's own (not of its connection) that ends its part of the run.
    func stop(path: String, reason: String, onFile: @Sendable (FileCopy.FileReport) -> Void) {
        state.withLock { $0.stopped = true }
        record(path: path, failure: reason, onFile: onFile)
    }
    var report: FileCopy.HostReport { state.withLock { $0.report } }

    /// The host is lost (or refused a step it cannot do without): nothing more is sent to it.
    func fail(_ error: any Error) {
        let typed = error as? CohortError ?? CohortError(.io, "\(error)", host: name)
        state.withLock { if $0.report.error == nil { $0.report.error = typed.with(host: name) } }
    }

    /// A file's answer (nil: the channel ended first, the host is lost).
    func record(path: String, result: ResultFrame?, bytes: UInt64, onFile: @Sendable (FileCopy.FileReport) -> Void) async {
        guard let result else {
            fail(await conversation.failure)
            return
        }
        if result.outcome == .exited {
            let outcome = FileAnswer(decoding: result.payload)?.outcome ?? .changed
            state.withLock {
                if outcome == .changed { $0.report.changed += 1 } else { $0.report.unchanged += 1 }
                $0.report.bytesSent += bytes
            }
            onFile(FileCopy.FileReport(host: name, path: path, outcome: outcome, failure: nil, bytesSent: bytes))
        } else {
            record(path: path, failure: result.message.isEmpty ? "failed" : result.message, onFile: onFile)
        }
    }

    func record(path: String, failure: String, onFile: @Sendable (FileCopy.FileReport) -> Void) {
        state.withLock { $0.report.failed.append((path, failure)) }
        onFile(FileCopy.FileReport(host: name, path: path, outcome: nil, failure: failure, bytesSent: 0))
    }
}
