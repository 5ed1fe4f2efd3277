import CohortCore
import CohortSSH
import CohortWire
import Foundation

/// A fleet kept open across maps, as `multiprocessing.Pool` keeps its processes: every host's
/// connection(s), deployed worker and worker channels stay up between maps, and each map's
/// engine is lent the channels that are still alive. Channels are read by the pool for their
/// whole life and their frames routed to the engine of the map now running; what arrives
/// between maps (a late answer to a cancelled task) is dropped, and task ids never repeat
/// across maps (`MapEngine`'s id base), so nothing of one map can pass for another's.
actor FleetPool {
    private struct Channel {
        var host: String
        var link: any WorkerLink
        var handshake: CoordinatorHandshake
        var ready = false
        /// Its slot in the engine of the map now running.
        var slot: Int?
    }

    private let client: SSHClient
    private var hosts: [HostWorkers] = []
    private var failures: [(String, CohortError)] = []
    private var channels: [Int: Channel] = [:]
    /// Channel keys are never reused, not even after a shutdown: a reader of a channel closed
    /// then may still report on it, and must not land on a channel of the reopened fleet.
    private var nextChannel = 0
    private var opened = false
    /// Channels still shaking hands while the pool opens.
    private var unsettled = 0
    private var settled: CheckedContinuation<Void, Never>?
    private var engine: MapEngine?
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var nextID: UInt64 = 0
    /// What the last map's scheduler learned of these workers (task duration, round trip).
    private var observed: (taskNanos: Double, roundTripNanos: Double)?

    init(client: SSHClient = SSHClient()) {
        self.client = client
    }

    /// Task ids for a map of `count` tasks, never used before on these workers.
    func reserveIDs(_ count: Int) -> UInt64 {
        defer { nextID += UInt64(count) }
        return nextID
    }

    /// Lends every live channel to `engine` for one map; the first map opens the fleet (all
    /// hosts at once, each ready once its workers shook hands). One map at a time: a second
    /// waits for the first to be done. The hosts and settings are the first map's: those of
    /// later maps apply once the pool was shut down and opens again.
    func attach(_ engine: MapEngine, _ map: TaskMap) async {
        while self.engine != nil { await withCheckedContinuation { waiting.append($0) } }
        self.engine = engine
        await open(map)
        if let observed { await engine.setObserved(observed) }
        for (host, error) in failures { await engine.recordHostFailure(host, error) }
        // Slot ids are known here before any task goes out, so that no answer can arrive for a
        // channel whose slot is not yet set (frames for a channel without one are dropped).
        let lent = channels.sorted { $0.key < $1.key }.filter { $0.value.ready }
        let ids = await engine.addReadySlots(lent.map { ($0.value.host, $0.value.link) })
        for (index, id) in zip(lent.map(\.key), ids) { channels[index]?.slot = id }
        await engine.join(ids)
    }

    /// The map is over: its engine lets go of the channels, which stay up for the next.
    func detach() async {
        if let engine { observed = await engine.observed }
        for index in channels.keys { channels[index]?.slot = nil }
        engine = nil
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }

    /// Once the map running (if any) is done, tells every worker to leave and closes every
    /// connection; a later map opens the fleet again.
    func shutdown() async {
        while engine != nil { await withCheckedContinuation { waiting.append($0) } }
        defer { if !waiting.isEmpty { waiting.removeFirst().resume() } }
        for channel in channels.values {
            channel.link.send(Wire.encode(.shutdown(reason: "cluster shut down")))
            channel.link.closeInput()
        }
        for host in hosts { await host.close() }
        hosts = []
        channels = [:]
        failures = []
        opened = false
    }

    /// Only from `attach`, which lets one map in at a time: never two opens at once.
    private func open(_ map: TaskMap) async {
        guard !opened else { return }
        let (targets, worker) = (map.hosts, map.worker)
        let results = await Self.connect(targets, worker: worker, options: map.options, connectRate: map.connectionOptions.connectRate, client: client)
        for (offset, result) in results.enumerated() {
            switch result {
            case .success(let host):
                hosts.append(host)
                for channel in host.channels {
                    let index = nextChannel
                    nextChannel += 1
                    channels[index] = Channel(
                        host: host.name, link: channel.link,
                        handshake: CoordinatorHandshake(expectedOS: worker.os, expectedArch: worker.arch))
                    unsettled += 1
                    switch channel.events {
                    case .remote(let events): Task { await self.read(events, channel: index) }
                    case .local(let events): Task { await self.read(events, channel: index) }
                    }
                }
            case .failure(let error):
                failures.append((targets[offset].connection.name, error))
            }
        }
        if unsettled > 0 { await withCheckedContinuation { settled = $0 } }
        opened = true
    }

    /// Every host at once, each result in the order of `targets`.
    private nonisolated static func connect(
        _ targets: [(connection: HostConnection, slots: Int?)], worker: WorkerBinary, options: MapOptions, connectRate: Double?,
        client: SSHClient
    ) async -> [Result<HostWorkers, CohortError>] {
        let limiter = ConnectRateLimiter(perSecond: connectRate)
        return await withTaskGroup(of: (Int, Result<HostWorkers, CohortError>).self) { group in
            for (offset, target) in targets.enumerated() {
                let (host, slots) = target
                group.addTask {
                    do {
                        return (offset, .success(try await HostWorkers.open(
                            FleetHost(connection: host, slots: slots), worker: worker, slots: options.slotCount,
                            sessionsPerConnection: options.sessionsPerConnection, client: client, limiter: limiter)))
                    } catch {
                        return (offset, .failure(error as? CohortError ?? CohortError(.io, "\(error)", host: host.name)))
                    }
                }
            }
            var results: [(Int, Result<HostWorkers, CohortError>)] = []
            while let next = await group.next() { results.append(next) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func settle() {
        unsettled -= 1
        if unsettled == 0, let settled {
            self.settled = nil
            settled.resume()
        }
    }

    private func received(_ message: WireMessage, channel index: Int) async throws(WireError) {
        guard var channel = channels[index] else { return }
        if !channel.ready {
            if let refusal = WorkerChannel.answer(message, with: &channel.handshake, on: channel.link) {
                channels[index] = nil
                failures.append((channel.host, CohortError(.invalidInput, refusal, host: channel.host)))
            } else {
                channel.ready = true
                channels[index] = channel
            }
            settle()
            return
        }
        if let slot = channel.slot, let engine { try await engine.received(message, from: slot) }
    }

    private func ended(channel index: Int, reason: String, exited: Bool) async {
        guard let channel = channels.removeValue(forKey: index) else { return }
        if !channel.ready {
            failures.append((channel.host, CohortError(.sshFailure, reason, host: channel.host)))
            settle()
            return
        }
        if let slot = channel.slot, let engine { await engine.lost(slot, reason: reason, workerExited: exited) }
    }

    /// Decodes one worker channel for its whole life, routing frames to the map now running.
    private func read(_ events: some AsyncSequence<ProcessEvent, any Error>, channel index: Int) async {
        guard let link = channels[index]?.link else { return }
        let (reason, exited) = await WorkerChannel.decode(events, link: link) { try await received($0, channel: index) }
        await ended(channel: index, reason: reason, exited: exited)
    }
}
