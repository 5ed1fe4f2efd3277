import CohortCore
import CohortScheduler
import CohortSSH
import CohortWire
import Foundation
import Synchronization

/// Settings of a map run.
public struct MapOptions: Sendable {
    /// Worker processes per host; nil means the host's core count (or its `cohort_slots`).
    public var slotCount: SlotCount?
    /// `slotCount` as a plain number of workers.
    public var slots: Int? {
        get { if case .exactly(let count)? = slotCount { count } else { nil } }
        set { slotCount = newValue.map { .exactly($0) } }
    }
    /// Worker channels per SSH connection. sshd refuses channels beyond its `MaxSessions`
    /// (10 unless configured), so a host with more slots gets one more connection per this
    /// many workers.
    public var sessionsPerConnection = 10
    /// How often a task may be re-run after its worker or host died while running it.
    public var retries = 2
    /// Per-task limit: TERM to its process group, `grace`, then KILL; the result is `.timedOut`.
    public var timeout: Duration?
    public var grace: Duration = .seconds(2)
    /// Stop early after failures (`--halt`).
    public var halt: HaltPolicy?
    /// Task indices not to run (`--resume` from a joblog).
    public var skip = TaskBitmap()
    /// Where finished tasks are recorded; those it already holds are skipped.
    public var journal: Journal?
    /// Lets the caller stop the run (its output cannot be written, say): as `--halt now`.
    public var stop: MapStop?

    /// Every task this run will not start: `skip` and what the journal holds.
    public var alreadyDone: TaskBitmap { journal.map { skip.union($0.finished) } ?? skip }

    public init() {}
}

/// Spreads tasks over every core of a fleet (`cohort map`): one SSH connection per host (per
/// ten workers), one worker process per core on its own channel, results streamed back as
/// tasks finish.
public struct TaskMap: Sendable {
    public var hosts: [(connection: HostConnection, slots: Int?)]
    public var connectionOptions: ConnectionOptions
    public var options: MapOptions
    public var worker: WorkerBinary
    private let client: SSHClient

    public init(
        hosts: [(connection: HostConnection, slots: Int?)], connectionOptions: ConnectionOptions, options: MapOptions,
        worker: WorkerBinary, client: SSHClient = SSHClient()
    ) {
        self.hosts = hosts
        self.connectionOptions = connectionOptions
        self.options = options
        self.worker = worker
        self.client = client
    }

    /// Runs `count` shell tasks; `command(index, slot)` gives task `index`'s command line for the
    /// 1-based slot that runs it. Each task's result reaches `onResult` exactly once, from the
    /// engine's actor (serially).
    public func run(
        count: Int, command: @escaping @Sendable (Int, Int) -> String,
        onResult: @escaping @Sendable (MapResult) -> Void, onEvent: @escaping @Sendable (MapEvent) -> Void = { _ in }
    ) async -> MapSummary {
        await run(count: count, kind: "shell", payload: { Array(command($0, $1).utf8) }, onResult: onResult, onEvent: onEvent)
    }

    /// Runs `count` tasks of a worker task kind; `payload(index, slot)` is what the kind gets.
    public func run(
        count: Int, kind: String, payload: @escaping @Sendable (Int, Int) -> [UInt8],
        onResult: @escaping @Sendable (MapResult) -> Void, onEvent: @escaping @Sendable (MapEvent) -> Void = { _ in }
    ) async -> MapSummary {
        await run(count: count, kind: kind, payload: payload, on: nil, onResult: onResult, onEvent: onEvent)
    }

    /// The same on the workers of `pool` when given (kept open before and after), else on a
    /// fleet opened for this map and closed at its end.
    func run(
        count: Int, kind: String, payload: @escaping @Sendable (Int, Int) -> [UInt8], on pool: FleetPool?,
        onResult: @escaping @Sendable (MapResult) -> Void, onEvent: @escaping @Sendable (MapEvent) -> Void = { _ in }
    ) async -> MapSummary {
        // Tasks done before are skipped where the scheduler hands tasks out: no list of the
        // tasks to run is made, so memory follows what is in flight, not the task count.
        let skipped = options.alreadyDone
        let journal = options.journal
        let idBase = await pool?.reserveIDs(count) ?? 0
        let engine = MapEngine(
            taskCount: count, skip: skipped, hosts: pool == nil ? hosts.count : 1, retries: options.retries, timeout: options.timeout,
            graceMillis: UInt32(options.grace.nanoseconds / 1_000_000), kind: kind, binary: worker,
            render: payload,
            onResult: { result in
                if let journal, let word = result.status.journalWord {
                    do { try journal.record(result.index, status: word) } catch {
                        onEvent(.journalFailed(error as? CohortError ?? CohortError(.io, "\(error)")))
                    }
                }
                onResult(result)
            },
            onEvent: onEvent, halt: options.halt, idBase: idBase)
        // Cancelling the task that runs the map stops it as `--halt now` does: nothing new
        // starts, running tasks are cancelled on their hosts, and this returns once all stopped.
        let stop = options.stop ?? MapStop()
        return await withTaskCancellationHandler {
            await run(engine: engine, pool: pool, stop: stop, journal: journal, skipped: skipped.count(in: 0..<count))
        } onCancel: {
            stop.request("the map was cancelled")
        }
    }

    private func run(engine: MapEngine, pool: FleetPool?, stop: MapStop, journal: Journal?, skipped: Int) async -> MapSummary {
        let limiter = ConnectRateLimiter(perSecond: connectionOptions.connectRate)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                if let reason = stop.reason { await engine.stop(reason: reason) }
                await engine.tick()
                journal?.sync()
            }
        }
        var fleet: [HostWorkers] = []
        if let pool {
            await pool.attach(engine, self)
        } else {
            fleet = await withTaskGroup(of: [HostWorkers].self) { group in
                for (host, slots) in hosts {
                    group.addTask { await setUp(host, slots: slots, engine: engine, limiter: limiter) }
                }
                return await group.reduce(into: [HostWorkers]()) { $0 += $1 }
            }
        }
        var summary = await engine.waitUntilFinished()
        ticker.cancel()
        journal?.sync()
        summary.skipped = skipped
        if let pool {
            // The workers stay up for the pool's next map.
            await pool.detach()
        } else {
            await engine.shutdownAll()
            for host in fleet { await host.close() }
        }
        return summary
    }

    private func setUp(_ host: HostConnection, slots: Int?, engine: MapEngine, limiter: ConnectRateLimiter) async -> [HostWorkers] {
        do {
            let workers = try await HostWorkers.open(
                FleetHost(connection: host, slots: slots), worker: worker, slots: options.slotCount,
                sessionsPerConnection: options.sessionsPerConnection, client: client, limiter: limiter)
            for channel in workers.channels {
                let id = await engine.addSlot(host: workers.name, process: channel.link)
                switch channel.events {
                case .remote(let events): Task { await Self.read(events, link: channel.link, slot: id, engine: engine) }
                case .local(let events): Task { await Self.read(events, link: channel.link, slot: id, engine: engine) }
                }
            }
            await engine.hostReady(workers.name, slots: workers.channels.count, uploaded: workers.uploaded)
            return [workers]
        } catch {
            await engine.hostFailed(host.name, error as? CohortError ?? CohortError(.io, "\(error)", host: host.name))
            return []
        }
    }

    /// Decodes one worker channel into the engine, and reports the slot lost when it ends.
    private static func read(
        _ events: some AsyncSequence<ProcessEvent, any Error>, link: any WorkerLink, slot: Int, engine: MapEngine
    ) async {
        let (reason, exited) = await WorkerChannel.decode(events, link: link) { try await engine.received($0, from: slot) }
        await engine.lost(slot, reason: reason, workerExited: exited)
    }
}

/// A request to stop a map early, set from any thread; the map checks it every 50 ms.
public final class MapStop: Sendable {
    private let state = Mutex<String?>(nil)

    public init() {}

    /// Why the run was asked to stop; nil while it was not.
    public var reason: String? { state.withLock { $0 } }

    /// Asks the run to stop; the first reason given is the one reported.
    public func request(_ reason: String) {
        state.withLock { if $0 == nil { $0 = reason } }
    }
}
