import CohortCore
import CohortSSH
import CohortWire
import Foundation
import Logging

/// One worker channel of a host: frames go out through `link`, and come back, with how the
/// worker ended, through `events`.
struct WorkerChannel: Sendable {
    enum Events: Sendable {
        case remote(RemoteProcess)
        case local(AsyncThrowingStream<ProcessEvent, any Error>)
    }

    let link: any WorkerLink
    let events: Events

    /// Answers one frame of a worker's handshake on `link`: nil once the worker is accepted,
    /// else why it was refused (the refusal is sent and the channel closed).
    static func answer(_ message: WireMessage, with handshake: inout CoordinatorHandshake, on link: any WorkerLink) -> String? {
        switch handshake.receive(message) {
        case .accept(_, let reply):
            link.send(Wire.encode(reply))
            return nil
        case .refuse(let reason, let reply):
            link.send(Wire.encode(reply))
            link.closeInput()
            return reason
        }
    }

    /// Decodes the worker's frames into `onMessage` until the channel ends, and says why it
    /// ended: the worker's exit status with the last of its stderr, a corrupt frame or one
    /// `onMessage` refused (the channel is then closed), or the transport's error. `exited`: the worker process itself
    /// ended, as opposed to the connection going.
    static func decode(
        _ events: some AsyncSequence<ProcessEvent, any Error>, link: any WorkerLink, isolation: isolated (any Actor)? = #isolation,
        onMessage: (WireMessage) async throws -> Void
    ) async -> (reason: String, exited: Bool) {
        var decoder = FrameDecoder()
        var errors: [UInt8] = []
        var reason = "worker channel closed"
        var exited = false
        do {
            for try await event in events {
                switch event {
                case .stdout(let bytes):
                    decoder.feed(bytes)
                    while let message = try decoder.next() { try await onMessage(message) }
                case .stderr(let bytes):
                    errors = Array((errors + bytes).suffix(2048))
                case .exit(let status):
                    let said = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    reason = "worker ended (\(status))" + (said.isEmpty ? "" : ": \(said)")
                    exited = true
                }
            }
        } catch let error as WireError {
            reason = "\(error)"
            link.closeInput()
        } catch {
            reason = "\(error)"
        }
        return (reason, exited)
    }
}

/// One host of a running fleet: its SSH connection(s), more than one only where sshd's
/// `MaxSessions` forces it; its deployed worker; and its worker channels, one per slot. Both
/// kinds of consumer build on it: the pool scheduler of `cohort map` and the library, which
/// spreads tasks over every slot of every host, and the per-host, in-order drivers of
/// `cohort copy` and `cohort fetch` (and playbooks), which use one slot of each host.
struct HostWorkers: Sendable {
    let name: String
    let channels: [WorkerChannel]
    /// Whether the worker had to be uploaded (false: it was cached, or the host is local).
    let uploaded: Bool
    let connections: [SSHConnection]
    /// Starts one more worker like these (on the first connection, or here for a local host),
    /// for work that must not wait behind the slot's own: a playbook's background job.
    var spawn: (@Sendable () throws -> WorkerChannel)? = nil

    /// Connects (at the limiter's pace), deploys the worker and opens `slots` channels (the
    /// host's cores when nil; `+N`, `-N`, `N%` of them). Every connection is made before any channel is opened: a host
    /// is ready with all its slots, or it throws.
    static func open(
        _ host: FleetHost, worker: WorkerBinary, slots: SlotCount?, sessionsPerConnection: Int, client: SSHClient,
        limiter: ConnectRateLimiter
    ) async throws -> HostWorkers {
        guard case .ssh(let target) = host.connection else {
            // A local host: the worker runs here, one process per core, no deployment.
            let count = slots?.resolve(cores: ProcessInfo.processInfo.activeProcessorCount) ?? host.slots ?? ProcessInfo.processInfo.activeProcessorCount
            let spawn: @Sendable () throws -> WorkerChannel = {
                let local = try LocalWorker(executable: worker.path, arguments: worker.arguments)
                return WorkerChannel(link: local, events: .local(local.events))
            }
            let channels = try (0..<count).map { _ in try spawn() }
            return HostWorkers(name: host.name, channels: channels, uploaded: false, connections: [], spawn: spawn)
        }
        var connections: [SSHConnection] = []
        do {
            await limiter.acquire()
            connections.append(try await client.connect(target))
            let deployStarted = ContinuousClock.now
            let deployed = try await WorkerDeployer(binary: worker).deploy(on: connections[0], host: target.name)
            var logger = Logger(label: "cohort.fleet")
            logger[metadataKey: "host"] = "\(Printable.escaped(target.name))"
            logger.debug(
                "worker \(worker.sha256.prefix(12)) \(deployed.uploaded ? "uploaded (\(worker.bytes.count) bytes)" : "cached") in \(ContinuousClock.now - deployStarted); \(deployed.cores) cores")
            let count = slots?.resolve(cores: deployed.cores) ?? host.slots ?? deployed.cores
            let perConnection = max(1, sessionsPerConnection)
            while connections.count * perConnection < count {
                await limiter.acquire()
                connections.append(try await client.connect(target))
            }
            let channels = (0..<count).map { index in
                let process = connections[index / perConnection].open(deployed.command)
                return WorkerChannel(link: process, events: .remote(process.output))
            }
            let first = connections[0]
            let command = deployed.command
            return HostWorkers(
                name: host.name, channels: channels, uploaded: deployed.uploaded, connections: connections,
                spawn: {
                    let process = first.open(command)
                    return WorkerChannel(link: process, events: .remote(process.output))
                })
        } catch {
            for connection in connections { await connection.close() }
            if let error = error as? CohortError { throw error.with(host: target.name) }
            throw CohortError(.sshFailure, "\(error)", host: target.name)
        }
    }

    /// Closes the host's connections; channels still open end with a transport error.
    func close() async {
        for connection in connections { await connection.close() }
    }
}
