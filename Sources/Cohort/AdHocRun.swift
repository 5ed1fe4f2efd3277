import CohortCore
import CohortSSH
import Foundation

/// How one host's run ended.
public enum HostResult: Sendable {
    /// The command ran to its end (whatever its exit status).
    case finished(ExitStatus)
    /// The command did not run, or its fate is unknown: unreachable, refused, or lost mid-run.
    case notRun(CohortError)
}

public struct HostOutcome: Sendable {
    public var host: String
    public var result: HostResult
    public var duration: Duration
}

/// Runs one command on many hosts at once (`cohort run`).
///
/// Every host gets its own connection, opened under the connect-rate limit; output is handed
/// to `onEvent` as it arrives, from many tasks at once, so `onEvent` must be thread-safe. It
/// is called synchronously: while it blocks, that host's channel stops reading, which keeps
/// memory bounded when output outruns the consumer.
public struct AdHocRun: Sendable {
    public var command: String
    public var options: ConnectionOptions
    private let client: SSHClient

    public init(command: String, options: ConnectionOptions, client: SSHClient = SSHClient()) {
        self.command = command
        self.options = options
        self.client = client
    }

    public func run(
        on hosts: [HostConnection], onEvent: @escaping @Sendable (String, ProcessEvent) -> Void,
        onDone: @escaping @Sendable (HostOutcome) -> Void = { _ in }
    ) async -> [HostOutcome] {
        let limiter = ConnectRateLimiter(perSecond: options.connectRate)
        return await withTaskGroup(of: (Int, HostOutcome).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    let result = await runOne(host, limiter: limiter, onEvent: onEvent)
                    let outcome = HostOutcome(host: host.name, result: result, duration: .now - start)
                    onDone(outcome)
                    return (index, outcome)
                }
            }
            var outcomes = [HostOutcome?](repeating: nil, count: hosts.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
    }

    private func runOne(
        _ host: HostConnection, limiter: ConnectRateLimiter, onEvent: @escaping @Sendable (String, ProcessEvent) -> Void
    ) async -> HostResult {
        let name = host.name
        do {
            switch host {
            case .local:
                let status = try await LocalCommand.run(command) { onEvent(name, $0) }
                onEvent(name, .exit(status))
                return .finished(status)
            case .ssh(let target):
                await limiter.acquire()
                let connection = try await client.connect(target)
                var status: ExitStatus?
                do {
                    for try await event in connection.exec(command) {
                        if case .exit(let s) = event { status = s }
                        onEvent(name, event)
                    }
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
                guard let status else {
                    return .notRun(CohortError(.noExitStatus, "the command ended without an exit status", host: name))
                }
                return .finished(status)
            }
        } catch let error as CohortError {
            return .notRun(error.with(host: name))
        } catch {
            return .notRun(CohortError(.sshFailure, "\(error)", host: name))
        }
    }
}

/// Counts and the process exit code for a finished run.
public struct RunSummary: Sendable {
    public var ok: [String] = []
    public var failed: [String] = []
    public var unreachable: [String] = []
    public var refused: [String] = []

    /// Hosts already sorted into their fates (copy and fetch tally their own).
    public init(ok: [String] = [], failed: [String] = [], unreachable: [String] = [], refused: [String] = []) {
        self.ok = ok
        self.failed = failed
        self.unreachable = unreachable
        self.refused = refused
    }

    public init(_ outcomes: [HostOutcome]) {
        for outcome in outcomes {
            switch outcome.result {
            case .finished(let status):
                if status.isSuccess { ok.append(outcome.host) } else { failed.append(outcome.host) }
            case .notRun(let error):
                if error.isSecurityRefusal { refused.append(outcome.host) } else { unreachable.append(outcome.host) }
            }
        }
    }

    /// The most serious outcome decides: refused (3) over unreachable (2) over failed (1).
    public var exitCode: CohortExitCode {
        if !refused.isEmpty { return .securityRefused }
        if !unreachable.isEmpty { return .unreachable }
        if !failed.isEmpty { return .commandFailed }
        return .ok
    }
}
