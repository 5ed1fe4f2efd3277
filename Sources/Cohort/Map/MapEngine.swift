import CohortCore
import CohortScheduler
import CohortSSH
import CohortWire
import Foundation

/// The coordinator's heart for a map: turns worker messages into scheduler events and the
/// scheduler's actions into frames. All state lives in this actor; IO is done by the readers
/// (one task per worker channel) and by `WorkerLink.send`.
actor MapEngine {
    private struct SlotState {
        var host: String
        var number: Int
        var process: any WorkerLink
        var handshake: CoordinatorHandshake
        var ready = false
        /// Output of tasks running (or queued) on this slot, by task id.
        var outputs: [UInt64: (CapturedOutput, CapturedOutput)] = [:]
        var started: [UInt64: Date] = [:]
    }

    private struct Final {
        var frame: ResultFrame
        var host: String
        var slot: Int
        var stdout: CapturedOutput
        var stderr: CapturedOutput
        var startedAt: Date?
    }

    private var scheduler: Scheduler
    private var slots: [Int: SlotState] = [:]
    private var finals: [Int: Final] = [:]
    private var attempts: [Int: Int] = [:]
    private var pendingHosts: Int
    private var nextSlot = 1
    private var summary = MapSummary()
    private var waiter: CheckedContinuation<Void, Never>?
    private let render: @Sendable (Int, Int) -> [UInt8]
    private let kind: String
    private let graceMillis: UInt32
    private let onResult: @Sendable (MapResult) -> Void
    private let onEvent: @Sendable (MapEvent) -> Void
    private let binary: WorkerBinary
    private let clockStart = ContinuousClock.now
    private let halt: HaltPolicy?
    /// Actions produced while performing others (a halt), performed right after them.
    private var pendingActions: [Scheduler.Action] = []
    /// Where and why a task's worker last died under it (its own words: exit status, stderr),
    /// for the report of a task quarantined or abandoned.
    private var lastLoss: [Int: (host: String, slot: Int, reason: String)] = [:]
    /// The last slot or host that went, and why: what an abandoned task is told.
    private var lastGone: (host: String, reason: String)?
    /// Frame ids are `idBase + task`: workers kept across maps (a library cluster) may still
    /// answer a task of an earlier map, whose result must not pass for this map's task.
    private let idBase: UInt64
    private let taskCount: Int

    init(
        taskCount: Int, skip: TaskBitmap = TaskBitmap(), hosts: Int, retries: Int, timeout: Duration?, graceMillis: UInt32, kind: String,
        binary: WorkerBinary,
        render: @escaping @Sendable (Int, Int) -> [UInt8], onResult: @escaping @Sendable (MapResult) -> Void,
        onEvent: @escaping @Sendable (MapEvent) -> Void, halt: HaltPolicy? = nil, idBase: UInt64 = 0
    ) {
        self.halt = halt
        self.idBase = idBase
        self.taskCount = taskCount
        scheduler = Scheduler(taskCount: taskCount, skip: skip, retries: retries, timeoutNanos: timeout?.nanoseconds)
        pendingHosts = hosts
        self.render = render
        self.kind = kind
        self.graceMillis = graceMillis
        self.onResult = onResult
        self.onEvent = onEvent
        self.binary = binary
    }

    private var now: UInt64 { (ContinuousClock.now - clockStart).nanoseconds }

    // MARK: Lifecycle

    func waitUntilFinished() async -> MapSummary {
        if !scheduler.isFinished {
            await withCheckedContinuation { waiter = $0 }
        }
        return summary
    }

    func addSlot(host: String, process: any WorkerLink) -> Int {
        let id = nextSlot
        nextSlot += 1
        slots[id] = SlotState(
            host: host, number: id, process: process,
            handshake: CoordinatorHandshake(expectedOS: binary.os, expectedArch: binary.arch))
        return id
    }

    /// The scheduler's observed task duration and round trip, carried into the next map on
    /// the same workers (`FleetPool`).
    var observed: (taskNanos: Double, roundTripNanos: Double) { scheduler.observed }

    func setObserved(_ observed: (taskNanos: Double, roundTripNanos: Double)) { scheduler.observed = observed }

    /// Worker channels that already shook hands (kept from an earlier map): their slot ids,
    /// to route their frames by, before any task is sent to them (`join`).
    func addReadySlots(_ channels: [(host: String, process: any WorkerLink)]) -> [Int] {
        channels.map { channel in
            let id = addSlot(host: channel.host, process: channel.process)
            slots[id]!.ready = true
            return id
        }
    }

    /// The slots start taking tasks; the map's one pending "host" (the kept fleet) is settled.
    func join(_ ids: [Int]) {
        for id in ids where slots[id] != nil { perform(scheduler.slotJoined(id, now: now)) }
        hostSettled()
    }

    /// This map's task for a frame id, nil for a task of an earlier map on the same worker
    /// (answered late, after that map moved on: dropped). Frames for a task this slot was
    /// never given, or already answered, are a worker that cannot be trusted: its channel is
    /// closed and its tasks go elsewhere (`WireError.protocolViolation`).
    private func task(_ frameID: UInt64, of slot: SlotState, _ what: String) throws(WireError) -> Int? {
        guard frameID >= idBase else { return nil }
        guard frameID - idBase < UInt64(taskCount), slot.started[frameID] != nil else {
            throw .protocolViolation("\(what) for task \(frameID), which this worker was not running")
        }
        return Int(frameID - idBase)
    }

    func hostFailed(_ host: String, _ error: CohortError) {
        recordHostFailure(host, error)
        hostSettled()
    }

    /// A host that could not be opened, reported in this map's summary (a kept fleet's hosts
    /// that failed when it opened) without being one of the hosts it waits for.
    func recordHostFailure(_ host: String, _ error: CohortError) {
        summary.hostFailures.append((host, error))
        lastGone = (host, error.message)
        onEvent(.hostFailed(host: host, error: error))
    }

    func hostReady(_ host: String, slots: Int, uploaded: Bool) {
        onEvent(.hostReady(host: host, slots: slots, uploaded: uploaded))
        hostSettled()
    }

    func hostSettled() {
        pendingHosts -= 1
        abandonIfHopeless()
    }

    /// Every worker is told to leave; their channels then close.
    func shutdownAll() {
        for slot in slots.values {
            slot.process.send(Wire.encode(.shutdown(reason: "map finished")))
            slot.process.closeInput()
        }
    }

    // MARK: Events from workers

    func received(_ message: WireMessage, from id: Int) throws(WireError) {
        guard var slot = slots[id] else { return }
        if !slot.ready {
            if let refusal = WorkerChannel.answer(message, with: &slot.handshake, on: slot.process) {
                slots[id] = nil
                onEvent(.slotLost(host: slot.host, slot: id, reason: refusal))
                abandonIfHopeless()
            } else {
                slot.ready = true
                slots[id] = slot
                perform(scheduler.slotJoined(id, now: now))
            }
            return
        }
        switch message {
        case .output(let task, let stream, let bytes):
            guard try self.task(task, of: slot, "output") != nil else { return }
            let pair = slot.outputs[task] ?? (CapturedOutput(), CapturedOutput())
            if slot.outputs[task] == nil { slots[id]!.outputs[task] = pair }
            (stream == 1 ? pair.0 : pair.1).append(bytes)
        case .result(let frame):
            guard let task = try self.task(frame.taskID, of: slot, "a result") else { return }
            let pair = slots[id]!.outputs.removeValue(forKey: frame.taskID) ?? (CapturedOutput(), CapturedOutput())
            let started = slots[id]!.started.removeValue(forKey: frame.taskID)
            if Int(frame.attempt) == (attempts[task] ?? 0) {
                finals[task] = Final(frame: frame, host: slot.host, slot: id, stdout: pair.0, stderr: pair.1, startedAt: started)
            }
            perform(scheduler.resultArrived(
                slot: id, task: task, attempt: Int(frame.attempt), durationNanos: frame.durationNanos, now: now))
        case .heartbeat, .hello, .welcome, .task, .cancel, .shutdown, .data, .credit:
            break
        }
    }

    /// A slot's channel ended. `workerExited`: the worker process itself ended (it died, or was
    /// killed, while the connection stayed up), as opposed to the connection or host going.
    func lost(_ id: Int, reason: String, workerExited: Bool = false) {
        // After the last result, channels closing is the normal end, not a loss.
        guard !scheduler.isFinished, let slot = slots.removeValue(forKey: id) else { return }
        lastGone = (slot.host, reason)
        let running = slot.ready ? scheduler.assigned(to: id).first : nil
        if let running { lastLoss[running.task] = (slot.host, id, reason) }
        if workerExited, let running {
            onEvent(.workerDied(host: slot.host, slot: id, task: running.task, reason: reason))
        } else {
            onEvent(.slotLost(host: slot.host, slot: id, reason: reason))
        }
        if slot.ready { perform(scheduler.slotLost(id, now: now)) }
        abandonIfHopeless()
    }

    func tick() {
        perform(scheduler.tick(now: now))
    }

    // MARK: Actions

    /// Nothing can run the remaining tasks once no host is still connecting and no slot is
    /// left (ready or still shaking hands).
    private func abandonIfHopeless() {
        guard pendingHosts <= 0, slots.isEmpty, !scheduler.isFinished else { return }
        perform(scheduler.abandonRemaining())
    }

    private func perform(_ actions: [Scheduler.Action]) {
        var actions = actions
        while !actions.isEmpty {
            performOnce(actions)
            actions = pendingActions
            pendingActions = []
        }
        if scheduler.isFinished, let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }

    private func performOnce(_ actions: [Scheduler.Action]) {
        for action in actions {
            switch action {
            case .assign(let id, let tasks):
                guard let slot = slots[id] else { continue }
                var bytes: [UInt8] = []
                for assignment in tasks {
                    attempts[assignment.task] = assignment.attempt
                    slots[id]!.started[idBase + UInt64(assignment.task)] = Date()
                    let frame = TaskFrame(
                        id: idBase + UInt64(assignment.task), attempt: UInt32(assignment.attempt), kind: kind,
                        payload: render(assignment.task, slot.number))
                    bytes += Wire.encode(.task(frame))
                }
                slot.process.send(bytes)
            case .cancel(let id, let task, _):
                slots[id]?.process.send(Wire.encode(.cancel(taskID: idBase + UInt64(task), graceMillis: graceMillis)))
            case .complete(let task, let attempt, let outcome):
                deliver(task: task, attempt: attempt, outcome: outcome)
            case .completeUnstarted(let tasks, let outcome):
                for task in tasks { deliver(task: task, attempt: 0, outcome: outcome) }
            }
        }
    }

    private func deliver(task: Int, attempt: Int, outcome: Scheduler.Outcome) {
        let final = finals.removeValue(forKey: task)
        attempts[task] = nil
        let status: MapStatus
        switch outcome {
        case .finished, .timedOut:
            guard let frame = final?.frame else {
                status = .lost("no result arrived")
                break
            }
            if outcome == .timedOut {
                status = .timedOut
            } else {
                switch frame.outcome {
                case .exited: status = .exited(frame.code)
                case .signaled: status = .signaled(frame.code)
                case .failedToStart: status = .failedToStart(frame.message)
                case .failed: status = .failed(frame.message)
                }
            }
        case .quarantined(let losses):
            let last = lastLoss[task].map { "; last on \($0.host): \($0.reason)" } ?? ""
            status = .lost("its worker died each of the \(losses) times it ran (quarantined)\(last)")
        case .abandoned:
            let last = lastLoss[task].map { " (it was running on \($0.host): \($0.reason))" }
                ?? lastGone.map { " (the last to go was \($0.host): \($0.reason))" } ?? ""
            status = .lost("no host was left to run it\(last)")
        case .halted:
            status = .halted
        case .cancelledByHalt:
            // Told to stop by the halt: halted, unless it had already ended on its own.
            if let frame = final?.frame, frame.outcome == .exited {
                status = .exited(frame.code)
            } else {
                status = .halted
            }
        }
        switch status {
        case .exited(0): summary.succeeded += 1
        case .timedOut: summary.timedOut += 1
        case .lost: summary.lost += 1
        case .halted: summary.halted += 1
        default: summary.failed += 1
        }
        // Without a result, the task is placed where its worker last died under it.
        let loss = lastLoss.removeValue(forKey: task)
        onResult(MapResult(
            index: task, host: final?.host ?? loss?.host, slot: final?.slot ?? loss?.slot, status: status,
            stdout: final?.stdout ?? CapturedOutput(), stderr: final?.stderr ?? CapturedOutput(), startedAt: final?.startedAt,
            duration: .nanoseconds(Int64(final?.frame.durationNanos ?? 0)), attempts: attempt + 1,
            message: final?.frame.message ?? "", payload: final?.frame.payload ?? []))
        checkHalt(after: status, on: final?.slot)
    }

    /// Stops the run as `--halt now` does, for a reason of the caller's (its output cannot be
    /// written): nothing new starts, running tasks are cancelled, every task still ends once.
    func stop(reason: String) {
        guard summary.haltReason == nil, !scheduler.isFinished else { return }
        summary.haltReason = reason
        onEvent(.halting(reason: reason, now: true))
        perform(scheduler.halt(cancelRunning: true))
    }

    private func checkHalt(after status: MapStatus, on slot: Int?) {
        guard let halt, summary.haltReason == nil, !status.isSuccess, status != .halted else { return }
        let failed = summary.failed + summary.timedOut + summary.lost
        let ended = failed + summary.succeeded
        guard halt.trips(failed: failed, ended: ended) else { return }
        summary.haltReason = "--halt: \(failed) of \(ended) ended tasks failed"
        onEvent(.halting(reason: summary.haltReason!, now: halt.now))
        pendingActions += scheduler.halt(cancelRunning: halt.now, failedOn: slot)
    }
}
