import CohortCore
import Foundation
import Logging

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

    /// `logger` gets, per host, what `ssh -v` shows: at debug the address tried, the algorithms
    /// negotiated, the host key and the known_hosts line that matched, each key offered and
    /// what became of it; at trace the timings. Never a key or a passphrase.
    public init(logger: Logger = Logger(label: "cohort.ssh")) {
        loops = Self.sharedLoops
        self.logger = logger
    }

    /// Connects, verifies the host key and authenticates, all within `target.connectTimeout`.
    /// Throws a `CohortError` whose code tells unreachable (DNS, refused, timeout, no SSH
    /// banner) from refused (host key, authentication).
    public func connect(_ target: SSHTarget) async throws -> SSHConnection {
        var logger = self.logger
        logger[metadataKey: "host"] = "\(Printable.escaped(target.name))"
        let started = ContinuousClock.now
        logger.debug("connecting to \(Printable.escaped(target.user))@\(Printable.escaped(target.address)) port \(target.port)")
        let addresses: [sockaddr_storage]
        do {
            addresses = try await Posix.resolve(host: target.address, port: target.port)
        } catch let error as CohortError {
            logger.debug("\(error.message)")
            throw error.with(host: target.name)
        }
        let loop = loops.pick()
        let driver = SessionDriver(loop: loop, target: target, addresses: addresses, logger: logger)
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                loop.execute {
                    driver.connectWaiter = continuation
                    loop.register(driver)
                }
            }
        } catch {
            logger.debug("failed after \(ContinuousClock.now - started): \(Printable.escaped("\(error)"))")
            throw error
        }
        logger.trace("connected and authenticated in \(ContinuousClock.now - started)")
        return SSHConnection(driver: driver)
    }
}

/// One authenticated SSH connection. Many commands may run on it at once, each on its own
/// channel. Safe to use from any task; work is handed to the connection's IO thread.
public final class SSHConnection: Sendable {
    private let driver: SessionDriver

    init(driver: SessionDriver) { self.driver = driver }

    /// A connection dropped without `close()` is still torn down, in the background.
    deinit {
        let driver = self.driver
        driver.loop.execute { driver.close() }
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
