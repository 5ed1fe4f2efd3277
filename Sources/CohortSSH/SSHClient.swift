import CohortCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Opens SSH connections, all driven by a small fixed set of IO threads.
///
/// 500 hosts do not need 500 threads: each connection is pinned to one of `ioThreads`
/// poll loops for its whole life. The loops are process-wide and live until exit.
public final class SSHClient: Sendable {
    private static let sharedLoops: IOLoopGroup = {
        precondition(LibSSH2.initialized, "libssh2_init failed")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return IOLoopGroup(threads: min(4, max(1, cores)))
    }()

    private let loops: IOLoopGroup
    private let logger: Logger
    private let gate: HandshakeGate

    /// `logger` gets, per host, what `ssh -v` shows: at debug the address tried, the algorithms
    /// negotiated, the host key and the known_hosts line that matched, each key offered and
    /// what became of it; at trace the timings. Never a key or a passphrase.
    ///
    /// `gate` bounds the handshakes in flight; the process-wide one unless a test wants its own.
    public init(logger: Logger = Logger(label: "cohort.ssh"), gate: HandshakeGate = .shared) {
        loops = Self.sharedLoops
        self.logger = logger
        self.gate = gate
    }

    /// Connects, verifies the host key and authenticates, all within `target.connectTimeout`
    /// counted from when the attempt leaves the gate's queue (a host waiting its turn behind a
    /// thousand others is not late). A server that closes the connection before its banner is
    /// tried again, backing off. Throws a `CohortError` whose code tells unreachable (DNS, refused, timeout, no SSH
    /// banner) from refused (host key, authentication).
    ///
    /// A target with `jumps` is reached through them: the connection to its last bastion is
    /// shared with every host behind it (made by the first that needs it), the target's own
    /// session runs over a `direct-tcpip` tunnel of it, and an error at a bastion says which.
    public func connect(_ target: SSHTarget) async throws -> SSHConnection {
        var logger = self.logger
        logger[metadataKey: "host"] = "\(Printable.escaped(target.name))"
        if !target.jumps.isEmpty { return try await connectThrough(target, logger: logger) }
        let started = ContinuousClock.now
        logger.debug("connecting to \(Printable.escaped(target.user))@\(Printable.escaped(target.address)) port \(target.port)")
        let addresses: [sockaddr_storage]
        do {
            addresses = try await Posix.resolve(host: target.address, port: target.port)
        } catch let error as CohortError {
            logger.debug("\(error.message)")
            throw error.with(host: target.name)
        }
        do {
            let driver = try await attempts([.endpoint(target.endpoint)], logger: logger) { _ in
                SessionDriver(loop: loops.pick(), target: target, addresses: addresses, logger: logger)
            }
            logger.trace("connected and authenticated in \(ContinuousClock.now - started)")
            return SSHConnection(driver: driver)
        } catch {
            logger.debug("failed after \(ContinuousClock.now - started): \(Printable.escaped("\(error)"))")
            throw error
        }
    }

    /// Attempts a connection until one is made or one fails for good: each through the gate,
    /// each driver from `make` (given when its attempt left the queue), run to authenticated. A
    /// server that closes before its banner is tried again, backing off, while `stillBusy`.
    private func attempts(
        _ lanes: [HandshakeWindow.Lane], logger: Logger, make: (ContinuousClock.Instant) async throws -> SessionDriver
    ) async throws -> SessionDriver {
        let first = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            await gate.acquire(lanes)
            let started = ContinuousClock.now
            var driver: SessionDriver?
            do {
                let made = try await make(started)
                driver = made
                try await run(made)
                await gate.release(lanes, .completed(latency: .now - started))
                return made
            } catch {
                let outcome = driver?.attemptOutcome ?? .failed
                await gate.release(lanes, outcome)
                guard outcome == .droppedBeforeBanner, await stillBusy(lanes[0], since: first) else { throw error }
                let pause = Self.backoff(attempt: attempt)
                logger.debug("\(Printable.escaped("\(error)")); trying again in \(pause)")
                try await Task.sleep(for: pause)
            }
        }
    }

    /// The last hop of `chain`, reached through the ones before it (for `Bastions`).
    func connectHop(_ chain: [SSHTarget]) async throws -> SSHConnection {
        var hop = chain[chain.count - 1]
        hop.jumps = Array(chain.dropLast())
        return try await connect(hop)
    }

    private func connectThrough(_ target: SSHTarget, logger: Logger) async throws -> SSHConnection {
        let bastion = target.jumps[target.jumps.count - 1].name
        func through(_ error: any Error) -> CohortError {
            guard var typed = error as? CohortError else {
                return CohortError(.sshFailure, "through bastion \(bastion): \(error)", host: target.name)
            }
            // Said once, by the innermost hop that failed; the host is the one the user asked for.
            if typed.host != target.name, !typed.message.hasPrefix("through bastion "), !typed.message.hasPrefix("lost through bastion ") {
                typed.message = "through bastion \(typed.host ?? bastion): \(typed.message)"
            }
            typed.host = target.name
            return typed
        }
        logger.debug("connecting to \(Printable.escaped(target.user))@\(Printable.escaped(target.address)) port \(target.port) through \(target.jumps.map { Printable.escaped($0.name) }.joined(separator: ", "))")
        let lease: BastionLease
        var budget = target.connectTimeout
        do {
            let made = try await Bastions.shared.lease(target.jumps, client: self)
            lease = made.lease
            budget -= made.spent
        } catch {
            throw through(error)
        }
        let chainKey = lease.key
        let lanes: [HandshakeWindow.Lane] = [.endpoint(chainKey + "\u{3}" + target.endpoint), .bastion(chainKey)]
        let last = target.jumps[target.jumps.count - 1]
        do {
            let driver = try await attempts(lanes, logger: logger) { started in
                let link = TunnelLink(bastion: bastion, silence: lease.connection.silence, deadPeerTimeout: last.deadPeerTimeout)
                let fd = try await lease.connection.openTunnel(host: target.address, port: target.port, link: link)
                // The first attempt's budget is what the bastion's connect left; a retry's is whole.
                defer { budget = target.connectTimeout }
                return SessionDriver(
                    loop: loops.pick(), target: target, addresses: [], logger: logger, deadline: started + max(.zero, budget),
                    tunnel: (fd, link))
            }
            logger.trace("connected and authenticated through \(Printable.escaped(bastion))")
            return SSHConnection(driver: driver, lease: lease)
        } catch is CancellationError {
            await lease.release()
            throw CancellationError()
        } catch {
            await lease.release()
            throw through(error)
        }
    }

    /// How long a server that closes connections before its banner (sshd past `MaxStartups`,
    /// which drops at random once past its start) is tried again: it is busy, not down. Past
    /// that, as long as it still lets other connections in (one within `busyPatience / 3`), or
    /// other handshakes of ours to it are under way (on a loaded machine each may take longer
    /// than any period chosen here; each ends within its own connect timeout).
    static let busyPatience: Duration = .seconds(30)

    private func stillBusy(_ lane: HandshakeWindow.Lane, since first: ContinuousClock.Instant) async -> Bool {
        if ContinuousClock.now - first < Self.busyPatience { return true }
        return await gate.servingOthers(lane, within: Self.busyPatience / 3)
    }

    /// 50 ms doubling to 2 s, each with ±50% jitter so that retries do not arrive together.
    static func backoff(attempt: Int) -> Duration {
        let base = min(2.0, 0.05 * Double(1 << min(attempt - 1, 6)))
        return .milliseconds(Int64(base * Double.random(in: 0.5...1.5) * 1000))
    }

    private func run(_ driver: SessionDriver) async throws {
        let loop = driver.loop
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute {
                driver.connectWaiter = continuation
                loop.register(driver)
            }
        }
    }
}

/// One authenticated SSH connection. Many commands may run on it at once, each on its own
/// channel. Safe to use from any task; work is handed to the connection's IO thread.
public final class SSHConnection: Sendable {
    private let driver: SessionDriver
    /// The bastion this connection runs through, if any: held while it lives.
    private let lease: BastionLease?

    init(driver: SessionDriver, lease: BastionLease? = nil) {
        self.driver = driver
        self.lease = lease
    }

    /// A connection dropped without `close()` is still torn down, in the background.
    deinit {
        let driver = self.driver
        driver.loop.execute { driver.close() }
        if let lease { Task { await lease.release() } }
    }

    /// False once the connection failed or is closing.
    var isUsable: Bool { driver.usable.load(ordering: .relaxed) }

    /// When it last heard its peer (for the sessions it carries as a bastion).
    var silence: Silence { driver.silence }

    /// A `direct-tcpip` tunnel to `host:port` through this connection; returns, once the
    /// server has opened it, the socket a session to that host speaks over.
    func openTunnel(host: String, port: Int, link: TunnelLink) async throws -> Int32 {
        let (mine, theirs) = try Posix.socketPair()
        let driver = self.driver
        let tunnel = TunnelChannel(host: host, port: port, localFD: mine, link: link)
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                driver.loop.execute {
                    tunnel.openWaiter = continuation
                    driver.add(tunnel)
                }
            }
        } catch {
            Glibc.close(theirs)
            throw error
        }
        return theirs
    }

    public var target: SSHTarget { driver.target }

    /// Starts `command` through the remote user's shell, as `ssh host 'command'` does, and
    /// sends `stdin` followed by EOF. Output is buffered up to `bufferLimit` bytes before the
    /// channel stops reading and the remote writer is slowed down.
    public func exec(_ command: String, stdin: [UInt8] = [], bufferLimit: Int = 1 << 20) -> RemoteProcess {
        let process = open(command, bufferLimit: bufferLimit)
        process.send(stdin)
        process.closeInput()
        return process.output
    }

    /// Starts `command` with its stdin left open: send bytes with `send` as the conversation
    /// goes, `closeInput` to end it. Used for worker channels.
    public func open(_ command: String, bufferLimit: Int = 1 << 20) -> InteractiveProcess {
        let driver = self.driver
        let loop = driver.loop
        let output = OutputBuffer(capacity: bufferLimit) {
            loop.execute { loop.kick(driver) }
        }
        let channel = ExecChannel(command: command, output: output)
        loop.execute { driver.add(channel) }
        return InteractiveProcess(channel: channel, driver: driver, output: RemoteProcess(output: output))
    }

    /// Runs `command` to its end and collects its output (for small outputs).
    public func run(_ command: String, stdin: [UInt8] = []) async throws -> CompletedProcess {
        var result = CompletedProcess(stdout: [], stderr: [], status: .exited(0))
        for try await event in exec(command, stdin: stdin) {
            switch event {
            case .stdout(let bytes): result.stdout += bytes
            case .stderr(let bytes): result.stderr += bytes
            case .exit(let status): result.status = status
            }
        }
        return result
    }

    /// Closes the connection and returns once the session is freed and its socket closed.
    /// Commands still running end with a transport error. Await it before the process exits:
    /// a libssh2 session torn down during exit races libcrypto's own cleanup.
    public func close() async {
        let driver = self.driver
        await withCheckedContinuation { continuation in
            driver.loop.execute { driver.close(then: continuation) }
        }
        await lease?.release()
    }
}

/// The events of one remote command, in arrival order. The sequence ends after `.exit`, or
/// throws a `CohortError` (`.transportLost`, `.noExitStatus`) if the command's fate is unknown:
/// a command whose connection died is never reported as a success.
public struct RemoteProcess: AsyncSequence, Sendable {
    public typealias Element = ProcessEvent
    let output: OutputBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let output: OutputBuffer
        public mutating func next() async throws -> ProcessEvent? { try await output.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(output: output) }
}

public struct CompletedProcess: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var status: ExitStatus
}

/// A remote command whose stdin stays open. `send` and `closeInput` may be called from any
/// thread; bytes reach the channel in the order they were sent.
public struct InteractiveProcess: Sendable {
    let channel: ExecChannel
    let driver: SessionDriver
    /// Everything the command writes, and how it ends.
    public let output: RemoteProcess

    public func send(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let (channel, driver) = (self.channel, self.driver)
        driver.loop.execute {
            channel.enqueue(bytes)
            driver.loop.kick(driver)
        }
    }

    public func closeInput() {
        let (channel, driver) = (self.channel, self.driver)
        driver.loop.execute {
            channel.closeInput()
            driver.loop.kick(driver)
        }
    }
}
