import CLibSSH2
import CohortCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `direct-tcpip` channel of a bastion's session, pumped to one end of a socketpair whose
/// other end is the socket of the SSH session to the host behind it. That session runs on its
/// own, unaware: each hop is a full SSH connection with its own host-key check, user and key.
///
/// Loop thread only (the bastion driver's), like `ExecChannel`.
final class TunnelChannel: @unchecked Sendable {
    // @unchecked: mutated only on the bastion driver's loop thread; `link` is a Mutex.
    private enum State { case opening, open, done }

    let host: String
    let port: Int
    /// The bastion's end of the socketpair.
    private(set) var localFD: Int32
    private var state = State.opening
    private var channel: OpaquePointer?
    /// Read from the local end, not yet taken by the channel.
    private var toRemote: [UInt8] = []
    /// Read from the channel, not yet taken by the local end.
    private var toLocal: [UInt8] = []
    private var localEOF = false
    private var remoteEOF = false
    var openWaiter: CheckedContinuation<Void, any Error>?
    let link: TunnelLink
    /// Registered on the loop to watch `localFD`; it hands wake-ups to the bastion driver.
    var watcher: TunnelWatcher?
    /// Set by the bastion driver while its outbox is full: the local end is not read then.
    var sessionBehind = false

    init(host: String, port: Int, localFD: Int32, link: TunnelLink) {
        self.host = host
        self.port = port
        self.localFD = localFD
        self.link = link
    }

    var isDone: Bool { state == .done }
    /// The channel-open request is out and its reply not yet in (see `advance`'s `mayOpen`).
    private(set) var isMidOpen = false

    /// poll(2) events for the local end.
    var localEvents: Int16 {
        guard state == .open else { return 0 }
        var events: Int16 = 0
        if toRemote.isEmpty, !localEOF, !sessionBehind { events |= Int16(POLLIN) }
        if !toLocal.isEmpty { events |= Int16(POLLOUT) }
        return events
    }

    /// Bytes moved per turn and direction, so that one busy tunnel cannot starve the others.
    static let budget = 256 * 1024

    /// `mayWrite`: false while the bastion session's outbox is full. `mayOpen`: whether it may
    /// send its open request now: libssh2 keeps one open in progress per session and completes
    /// it for whichever call comes next, so two tunnels opening at once could each get the
    /// other's host (seen as a changed host key, one run in a few under load).
    func advance(session: OpaquePointer, buffer: inout [UInt8], mayWrite: Bool, mayOpen: Bool) throws(SSHCallError) -> Bool {
        switch state {
        case .opening:
            guard isMidOpen || mayOpen else { return false }
            isMidOpen = true
            guard let opened = libssh2_channel_direct_tcpip_ex(session, host, Int32(port), "127.0.0.1", 0) else {
                let code = LibSSH2.lastErrno(session)
                if code == LIBSSH2_ERROR_EAGAIN { return false }
                isMidOpen = false
                let why = LibSSH2.lastErrorMessage(session)
                fail(CohortError(.connectionRefused, "the bastion could not open a connection to \(host):\(port) (\(why))"))
                if code == LIBSSH2_ERROR_CHANNEL_FAILURE || code == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED { return true }
                throw SSHCallError(code: code, message: "open tunnel: \(why)")
            }
            isMidOpen = false
            channel = opened
            state = .open
            openWaiter?.resume()
            openWaiter = nil
            return true
        case .open:
            var progressed = mayWrite ? try pumpToRemote(session: session, buffer: &buffer) : false
            progressed = try pumpToLocal(session: session, buffer: &buffer) || progressed
            if localEOF, remoteEOF, toLocal.isEmpty {
                finish()
                return true
            }
            return progressed
        case .done:
            return false
        }
    }

    private func pumpToRemote(session: OpaquePointer, buffer: inout [UInt8]) throws(SSHCallError) -> Bool {
        var progressed = false
        var moved = 0
        while moved < Self.budget {
            if toRemote.isEmpty {
                guard !localEOF else { break }
                let n = buffer.withUnsafeMutableBytes { read(localFD, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { break }
                    localEOF = true
                } else if n == 0 {
                    localEOF = true
                } else {
                    toRemote = Array(buffer[0..<n])
                }
                progressed = true
                if localEOF {
                    _ = libssh2_channel_send_eof(channel)
                    break
                }
            }
            let written = toRemote.withUnsafeBytes { bytes in
                libssh2_channel_write_ex(channel, 0, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            guard let count = try LibSSH2.check(written, session, "tunnel write") else { break }
            toRemote.removeFirst(count)
            moved += count
            progressed = true
        }
        return progressed
    }

    private func pumpToLocal(session: OpaquePointer, buffer: inout [UInt8]) throws(SSHCallError) -> Bool {
        var progressed = false
        var moved = 0
        while moved < Self.budget {
            if !toLocal.isEmpty {
                let n = toLocal.withUnsafeBytes { send(localFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { break }
                    // The session behind went away: nobody reads any more.
                    toLocal.removeAll()
                    localEOF = true
                    remoteEOF = true
                    return true
                }
                toLocal.removeFirst(n)
                moved += n
                progressed = true
                if !toLocal.isEmpty { break }
            }
            guard !remoteEOF else { break }
            let n = buffer.withUnsafeMutableBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { libssh2_channel_read_ex(channel, 0, $0.baseAddress, $0.count) }
            }
            guard let count = try LibSSH2.check(n, session, "tunnel read") else { break }
            if count == 0 {
                if libssh2_channel_eof(channel) == 1 {
                    remoteEOF = true
                    shutdown(localFD, Int32(SHUT_WR))
                    progressed = true
                }
                break
            }
            toLocal = Array(buffer[0..<count])
            progressed = true
        }
        return progressed
    }

    /// Whether libssh2 holds bytes for this tunnel that no socket wake-up will announce.
    var hasQueuedData: Bool {
        guard state == .open, toLocal.isEmpty, let channel else { return false }
        return libssh2_poll_channel_read(channel, 0) == 1
    }

    /// Ends the tunnel: the session behind sees its socket close. `error` (the bastion's own
    /// failure) is what that session will report as the cause.
    func fail(_ error: CohortError) {
        guard state != .done else { return }
        isMidOpen = false
        link.recordCause(error)
        if let waiter = openWaiter {
            openWaiter = nil
            waiter.resume(throwing: error)
        }
        finish()
    }

    private func finish() {
        state = .done
        if localFD >= 0 {
            Glibc.close(localFD)
            localFD = -1
        }
    }

    /// Hands the channel pointer to the driver to free.
    func release() -> OpaquePointer? {
        defer { channel = nil }
        return channel
    }
}

/// What the session behind a tunnel learns of the bastion's fate, across threads.
final class TunnelLink: Sendable {
    let bastion: String
    /// The bastion session's, to tell its silence from the target's.
    let bastionSilence: Silence
    let bastionDeadPeerTimeout: Duration
    private let cause = Mutex<CohortError?>(nil)

    init(bastion: String, silence: Silence, deadPeerTimeout: Duration) {
        self.bastion = bastion
        self.bastionSilence = silence
        self.bastionDeadPeerTimeout = deadPeerTimeout
    }

    func recordCause(_ error: CohortError) {
        cause.withLock { if $0 == nil { $0 = error } }
    }

    var recordedCause: CohortError? { cause.withLock { $0 } }
}

/// Watches a tunnel's local end on the bastion's loop and hands each wake-up to the bastion
/// driver, which does the pumping (it alone may touch the session).
final class TunnelWatcher: LoopDriver, @unchecked Sendable {
    // @unchecked: loop thread only.
    private weak var tunnel: TunnelChannel?
    private weak var driver: SessionDriver?

    init(tunnel: TunnelChannel, driver: SessionDriver) {
        self.tunnel = tunnel
        self.driver = driver
    }

    var fd: Int32 { tunnel.map { $0.isDone ? -1 : $0.localFD } ?? -1 }
    func wantedEvents() -> Int16 { tunnel?.localEvents ?? 0 }
    func nextDeadline() -> ContinuousClock.Instant? { nil }

    func advance(revents: Int16, now: ContinuousClock.Instant) -> Bool {
        guard let tunnel, !tunnel.isDone, let driver else { return false }
        if revents != 0 { driver.loop.kick(driver) }
        return true
    }
}

/// When a session last heard its peer, shared across threads.
final class Silence: Sendable {
    private static let origin = ContinuousClock.now
    private let heardAt = Atomic<Int64>(0)

    init() { heard(.now) }

    func heard(_ now: ContinuousClock.Instant) {
        heardAt.store(Self.nanos(now), ordering: .relaxed)
    }

    /// How long it has been quiet at `now`.
    func quiet(at now: ContinuousClock.Instant) -> Duration {
        .nanoseconds(max(0, Self.nanos(now) - heardAt.load(ordering: .relaxed)))
    }

    private static func nanos(_ instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - origin
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}

