import CLibSSH2
import CohortCore

/// One remote command on one channel of a session, driven by its `SessionDriver`.
///
/// Loop thread only, like its driver. Output goes to `output` as raw bytes, never decoded.
final class ExecChannel: @unchecked Sendable {
    // @unchecked: mutated only on the owning driver's loop thread; `output` is thread-safe.
    private enum State { case opening, starting, running, closing, done }

    private var state = State.opening
    /// The exec request is out and its reply not yet in (see `advance`'s `mayStart`).
    private(set) var isMidStart = false
    /// The channel-open request is out and its reply not yet in (see `advance`'s `mayOpen`).
    private(set) var isMidOpen = false
    private var channel: OpaquePointer?
    private let command: String
    /// Bytes queued for the remote stdin, written as the window allows.
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var inputClosed = false
    private var eofSent = false
    let output: OutputBuffer

    init(command: String, output: OutputBuffer) {
        self.command = command
        self.output = output
    }

    /// Queues bytes for the remote stdin (loop thread).
    func enqueue(_ bytes: [UInt8]) {
        guard !inputClosed else { return }
        if inputOffset == input.count {
            // Nothing pending: take the caller's array as it is (no copy; a worker upload to
            // many hosts shares one buffer).
            input = bytes
            inputOffset = 0
            return
        } else if inputOffset >= 1 << 20 {
            // A steady stream is never fully drained at the moment more arrives: drop what
            // was written, or the buffer would hold everything ever sent.
            input.removeFirst(inputOffset)
            inputOffset = 0
        }
        input += bytes
    }

    /// EOF follows once the queued bytes are written (loop thread).
    func closeInput() { inputClosed = true }

    var isDone: Bool { state == .done }
    var isPausedByConsumer: Bool { state == .running && !output.reserve() }

    /// Makes what progress it can; returns whether anything happened. `mayStart`: whether it
    /// may send its exec request now. libssh2 1.10 cannot wait for two exec replies on one
    /// session at once: a reply read for one channel while another waits makes the waiter
    /// fail ("Failed waiting for channel success", error -1), so its driver lets one channel
    /// start at a time.
    /// `mayWrite`: false while the session's outbox is full (its socket is behind).
    /// `mayOpen`: whether it may send its channel-open request now. libssh2 keeps one open in
    /// progress per session, whatever the call's arguments: a second open while one waits
    /// would be handed the first one's channel.
    func advance(
        session: OpaquePointer, buffer: inout [UInt8], mayStart: Bool = true, mayWrite: Bool = true, mayOpen: Bool = true
    ) throws(SSHCallError) -> Bool {
        switch state {
        case .opening:
            guard isMidOpen || mayOpen else { return false }
            isMidOpen = true
            guard let opened = cohort_libssh2_channel_open_session(session) else {
                if LibSSH2.lastErrno(session) == LIBSSH2_ERROR_EAGAIN { return false }
                isMidOpen = false
                throw SSHCallError(code: LibSSH2.lastErrno(session), message: "open channel: \(LibSSH2.lastErrorMessage(session))")
            }
            isMidOpen = false
            channel = opened
            state = .starting
            return true
        case .starting:
            guard isMidStart || mayStart else { return false }
            isMidStart = true
            let started: Int32?
            do throws(SSHCallError) { started = try LibSSH2.check(cohort_libssh2_channel_exec(channel, command), session, "exec") } catch {
                isMidStart = false
                throw error
            }
            guard started != nil else { return false }
            isMidStart = false
            state = .running
            return true
        case .running:
            let wrote = mayWrite ? try write(session: session) : false
            return try read(session: session, buffer: &buffer) || wrote
        case .closing:
            guard try LibSSH2.check(libssh2_channel_wait_closed(channel), session, "close") != nil else { return false }
            finishWithStatus()
            return true
        case .done:
            return false
        }
    }

    private func write(session: OpaquePointer) throws(SSHCallError) -> Bool {
        var progressed = false
        while inputOffset < input.count {
            let written = input.withUnsafeBufferPointer { bytes in
                libssh2_channel_write_ex(channel, 0, UnsafeRawPointer(bytes.baseAddress! + inputOffset)
                    .assumingMemoryBound(to: CChar.self), input.count - inputOffset)
            }
            guard let n = try LibSSH2.check(written, session, "write stdin") else { return progressed }
            inputOffset += n
            progressed = true
        }
        if inputClosed, !eofSent {
            guard try LibSSH2.check(libssh2_channel_send_eof(channel), session, "send EOF") != nil else { return progressed }
            eofSent = true
            progressed = true
        }
        return progressed
    }

    /// Bytes one channel may read per turn of its loop, so that a fast stream cannot starve
    /// the other sessions pinned to the same IO thread.
    static let readBudget = 256 * 1024
    /// Set when the last turn left data to read: it stopped on the budget, or reading one
    /// stream pulled the other's packets into libssh2's queue, where no socket wake-up will
    /// announce them (that stalled a fast stream until the next heartbeat).
    private(set) var hasMoreToRead = false

    /// Whether libssh2 holds data for this channel now, read off the socket while another
    /// channel of the session was being read after this one's turn: asked once every channel
    /// had its turn, since no socket wake-up will announce it (a result then waited for the
    /// worker's next heartbeat, 5 s, in about one kept-fleet map of 150).
    var hasQueuedData: Bool {
        guard state == .running, let channel, output.reserve() else { return false }
        return libssh2_poll_channel_read(channel, 1) == 1
    }

    private func read(session: OpaquePointer, buffer: inout [UInt8]) throws(SSHCallError) -> Bool {
        var progressed = false
        var budget = Self.readBudget
        hasMoreToRead = false
        for stream in [Int32(0), SSH_EXTENDED_DATA_STDERR] {
            while output.reserve() {
                guard budget > 0 else {
                    hasMoreToRead = true
                    return progressed
                }
                let n = buffer.withUnsafeMutableBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { libssh2_channel_read_ex(channel, stream, $0.baseAddress, $0.count) }
                }
                guard let count = try LibSSH2.check(n, session, "read"), count > 0 else { break }
                progressed = true
                budget -= count
                let chunk = Array(buffer[0..<count])
                _ = output.push(stream == 0 ? .stdout(chunk) : .stderr(chunk))
            }
        }
        // libssh2 masks EOF while data for this channel is still queued, so EOF here means
        // everything was read.
        if output.reserve(), libssh2_channel_eof(channel) == 1 {
            state = .closing
            return true
        }
        // Only while the consumer has room: a paused channel must not spin its loop.
        hasMoreToRead = output.reserve() && libssh2_poll_channel_read(channel, 1) == 1
        return progressed
    }

    /// libssh2_channel_get_exit_status returns 0 when no status arrived. OpenSSH always sends
    /// exit-status or exit-signal before CLOSE on a live connection, and a connection that
    /// broke surfaces as a session error before this point, so a clean close lands here.
    private func finishWithStatus() {
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        var message: UnsafeMutablePointer<CChar>?
        var messageLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, &message, &messageLength, nil, nil)
        let status: ExitStatus
        if let signal, signalLength > 0 {
            let name = String(decoding: UnsafeRawBufferPointer(start: signal, count: signalLength), as: UTF8.self)
            let text = message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: messageLength), as: UTF8.self) } ?? ""
            status = .signaled(name: name, message: text)
        } else {
            status = .exited(libssh2_channel_get_exit_status(channel))
        }
        state = .done
        _ = output.push(.exit(status))
        output.finish(.success(()))
    }

    func fail(_ error: CohortError) {
        state = .done
        isMidStart = false
        isMidOpen = false
        output.finish(.failure(error))
    }

    /// Hands the channel pointer to the driver to free once the exec is done.
    func release() -> OpaquePointer? {
        defer { channel = nil }
        return channel
    }
}
