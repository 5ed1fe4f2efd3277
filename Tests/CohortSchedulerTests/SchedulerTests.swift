import CohortTestSupport
import Testing

@testable import CohortScheduler

/// Drives a scheduler the way the coordinator does, checking its promises as it goes.
struct Harness {
    var scheduler: Scheduler
    var now: UInt64 = 0
    var completions: [Int: [Scheduler.Outcome]] = [:]
    var queues: [Int: [Scheduler.Assignment]] = [:]
    var cancels: [(Int, Int)] = []
    var ranOn: [Int: Set<Int>] = [:]

    init(_ scheduler: Scheduler) { self.scheduler = scheduler }

    mutating func apply(_ actions: [Scheduler.Action]) {
        for action in actions {
            switch action {
            case .assign(let slot, let tasks):
                queues[slot, default: []] += tasks
                for t in tasks { ranOn[t.task, default: []].insert(slot) }
            case .cancel(let slot, let task, _):
                cancels.append((slot, task))
            case .complete(let task, _, let outcome):
                completions[task, default: []].append(outcome)
            case .completeUnstarted(let tasks, let outcome):
                for task in tasks { completions[task, default: []].append(outcome) }
            }
        }
    }

    mutating func join(_ slot: Int) { apply(scheduler.slotJoined(slot, now: now)) }

    /// The slot's worker finishes its running task (the head of its queue).
    mutating func finishHead(_ slot: Int, duration: UInt64 = 1_000) {
        guard let head = queues[slot]?.first else { return }
        queues[slot]!.removeFirst()
        now += duration + 500
        apply(scheduler.resultArrived(slot: slot, task: head.task, attempt: head.attempt, durationNanos: duration, now: now))
    }

    mutating func lose(_ slot: Int) {
        queues[slot] = nil
        apply(scheduler.slotLost(slot, now: now))
    }
}

@Suite struct SchedulerTests {
    @Test func everyTaskCompletesOnceAcrossSlots() {
        var h = Harness(Scheduler(taskCount: 100))
        for slot in 0..<4 { h.join(slot) }
        while !h.scheduler.isFinished {
            for slot in 0..<4 { h.finishHead(slot) }
        }
        #expect(h.completions.count == 100)
        #expect(h.completions.values.allSatisfy { $0 == [.finished] })
        #expect(Set(h.ranOn.values.flatMap { $0 }) == [0, 1, 2, 3])
    }

    @Test func aLostSlotsTasksRunElsewhereAndStaleResultsAreIgnored() {
        var h = Harness(Scheduler(taskCount: 10, retries: 2))
        h.join(0)
        h.join(1)
        let stranded = h.queues[0]!
        #expect(!stranded.isEmpty)
        h.lose(0)
        // A result from the dead slot's old attempt arrives late: it must not count.
        let late = h.scheduler.resultArrived(slot: 0, task: stranded[0].task, attempt: stranded[0].attempt, durationNanos: 1, now: 99)
        #expect(late.isEmpty)
        while !h.scheduler.isFinished { h.finishHead(1) }
        #expect(h.completions.count == 10)
        #expect(h.completions.values.allSatisfy { $0 == [.finished] })
        for assignment in stranded { #expect(h.ranOn[assignment.task] == [0, 1]) }
    }

    @Test func aTaskThatKeepsKillingItsWorkerIsQuarantined() {
        var h = Harness(Scheduler(taskCount: 1, retries: 2))
        for slot in 0..<4 { h.join(slot) }
        // Each loss hands the task to the next slot, until it has killed 3 (retries + 1).
        for slot in 0..<3 {
            #expect(h.queues[slot]?.first?.task == 0, "slot \(slot) runs the task")
            h.lose(slot)
        }
        #expect(h.completions[0] == [.quarantined(losses: 3)])
        #expect(h.scheduler.isFinished)
        #expect(h.queues[3]?.isEmpty ?? true)
    }

    @Test func timeoutsCancelTheRunningTaskAndReportTimedOut() {
        var h = Harness(Scheduler(taskCount: 2, timeoutNanos: 1_000_000))
        h.join(0)
        let head = h.queues[0]!.first!
        #expect(h.scheduler.nextDeadline() == 1_000_000)
        h.apply(h.scheduler.tick(now: 999_999))
        #expect(h.cancels.isEmpty)
        h.now = 1_000_000
        h.apply(h.scheduler.tick(now: h.now))
        #expect(h.cancels.count == 1 && h.cancels[0] == (0, head.task))
        h.apply(h.scheduler.tick(now: 2_000_000))
        #expect(h.cancels.count == 1, "a task is cancelled once")
        h.finishHead(0)
        #expect(h.completions[head.task] == [.timedOut])
        while !h.scheduler.isFinished { h.finishHead(0) }
        #expect(h.completions.values.filter { $0 == [.finished] }.count == 1)
    }

    @Test func tinyTasksDeepenTheQueueAndLongOnesKeepItShallow() {
        var tiny = Scheduler(taskCount: 10_000)
        _ = tiny.slotJoined(0, now: 0)
        var now: UInt64 = 0
        for _ in 0..<50 {
            guard let head = tiny.assigned(to: 0).first else { break }
            now += 1_050_000
            _ = tiny.resultArrived(slot: 0, task: head.task, attempt: head.attempt, durationNanos: 50_000, now: now)
        }
        #expect(tiny.depth > 10)
        var long = Scheduler(taskCount: 10_000)
        _ = long.slotJoined(0, now: 0)
        now = 0
        for _ in 0..<20 {
            guard let head = long.assigned(to: 0).first else { break }
            now += 200_000_000
            _ = long.resultArrived(slot: 0, task: head.task, attempt: head.attempt, durationNanos: 199_000_000, now: now)
        }
        #expect(long.depth <= 2)
    }

    /// A kept fleet hands the last map's averages to the next map's scheduler: its first
    /// fill is then sized for tiny tasks at once, where a fresh scheduler starts at 2.
    @Test func whatOneMapLearnedSizesTheNextMapsFirstFill() {
        var first = Scheduler(taskCount: 10_000)
        _ = first.slotJoined(0, now: 0)
        var now: UInt64 = 0
        for _ in 0..<50 {
            guard let head = first.assigned(to: 0).first else { break }
            now += 1_050_000
            _ = first.resultArrived(slot: 0, task: head.task, attempt: head.attempt, durationNanos: 50_000, now: now)
        }
        var fresh = Scheduler(taskCount: 64)
        _ = fresh.slotJoined(0, now: 0)
        #expect(fresh.assigned(to: 0).count == 2)
        var seeded = Scheduler(taskCount: 64)
        seeded.observed = first.observed
        _ = seeded.slotJoined(0, now: 0)
        #expect(seeded.assigned(to: 0).count > 10)
        #expect(seeded.observed.taskNanos == first.observed.taskNanos)
    }

    @Test func withNoSlotLeftEveryUnfinishedTaskIsAbandonedOnce() {
        var h = Harness(Scheduler(taskCount: 5))
        h.join(0)
        h.finishHead(0)
        h.lose(0)
        #expect(!h.scheduler.isFinished, "the caller may still bring slots")
        h.apply(h.scheduler.abandonRemaining())
        #expect(h.scheduler.isFinished)
        #expect(h.completions.count == 5)
        #expect(h.completions.values.filter { $0 == [.abandoned] }.count == 4)
    }

    @Test func haltSoonLetsRunningTasksFinishAndTakesPrefetchedOnesBack() {
        var h = Harness(Scheduler(taskCount: 10))
        h.join(0)
        h.join(1)
        let onZero = h.queues[0]!.map(\.task)
        let onOne = h.queues[1]!.map(\.task)
        #expect(onZero.count > 1, "the test needs prefetched tasks")
        h.apply(h.scheduler.halt(cancelRunning: false))
        // As GNU parallel's `soon`: nothing starts after the halt, not even what a worker holds.
        #expect(Set(h.cancels.map(\.1)) == Set(onZero.dropFirst() + onOne.dropFirst()))
        #expect(h.completions.count == 10 - onZero.count - onOne.count)
        #expect(h.completions.values.allSatisfy { $0 == [.halted] })
        h.lose(1)  // a lost slot's tasks are not re-queued after a halt
        while !(h.queues[0] ?? []).isEmpty { h.finishHead(0) }
        #expect(h.scheduler.isFinished)
        #expect(h.completions[onZero[0]] == [.finished], "the running task ran to its end")
        #expect(onZero.dropFirst().allSatisfy { h.completions[$0] == [.cancelledByHalt] })
        #expect(onOne.allSatisfy { h.completions[$0] == [.halted] })
        #expect(h.completions.count == 10)
    }

    @Test func haltNowCancelsEveryHeldTask() {
        var h = Harness(Scheduler(taskCount: 10))
        h.join(0)
        let held = h.queues[0]!.map(\.task)
        h.apply(h.scheduler.halt(cancelRunning: true))
        #expect(h.cancels.map(\.1) == held)
        while !(h.queues[0] ?? []).isEmpty { h.finishHead(0) }
        #expect(h.scheduler.isFinished)
        #expect(held.allSatisfy { h.completions[$0] == [.cancelledByHalt] })
        #expect(h.completions.values.allSatisfy { $0 == [.cancelledByHalt] || $0 == [.halted] })
    }

    @Test func aQuarantinedTaskEndsOnTheAttemptThatLastRan() {
        var scheduler = Scheduler(taskCount: 1, retries: 2)
        var final: (attempt: Int, outcome: Scheduler.Outcome)?
        for slot in 0..<3 {
            _ = scheduler.slotJoined(slot, now: 0)
            for case .complete(_, let attempt, let outcome) in scheduler.slotLost(slot, now: 0) { final = (attempt, outcome) }
        }
        // Three runs (attempts 0, 1 and 2), each killing its worker: quarantined on attempt 2.
        #expect(final?.attempt == 2)
        #expect(final?.outcome == .quarantined(losses: 3))
    }

    /// Random joins, results, losses and ticks: every task still ends exactly once.
    @Test(arguments: 1...20)
    func randomEventsNeverLoseOrDuplicateATask(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let count = Int(rng.next() % 300) + 1
        var h = Harness(Scheduler(taskCount: count, retries: 2, timeoutNanos: rng.next() % 2 == 0 ? 50_000 : nil))
        var nextSlot = 0
        for _ in 0..<3 {
            h.join(nextSlot)
            nextSlot += 1
        }
        var steps = 0
        while !h.scheduler.isFinished, steps < 100_000 {
            steps += 1
            let live = h.queues.keys.sorted()
            switch rng.next() % 20 {
            case 0 where live.count > 1:
                h.lose(live[Int(rng.next() % UInt64(live.count))])
            case 1:
                h.join(nextSlot)
                nextSlot += 1
            case 2:
                h.now += rng.next() % 100_000
                h.apply(h.scheduler.tick(now: h.now))
            default:
                if let slot = live.randomElement(using: &rng) { h.finishHead(slot, duration: rng.next() % 20_000) }
            }
        }
        #expect(h.scheduler.isFinished)
        #expect(h.completions.count == count)
        #expect(h.completions.values.allSatisfy { $0.count == 1 })
    }
}

/// Memory follows what is in flight, not the task count: tasks are handed out from a cursor,
/// skipped ones never handed out, and a halt ends the unstarted ones as one range.
@Suite struct SchedulerStreamingTests {
    @Test func skippedTasksAreNeverHandedOutNorCompleted() {
        var h = Harness(Scheduler(taskCount: 10, skip: TaskBitmap([0, 3, 4, 9])))
        #expect(h.scheduler.unfinishedCount == 6)
        h.join(1)
        while !h.scheduler.isFinished { h.finishHead(1) }
        #expect(h.completions.keys.sorted() == [1, 2, 5, 6, 7, 8])
        #expect(h.completions.values.allSatisfy { $0 == [.finished] })
    }

    @Test func aHaltEndsAHundredMillionUnstartedTasksAsOneRange() {
        var scheduler = Scheduler(taskCount: 100_000_000, skip: TaskBitmap([5, 99_999_999]))
        var assigned: [Scheduler.Assignment] = []
        for case .assign(_, let tasks) in scheduler.slotJoined(1, now: 0) { assigned += tasks }
        #expect(assigned.map(\.task) == [0, 1])
        let actions = scheduler.halt(cancelRunning: false)
        var unstarted: UnstartedTasks?
        for case .completeUnstarted(let tasks, .halted) in actions { unstarted = tasks }
        #expect(unstarted?.range == 2..<100_000_000)
        #expect(unstarted?.count == 99_999_996)
        #expect(unstarted.map { Array($0.prefix(5)) } == [2, 3, 4, 6, 7])
        // The prefetched one is taken back; the running one ends with its result.
        #expect(actions.contains(.cancel(slot: 1, task: 1, attempt: 0)))
        #expect(scheduler.unfinishedCount == 2)
    }

    @Test func givenBackTasksRunFirstAndAbandonEndsEveryOneOnce() {
        var h = Harness(Scheduler(taskCount: 6, retries: 5))
        h.join(1)
        h.join(2)
        let lostOnOne = h.queues[1]!.map(\.task)
        h.lose(1)
        // The lost slot's tasks go to slot 2 before any fresh task.
        h.finishHead(2)
        #expect(h.queues[2]!.contains { lostOnOne.contains($0.task) }, "\(lostOnOne) \(h.queues)")
        h.lose(2)
        h.apply(h.scheduler.abandonRemaining())
        #expect(h.scheduler.isFinished)
        #expect((0..<6).allSatisfy { h.completions[$0]?.count == 1 }, "\(h.completions)")
    }

    @Test func bitmapCountsAndUnions() {
        var bitmap = TaskBitmap([1, 64, 65, 200])
        #expect(bitmap.count == 4 && bitmap.count(in: 0..<65) == 2 && bitmap.count(in: 64..<201) == 3)
        bitmap.remove(64)
        #expect(!bitmap.contains(64) && bitmap.count == 3 && !bitmap.contains(-1) && !bitmap.contains(1 << 40))
        let union = bitmap.union(TaskBitmap([2, 1000]))
        #expect(union.count == 5 && union.contains(1000) && union.contains(1))
    }
}

/// The scheduler's table of tasks out: an array window with a dictionary for stragglers must
/// answer exactly as a dictionary would, whatever the order tasks end in.
@Suite struct ActiveTasksTests {
    @Test(arguments: 1...10)
    func behavesAsADictionary(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var table = ActiveTasks<Int>(windowLimit: 8)
        var model: [Int: Int] = [:]
        var next = 0
        for _ in 0..<5_000 {
            switch rng.next() % 6 {
            case 0, 1:
                // Handed out in rising order, sometimes past a gap (tasks skipped as done).
                next += rng.next() % 10 == 0 ? Int(rng.next() % 200) : 1
                table[next] = next * 10
                model[next] = next * 10
            case 2, 3:
                if let task = model.keys.randomElement(using: &rng) {
                    #expect(table.removeValue(forKey: task) == model.removeValue(forKey: task))
                }
            case 4:
                if let task = model.keys.randomElement(using: &rng) {
                    table[task] = -task
                    model[task] = -task
                }
            default:
                let probe = Int(rng.next() % UInt64(next + 2))
                #expect(table[probe] == model[probe], "task \(probe)")
            }
        }
        #expect(table.sorted.map(\.task) == model.keys.sorted())
        #expect(table.sorted.map(\.state) == model.keys.sorted().map { model[$0]! })
    }
}
