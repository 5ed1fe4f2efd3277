import Benchmark
import CohortScheduler
import CohortWire

/// Frames per second through the codec, and scheduler decisions per second: the two pure
/// hot paths of a map, measured alone so that a regression in either shows up here first.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(3))

    // A task frame like `cohort map`'s: a short shell command line.
    let task = Wire.encode(.task(TaskFrame(id: 42, attempt: 0, kind: "shell", payload: Array("gzip -9 'access.log.17'".utf8))))
    let stream = Array((0..<1000).map { _ in task }.joined())

    Benchmark("decode 1,000 task frames", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = FrameDecoder()
            decoder.feed(stream)
            var count = 0
            while let _ = try decoder.next() { count += 1 }
            blackHole(count)
        }
    }

    Benchmark("encode a task frame", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(Wire.encode(.task(TaskFrame(id: UInt64(index), attempt: 0, kind: "shell", payload: Array("echo 1".utf8)))))
        }
    }

    // 10,000 tasks over 32 slots, each result answered at once: every decision the
    // coordinator makes for a map of tiny tasks, without any IO.
    Benchmark("schedule 10,000 tasks over 32 slots") { benchmark in
        for _ in benchmark.scaledIterations {
            var scheduler = Scheduler(taskCount: 10_000)
            var queues: [[Scheduler.Assignment]] = Array(repeating: [], count: 32)
            var now: UInt64 = 0
            func apply(_ actions: [Scheduler.Action]) {
                for case .assign(let slot, let tasks) in actions { queues[slot] += tasks }
            }
            for slot in 0..<32 { apply(scheduler.slotJoined(slot, now: now)) }
            while !scheduler.isFinished {
                for slot in 0..<32 where !queues[slot].isEmpty {
                    let head = queues[slot].removeFirst()
                    now += 1_000
                    apply(scheduler.resultArrived(slot: slot, task: head.task, attempt: head.attempt, durationNanos: 500, now: now))
                }
            }
            blackHole(scheduler.unfinishedCount)
        }
    }

    // docs/scale.md's ceiling, on paper: 10,000 hosts x 16 slots and 1,000,000 tasks, every
    // result answered at once and 1% of the slots lost halfway (their tasks re-queued). The
    // coordinator's pure decisions alone, so that a tree of gateways can be sized against them.
    Benchmark(
        "schedule 1,000,000 tasks over 10,000 hosts x 16 slots",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal], maxDuration: .seconds(20), maxIterations: 3)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let slots = 160_000
            var scheduler = Scheduler(taskCount: 1_000_000)
            var queues: [[Scheduler.Assignment]] = Array(repeating: [], count: slots)
            var alive = [Bool](repeating: true, count: slots)
            var now: UInt64 = 0
            func apply(_ actions: [Scheduler.Action]) {
                for case .assign(let slot, let tasks) in actions { queues[slot] += tasks }
            }
            for slot in 0..<slots { apply(scheduler.slotJoined(slot, now: now)) }
            var answered = 0
            while !scheduler.isFinished {
                for slot in 0..<slots where alive[slot] && !queues[slot].isEmpty {
                    let head = queues[slot].removeFirst()
                    now += 100
                    apply(scheduler.resultArrived(slot: slot, task: head.task, attempt: head.attempt, durationNanos: 50_000, now: now))
                    answered += 1
                    if answered == 500_000 {
                        for lost in stride(from: 0, to: slots, by: 100) {
                            alive[lost] = false
                            queues[lost] = []
                            apply(scheduler.slotLost(lost, now: now))
                        }
                    }
                }
            }
            blackHole(scheduler.unfinishedCount)
        }
    }
}

