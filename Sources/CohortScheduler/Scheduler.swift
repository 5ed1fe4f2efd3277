/// Spreads tasks over worker slots, pull-based, as a pure state machine: events in, actions out.
///
/// Each slot (one worker process, one core) runs its tasks one at a time, in the order it got
/// them, and holds a small prefetched queue so that tiny tasks are not dominated by round
/// trips. The queue depth adapts: about one round trip's worth of tasks, from the observed
/// task durations and round trips, between 1 and `maxDepth`, and never more than a fair share
/// of what is left. Every task ends exactly once: a result counts only for the task's current
/// attempt, and only once.
public struct Scheduler: Sendable {
    public typealias TaskID = Int
    public typealias SlotID = Int

    public enum Action: Sendable, Equatable {
        /// Send these tasks (with their attempt numbers) to the slot, in this order.
        case assign(slot: SlotID, tasks: [Assignment])
        /// Stop this task (its time is up, or the run halts now); its result still comes back.
        case cancel(slot: SlotID, task: TaskID, attempt: Int)
        /// The task's final outcome; emitted exactly once per task.
        case complete(task: TaskID, attempt: Int, outcome: Outcome)
        /// The same for each of these tasks, none of which ever started (attempt 0): what a halt
        /// or the loss of every slot leaves, given as a range, not as one action per task.
        case completeUnstarted(UnstartedTasks, outcome: Outcome)
    }

    public struct Assignment: Sendable, Equatable {
        public var task: TaskID
        public var attempt: Int
    }

    public enum Outcome: Sendable, Equatable {
        /// The worker reported a result (success or not is the caller's business).
        case finished
        /// Cancelled after `timeout`.
        case timedOut
        /// Its slot died while it ran, more often than `retries` allows.
        case quarantined(losses: Int)
        /// No slot is left to run it (see `abandonRemaining`).
        case abandoned
        /// Never started: the run was halted (see `halt`).
        case halted
        /// Its worker was told to stop it because the run halted; a result did come back (the
        /// caller tells from it whether the task was stopped or had already ended).
        case cancelledByHalt
    }

    /// A task handed out and not yet ended. Tasks never handed out have no state: memory
    /// follows what is in flight, not the task count.
    private struct TaskState {
        var attempt = 0
        var losses = 0
        var timedOut = false
        var cancelledByHalt = false
    }

    private struct Slot {
        /// Assigned and not finished, in order: the first one is running.
        var queue: [Assignment] = []
        var headStarted: UInt64 = 0
        var sentAt: [TaskID: UInt64] = [:]
        var cancelled = false
    }

    public let retries: Int
    public let timeoutNanos: UInt64?
    public let maxDepth: Int
    public let taskCount: Int
    /// Tasks not to run (done in an earlier run): never handed out, never completed.
    private let skip: TaskBitmap
    /// Tasks handed out and not ended (on a slot, or given back by a lost one).
    private var active = ActiveTasks<TaskState>()
    /// Tasks given back by lost slots, handed out before fresh ones (they waited longest).
    private var requeued: [TaskID] = []
    private var requeuedHead = 0
    /// The lowest task never handed out (those below it in `skip` aside).
    private var nextFresh = 0
    private var slots: [SlotID: Slot] = [:]
    /// Slots left short of their depth because nothing was pending: the only ones that tasks
    /// given back by a lost slot can go to at once (the others are full until their next result).
    private var starved: Set<SlotID> = []
    /// The same slots in the order they went short, longest first (entries for slots no longer
    /// starved are skipped when met): they get given-back tasks in that order.
    private var starvedOrder: [SlotID] = []
    private var starvedHead = 0
    private var remaining: Int
    private var halted = false
    /// Moving averages feeding the queue depth.
    private var meanTaskNanos: Double = 0
    private var meanRoundTripNanos: Double = 1_000_000

    public init(taskCount: Int, skip: TaskBitmap = TaskBitmap(), retries: Int = 2, timeoutNanos: UInt64? = nil, maxDepth: Int = 64) {
        self.retries = retries
        self.timeoutNanos = timeoutNanos
        self.maxDepth = maxDepth
        self.taskCount = max(0, taskCount)
        self.skip = skip
        remaining = self.taskCount - skip.count(in: 0..<self.taskCount)
    }

    /// What the queue depth is sized from: the mean task duration and round trip observed.
    /// A fleet kept across maps passes them on, so that a new map's first tasks go out in
    /// round-trip-sized batches instead of in twos while the averages are learned again.
    public var observed: (taskNanos: Double, roundTripNanos: Double) {
        get { (meanTaskNanos, meanRoundTripNanos) }
        set {
            meanTaskNanos = max(0, newValue.taskNanos)
            meanRoundTripNanos = max(0, newValue.roundTripNanos)
        }
    }

    public var isFinished: Bool { remaining == 0 }
    public var unfinishedCount: Int { remaining }
    public var slotCount: Int { slots.count }
    /// Tasks currently assigned to a slot.
    public func assigned(to slot: SlotID) -> [Assignment] { slots[slot]?.queue ?? [] }

    // MARK: Events

    public mutating func slotJoined(_ slot: SlotID, now: UInt64) -> [Action] {
        slots[slot] = Slot()
        return fill(slot, now: now)
    }

    /// A result for `task`'s `attempt` arrived from `slot`, having run for `durationNanos`.
    public mutating func resultArrived(
        slot: SlotID, task: TaskID, attempt: Int, durationNanos: UInt64, now: UInt64
    ) -> [Action] {
        // Taken out of the dictionary while it changes, so that its queue is not copied on write.
        guard var state = slots.removeValue(forKey: slot) else { return [] }
        guard let index = state.queue.firstIndex(where: { $0.task == task && $0.attempt == attempt }) else {
            slots[slot] = state
            return []  // a stale result: an earlier attempt, or a slot already given up on
        }
        state.queue.remove(at: index)
        if let sent = state.sentAt.removeValue(forKey: task), now > sent {
            let roundTrip = Double(now - sent) - Double(durationNanos)
            if roundTrip > 0 { meanRoundTripNanos = 0.8 * meanRoundTripNanos + 0.2 * roundTrip }
        }
        meanTaskNanos = meanTaskNanos == 0 ? Double(durationNanos) : 0.8 * meanTaskNanos + 0.2 * Double(durationNanos)
        if index == 0 {
            state.headStarted = now
            state.cancelled = false
        }
        slots[slot] = state
        var actions: [Action] = []
        if let state = active[task], state.attempt == attempt {
            active[task] = nil
            remaining -= 1
            let outcome: Outcome = state.timedOut ? .timedOut : state.cancelledByHalt ? .cancelledByHalt : .finished
            actions.append(.complete(task: task, attempt: attempt, outcome: outcome))
        }
        return actions + fill(slot, now: now)
    }

    /// The slot's worker or host is gone: its running task counts a loss, the rest go back.
    public mutating func slotLost(_ slot: SlotID, now: UInt64) -> [Action] {
        guard let state = slots.removeValue(forKey: slot) else { return [] }
        starved.remove(slot)
        var actions: [Action] = []
        var givenBack: [TaskID] = []
        for (position, assignment) in state.queue.enumerated() {
            let task = assignment.task
            guard var taskState = active[task] else { continue }
            if position == 0 {
                taskState.losses += 1
                // Ended on the attempt that was running: `attempt + 1` is how many times it ran.
                if taskState.timedOut || taskState.losses > retries {
                    active[task] = nil
                    remaining -= 1
                    let outcome: Outcome = taskState.timedOut ? .timedOut : .quarantined(losses: taskState.losses)
                    actions.append(.complete(task: task, attempt: assignment.attempt, outcome: outcome))
                    continue
                }
            }
            if halted {
                active[task] = nil
                remaining -= 1
                actions.append(.complete(task: task, attempt: assignment.attempt, outcome: .halted))
                continue
            }
            taskState.attempt += 1
            active[task] = taskState
            givenBack.append(task)
        }
        if halted { return actions }
        // Re-run them first: they have waited longest.
        requeued.replaceSubrange(requeuedHead..<requeuedHead, with: givenBack)
        // Only starved slots can take them now, and only until they are gone: filling every
        // slot (or even sorting the starved ones) made a loss cost O(slots), and 1% of 160,000
        // slots lost took 89 s of decisions in bench/micro. The one idle longest goes first.
        while hasPending(), starvedHead < starvedOrder.count {
            let id = starvedOrder[starvedHead]
            starvedHead += 1
            // Taken off first: if it is still short after this, it goes to the back.
            guard starved.remove(id) != nil else { continue }
            actions += fill(id, now: now)
        }
        if starvedHead > 1024, starvedHead * 2 > starvedOrder.count {
            starvedOrder.removeFirst(starvedHead)
            starvedHead = 0
        }
        return actions
    }

    /// Time has passed: cancels tasks that ran past the timeout.
    public mutating func tick(now: UInt64) -> [Action] {
        guard let timeoutNanos else { return [] }
        var actions: [Action] = []
        for (id, state) in slots.sorted(by: { $0.key < $1.key }) {
            guard let head = state.queue.first, !state.cancelled, now >= state.headStarted + timeoutNanos else { continue }
            slots[id]!.cancelled = true
            active[head.task]?.timedOut = true
            actions.append(.cancel(slot: id, task: head.task, attempt: head.attempt))
        }
        return actions
    }

    /// When `tick` next has something to do.
    public func nextDeadline() -> UInt64? {
        guard let timeoutNanos else { return nil }
        return slots.values.filter { !$0.queue.isEmpty && !$0.cancelled }.map { $0.headStarted + timeoutNanos }.min()
    }

    // MARK: Internals

    /// How many tasks a slot should hold: about one round trip's worth.
    public var depth: Int {
        guard meanTaskNanos > 0 else { return 2 }
        let wanted = Int((meanRoundTripNanos / meanTaskNanos).rounded(.up)) + 1
        let fairShare = max(1, (remaining + max(1, slots.count) - 1) / max(1, slots.count))
        return max(1, min(wanted, maxDepth, fairShare))
    }

    private mutating func fill(_ slot: SlotID, now: UInt64) -> [Action] {
        let target = depth
        guard var state = slots.removeValue(forKey: slot) else { return [] }
        var batch: [Assignment] = []
        var exhausted = false
        while state.queue.count < target {
            guard let task = takePending() else {
                exhausted = true
                break
            }
            let assignment = Assignment(task: task, attempt: active[task]!.attempt)
            if state.queue.isEmpty { state.headStarted = now }
            state.queue.append(assignment)
            state.sentAt[task] = now
            batch.append(assignment)
        }
        if exhausted {
            if starved.insert(slot).inserted { starvedOrder.append(slot) }
        } else {
            starved.remove(slot)
        }
        slots[slot] = state
        return batch.isEmpty ? [] : [.assign(slot: slot, tasks: batch)]
    }

    /// Stops the run early (`--halt`): no task starts any more, those not yet sent end
    /// `.halted`, those prefetched on a slot are cancelled before they start; with
    /// `cancelRunning` the running ones are cancelled too, else they run to their end (but on
    /// `failedSlot`, whose head started after the failure). Every
    /// cancelled task still has its result come back and ends `.cancelledByHalt`.
    public mutating func halt(cancelRunning: Bool, failedOn failedSlot: SlotID? = nil) -> [Action] {
        var actions = endPending(.halted)
        halted = true
        // Prefetched tasks wait on their worker unstarted: they are taken back in both modes (as
        // GNU parallel starts nothing after `soon`); `now` stops the running ones too. On the
        // slot whose task just failed, the head started after that failure (the worker goes on
        // to its next task at once), so it is stopped as well.
        for id in slots.keys.sorted() {
            let stopHead = cancelRunning || id == failedSlot
            if stopHead { slots[id]!.cancelled = true }
            for (position, assignment) in slots[id]!.queue.enumerated() where stopHead || position > 0 {
                active[assignment.task]?.cancelledByHalt = true
                actions.append(.cancel(slot: id, task: assignment.task, attempt: assignment.attempt))
            }
        }
        return actions
    }

    /// Ends every unfinished task as `.abandoned`: the caller knows no slot is left or coming.
    public mutating func abandonRemaining() -> [Action] {
        // Handed out and not ended (the caller knows no slot holds them any more), in order;
        // then those never handed out, all numbered above them.
        var actions: [Action] = []
        for (task, state) in active.sorted {
            remaining -= 1
            actions.append(.complete(task: task, attempt: state.attempt, outcome: .abandoned))
        }
        active.removeAll()
        requeued = []
        requeuedHead = 0
        return actions + endPending(.abandoned)
    }

    /// Ends every task waiting to be handed out with `outcome`: those given back one by one,
    /// the fresh ones as one range.
    private mutating func endPending(_ outcome: Outcome) -> [Action] {
        var actions: [Action] = []
        for task in requeued[requeuedHead...] {
            guard let state = active.removeValue(forKey: task) else { continue }
            remaining -= 1
            actions.append(.complete(task: task, attempt: state.attempt, outcome: outcome))
        }
        requeued = []
        requeuedHead = 0
        let unstarted = UnstartedTasks(range: min(nextFresh, taskCount)..<taskCount, skip: skip)
        nextFresh = taskCount
        let count = unstarted.count
        if count > 0 {
            remaining -= count
            actions.append(.completeUnstarted(unstarted, outcome: outcome))
        }
        return actions
    }

    /// Whether a task waits to be handed out (a given-back one may have ended meanwhile: then
    /// `takePending` finds nothing, which only costs a look).
    private mutating func hasPending() -> Bool {
        while nextFresh < taskCount, skip.contains(nextFresh) { nextFresh += 1 }
        return requeuedHead < requeued.count || nextFresh < taskCount
    }

    /// The next task to hand out: a given-back one first, else the next fresh one.
    private mutating func takePending() -> TaskID? {
        while requeuedHead < requeued.count {
            let task = requeued[requeuedHead]
            requeuedHead += 1
            if requeuedHead > 1024, requeuedHead * 2 > requeued.count {
                requeued.removeFirst(requeuedHead)
                requeuedHead = 0
            }
            if active[task] != nil { return task }
        }
        while nextFresh < taskCount, skip.contains(nextFresh) { nextFresh += 1 }
        guard nextFresh < taskCount else { return nil }
        let task = nextFresh
        nextFresh += 1
        active[task] = TaskState()
        return task
    }
}
