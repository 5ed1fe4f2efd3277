import CLibSSH2
import CohortCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One SSH connection: the libssh2 session, its socket and its channels.
///
/// Confined to one `IOLoop` thread: libssh2 sessions are not thread-safe, so every call on
/// `session` happens in `advance`, which only the loop calls. Callers reach it through
/// `SSHConnection`, which hops onto the loop with `IOLoop.execute`.
final class SessionDriver: LoopDriver, @unchecked Sendable {
    // @unchecked: all mutable state is confined to `loop`'s thread (see type comment).
    enum Phase {
        case connecting
        case handshaking
        case authenticating
        case ready
        case failed(CohortError)

        var isTerminal: Bool {
            if case .failed = self { return true }
            return false
        }
    }

    let loop: IOLoop
    let target: SSHTarget
    let addresses: [sockaddr_storage]
    private(set) var fd: Int32 = -1
    var session: OpaquePointer?
    var phase: Phase = .connecting
    var connectWaiter: CheckedContinuation<Void, any Error>?
    let connectDeadline: ContinuousClock.Instant
    var auth = AuthState()
    var channels: [ExecChannel] = []
    /// What libssh2 sent that the socket has not taken yet.
    var outbox = Outbox()
    /// The exec channel or tunnel whose open request is out: libssh2 has one per session.
    /// Found afresh each turn (a channel can end without advancing), kept up to date within it.
    var opener: AnyObject?

    func refreshOpener() {
        opener = channels.first(where: \.isMidOpen) ?? tunnels.first(where: \.isMidOpen).map { $0 as AnyObject }
    }
    /// Connections to hosts behind this one (it is their bastion).
    var tunnels: [TunnelChannel] = []
    /// Set when this session runs over a tunnel: its socket is the tunnel's socketpair end.
    private let tunnelFD: Int32?
    /// The bastion's fate, when this session runs over a tunnel.
    let link: TunnelLink?
    /// False once the session failed or is closing: read from any thread, by the bastion pool.
    let usable = Atomic<Bool>(true)
    /// When this session last heard its peer, readable from any thread: the sessions behind a
    /// bastion read the bastion's, to tell their own host's silence from the bastion's.
    let silence = Silence()
    var unfreedChannels: [OpaquePointer] = []
    /// Mirrored into `silence` on every change, so that the two never disagree.
    private var lastHeard = ContinuousClock.now {
        didSet { silence.heard(lastHeard) }
    }
    private var lastKeepalive = ContinuousClock.now
    private(set) var closing = false

    let logger: Logger

    /// `deadline`: when the connect must be done (now plus the target's timeout unless a
    /// chain of bastions already used some of it). `tunnel`: the socketpair end to speak SSH
    /// over instead of connecting, and what the bastion will say if it goes.
    init(
        loop: IOLoop, target: SSHTarget, addresses: [sockaddr_storage], logger: Logger,
        deadline: ContinuousClock.Instant? = nil, tunnel: (fd: Int32, link: TunnelLink)? = nil
    ) {
        self.loop = loop
        self.target = target
        self.addresses = addresses
        self.logger = logger
        self.connectDeadline = deadline ?? .now + target.connectTimeout
        self.tunnelFD = tunnel?.fd
        self.link = tunnel?.link
    }

    /// Whether anything runs on the session: exec channels or tunnels.
    var hasWork: Bool { !channels.isEmpty || !tunnels.isEmpty }

    /// A session that starts work counts its silence from now, not from when it went idle.
    func markHeard() { lastHeard = .now }

    // MARK: LoopDriver

    func wantedEvents() -> Int16 {
        let flush: Int16 = outbox.pending > 0 ? Int16(POLLOUT) : 0
        switch phase {
        case .connecting:
            return Int16(POLLOUT)
        case .handshaking, .authenticating:
            return directions() | flush
        case .ready:
            guard hasWork else { return flush }
            // With every channel paused by its consumer nobody reads, and a level-triggered
            // POLLIN would spin; wait only for what libssh2 needs to write.
            if tunnels.isEmpty, channels.allSatisfy(\.isPausedByConsumer) {
                let blocked = session.map(libssh2_session_block_directions) ?? 0
                return (blocked & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 ? Int16(POLLOUT) : 0) | flush
            }
            return directions() | Int16(POLLIN) | flush
        case .failed:
            return 0
        }
    }

    private func directions() -> Int16 {
        guard let session else { return Int16(POLLIN) }
        let blocked = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if blocked & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if blocked & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        return events == 0 ? Int16(POLLIN) : events
    }

    func nextDeadline() -> ContinuousClock.Instant? {
        switch phase {
        case .connecting, .handshaking, .authenticating:
            return connectDeadline
        case .ready:
            guard hasWork else { return nil }
            return min(max(lastHeard, lastKeepalive) + heartbeatInterval, lastHeard + target.deadPeerTimeout)
        case .failed:
            return nil
        }
    }

    /// Keepalives go out at this pace while channels are open; replies reset `lastHeard`.
    var heartbeatInterval: Duration {
        max(.seconds(1), target.deadPeerTimeout / 6)
    }

    func advance(revents: Int16, now: ContinuousClock.Instant) -> Bool {
        if revents & Int16(POLLIN) != 0 {
            lastHeard = now
            Posix.acknowledgeQuickly(fd)
        }
        do {
            if outbox.pending > 0, let failed = outbox.flush(fd) {
                throw CohortError(.transportLost, "connection lost: send: \(Posix.errorText(failed))")
            }
            switch phase {
            case .connecting:
                try stepConnect(revents: revents, now: now)
            case .handshaking:
                try stepHandshake(now: now)
            case .authenticating:
                try stepAuthenticate(now: now)
            case .ready:
                try stepChannels(now: now)
            case .failed:
                break
            }
            if outbox.pending > 0, let failed = outbox.flush(fd) {
                throw CohortError(.transportLost, "connection lost: send: \(Posix.errorText(failed))")
            }
        } catch {
            fail(error)
        }
        if case .failed = phase, !hasWork, connectWaiter == nil {
            teardown()
            return false
        }
        if closing, !hasWork {
            teardown()
            return false
        }
        return true
    }

    // MARK: Channels

    func add(_ channel: ExecChannel) {
        if closing {
            channel.fail(CohortError(.transportLost, "connection closed by Cohort", host: target.name))
            return
        }
        switch phase {
        case .failed(let error):
            channel.fail(error)
        default:
            if !hasWork { markHeard() }
            channels.append(channel)
            loop.kick(self)
        }
    }

    private func stepChannels(now: ContinuousClock.Instant) throws(CohortError) {
        guard let session else { return }
        // Reading one channel can pull another channel's packets into libssh2's queue with
        // no socket wake-up to follow, so go round until nobody makes progress.
        var progressed = true
        var rounds = 0
        while progressed, rounds < 4 {
            progressed = false
            rounds += 1
            // The one channel whose exec request is out, if any: found once a round, then kept
            // up to date as channels advance (this loop runs on every wake-up).
            var starter = channels.first(where: \.isMidStart)
            refreshOpener()
            for channel in channels {
                do {
                    if try channel.advance(
                        session: session, buffer: &loop.readBuffer, mayStart: starter == nil || starter === channel, mayWrite: !outbox.isFull,
                        mayOpen: opener == nil || opener === channel)
                    {
                        progressed = true
                    }
                    if channel.isMidStart { starter = channel } else if starter === channel { starter = nil }
                    if channel.isMidOpen { opener = channel } else if opener === channel { opener = nil }
                } catch let error where error.isChannelLevel {
                    channel.fail(CohortError(.noExitStatus, "channel failed: \(error.message)", host: target.name))
                    if starter === channel { starter = nil }
                    if opener === channel { opener = nil }
                } catch {
                    throw CohortError(.transportLost, "connection lost: \(error.message)", host: target.name)
                }
            }
            let finished = channels.filter(\.isDone)
            if !finished.isEmpty {
                channels.removeAll(where: \.isDone)
                unfreedChannels += finished.compactMap { $0.release() }
            }
        }
        // Work left over is resumed on the loop's next turn, after the other sessions.
        progressed = try stepTunnels(session: session) || progressed
        if progressed || channels.contains(where: { $0.hasMoreToRead || $0.hasQueuedData }) || tunnels.contains(where: \.hasQueuedData) {
            loop.kick(self)
        }
        unfreedChannels.removeAll { libssh2_channel_free($0) != LIBSSH2_ERROR_EAGAIN }
        try heartbeat(session: session, now: now)
    }

    /// libssh2 keepalives only send; a peer that stops answering is noticed here, by the
    /// silence that follows them, within `deadPeerTimeout` instead of TCP's 15 minutes.
    private func heartbeat(session: OpaquePointer, now: ContinuousClock.Instant) throws(CohortError) {
        guard hasWork else { return }
        // A consumer that stopped reading is not the peer's silence.
        if tunnels.isEmpty, channels.allSatisfy(\.isPausedByConsumer) {
            lastHeard = now
            return
        }
        if now - lastHeard > target.deadPeerTimeout {
            // Behind a bastion that went quiet too, the bastion is the cause: said as it would
            // say it, so that every host behind it reports the same loss.
            if let link, link.recordedCause == nil, link.bastionSilence.quiet(at: now) >= target.deadPeerTimeout / 2 {
                link.recordCause(Self.silenceError(after: link.bastionDeadPeerTimeout))
            }
            throw Self.silenceError(after: target.deadPeerTimeout).with(host: target.name)
        }
        if now - lastHeard >= heartbeatInterval, now - lastKeepalive >= heartbeatInterval {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(session, &next)
            lastKeepalive = now
        }
    }

    static func silenceError(after timeout: Duration) -> CohortError {
        CohortError(.transportLost, "host stopped answering: nothing received for \(timeout) (heartbeat)")
    }

    // MARK: Failure and teardown

    func fail(_ error: any Error) {
        var typed = (error as? CohortError)?.with(host: target.name)
            ?? CohortError(.sshFailure, "\(error)", host: target.name)
        if let link, let cause = link.recordedCause {
            // The bastion went first: that is the cause, said once per host in the same words.
            typed = CohortError(
                connectWaiter != nil && cause.code != .transportLost ? cause.code : .transportLost,
                "lost through bastion \(link.bastion): \(cause.message)", host: target.name)
        }
        if connectWaiter != nil { attemptOutcome = outcome(of: typed) }
        usable.store(false, ordering: .relaxed)
        if case .failed = phase {} else { phase = .failed(typed) }
        if let waiter = connectWaiter {
            connectWaiter = nil
            waiter.resume(throwing: typed)
        }
        for channel in channels { channel.fail(typed) }
        channels.removeAll()
        failTunnels(typed)
    }

    /// Resumed once the session is freed and the socket closed.
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    func close(then waiter: CheckedContinuation<Void, Never>? = nil) {
        if let waiter {
            if session == nil, fd < 0, phase.isTerminal {
                waiter.resume()
                return
            }
            closeWaiters.append(waiter)
        }
        closing = true
        usable.store(false, ordering: .relaxed)
        for channel in channels {
            channel.fail(CohortError(.transportLost, "connection closed by Cohort", host: target.name))
        }
        channels.removeAll()
        failTunnels(CohortError(.transportLost, "connection to the bastion closed by Cohort", host: target.name))
        loop.kick(self)
    }

    private func teardown() {
        if let agent = auth.agent {
            _ = libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
            auth.agent = nil
        }
        if let session {
            if case .ready = phase {
                _ = cohort_libssh2_session_disconnect(session, "cohort done")
                _ = outbox.flush(fd)
            }
            // Make any IO libssh2 still attempts fail at once, without freeing the descriptor
            // number that another connection could otherwise be given meanwhile.
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
            unfreedChannels.forEach { _ = libssh2_channel_free($0) }
            unfreedChannels.removeAll()
            _ = libssh2_session_free(session)
            self.session = nil
        }
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
        if case .failed = phase {} else {
            phase = .failed(CohortError(.transportLost, "connection closed by Cohort", host: target.name))
        }
        let waiters = closeWaiters
        closeWaiters.removeAll()
        waiters.forEach { $0.resume() }
    }

    // MARK: Connect

    /// How the connection attempt ended, for the handshake window: set before the connect
    /// waiter is resumed (so the waiter may read it), nil while it runs or once it succeeded.
    private(set) var attemptOutcome: HandshakeWindow.Outcome?

    /// Set when the server closed or reset the connection before its banner.
    var droppedBeforeBanner = false

    private func outcome(of error: CohortError) -> HandshakeWindow.Outcome {
        switch phase {
        case .handshaking where droppedBeforeBanner:
            return .droppedBeforeBanner
        case .handshaking, .authenticating:
            return error.code == .connectTimeout || error.code == .noSSHBanner ? .timedOut : .failed
        default:
            return .failed
        }
    }

    private func stepConnect(revents: Int16, now: ContinuousClock.Instant) throws {
        if fd < 0, let tunnelFD {
            fd = tunnelFD
        } else if fd < 0 {
            guard let address = addresses.first else {
                throw CohortError(.dnsFailure, "no address for \(target.address)")
            }
            let started = try Posix.startConnect(address)
            fd = started.fd
            if !started.connected {
                try checkDeadline(now)
                return
            }
        } else if revents == 0 {
            try checkDeadline(now)
            return
        } else {
            try Posix.finishConnect(fd)
        }
        try startSession()
        try stepHandshake(now: now)
    }

    func checkDeadline(_ now: ContinuousClock.Instant) throws(CohortError) {
        guard now >= connectDeadline else { return }
        let limit = target.connectTimeout
        switch phase {
        case .connecting:
            throw CohortError(.connectTimeout, "TCP connect to \(target.endpoint) timed out after \(limit)")
        case .handshaking:
            if let session, Self.hasBanner(session) {
                throw CohortError(.connectTimeout, "SSH key exchange with \(target.endpoint) did not finish within \(limit)")
            }
            throw CohortError(
                .noSSHBanner, "\(target.endpoint) accepted TCP but sent no SSH banner within \(limit) (is it an SSH server?)")
        default:
            throw CohortError(.connectTimeout, "authentication on \(target.endpoint) did not finish within \(limit)")
        }
    }
}
