import CohortCore
@testable import CohortPlaybook
import CohortTemplate
import Testing

/// The strategies as pure state machines: which task runs next on which hosts, with no
/// host, worker or clock.
@Suite struct PlayStrategyTests {
    static func task(_ name: String, tags: [String] = []) -> TaskItem {
        var options = TaskOptions()
        options.tags = tags
        return .task(PlayTask(name: name, module: "debug", moduleAsWritten: "debug", args: Dict(), options: options, location: Location(file: "f", line: 1, column: 1)))
    }

    static func block(_ body: [TaskItem], rescue: [TaskItem] = [], always: [TaskItem] = []) -> TaskItem {
        .block(Block(name: nil, block: body, rescue: rescue, always: always, options: TaskOptions(), location: Location(file: "f", line: 1, column: 1)))
    }

    /// Runs the linear strategy to its end; `failing` says which (task, host) fail, `onStep`
    /// may act on the machine after each step. Returns "task:host,host" per step.
    static func linear(
        _ items: [TaskItem], hosts: [String], failing: Set<String> = [], tags: TagFilter = TagFilter(), startAt: String? = nil,
        onStep: (inout PlayStrategy, PlayStrategy.Step) -> Void = { _, _ in }
    ) -> [String] {
        var strategy = PlayStrategy(.linear, program: TaskProgram(items), hosts: hosts, tags: tags, startAt: startAt, skipping: startAt == nil ? [] : Set(hosts))
        var steps: [String] = []
        while let step = strategy.nextStep(among: hosts.filter { !strategy.failed($0) }) {
            steps.append(step.task.task.name! + ":" + step.hosts.joined(separator: ","))
            for host in step.hosts where failing.contains(step.task.task.name! + "@" + host) { strategy.fail(host) }
            onStep(&strategy, step)
        }
        return steps
    }

    @Test func linearHostsGoInLockstepAndARescueRunsWhileTheOthersWait() {
        let items = [Self.block([Self.task("a"), Self.task("b")], rescue: [Self.task("r")]), Self.task("c")]
        let steps = Self.linear(items, hosts: ["h1", "h2"], failing: ["a@h2"])
        // h1 runs b; h2, failed at a, runs r (numbered after b); both meet again at c.
        #expect(steps == ["a:h1,h2", "b:h1", "r:h2", "c:h1,h2"])
    }

    @Test func aFailedHostWithoutRescueRunsNothingMore() {
        let steps = Self.linear([Self.task("a"), Self.task("b")], hosts: ["h1", "h2"], failing: ["a@h1"])
        #expect(steps == ["a:h1,h2", "b:h2"])
    }

    @Test func linearRunsOneHostsIncludedTasksBeforeAnyHostGoesOn() {
        let steps = Self.linear([Self.task("inc"), Self.task("after")], hosts: ["h1", "h2"]) { strategy, step in
            guard step.task.task.name == "inc" else { return }
            let added = TaskProgram([Self.task("i1"), Self.task("i2")], prefix: step.task.number.path + [0, 0])
            strategy.splice("h2", added, options: TaskOptions(), at: Location(file: "f", line: 1, column: 1))
        }
        #expect(steps == ["inc:h1,h2", "i1:h2", "i2:h2", "after:h1,h2"])
    }

    @Test func tagsAndStartAtTaskPassTasksOver() {
        let items = [Self.task("a", tags: ["x"]), Self.task("b"), Self.task("c", tags: ["x"]), Self.task("d", tags: ["never", "x"]), Self.task("e", tags: ["always"])]
        #expect(Self.linear(items, hosts: ["h"], tags: TagFilter(only: ["x"])) == ["a:h", "c:h", "d:h", "e:h"])
        #expect(Self.linear(items, hosts: ["h"], tags: TagFilter(skip: ["x"])) == ["b:h", "e:h"])
        #expect(Self.linear(items, hosts: ["h"]) == ["a:h", "b:h", "c:h", "e:h"])
        #expect(Self.linear(items, hosts: ["h"], startAt: "c") == ["c:h", "e:h"])
        // Not met in this list: the hosts stay skipping, for the play's next list.
        var strategy = PlayStrategy(.linear, program: TaskProgram(items), hosts: ["h"], startAt: "zz", skipping: ["h"])
        #expect(strategy.nextStep(among: ["h"]) == nil && strategy.skipping == ["h"])
    }

    @Test func aFailureForcedOnAHostDropsTheTaskItWasWaitingAt() {
        // h1 ran a alone; then h1 waits at b while h2 runs a. Failing h1 from outside (as
        // another host's any_errors_fatal does) leaves its b unrun.
        var strategy = PlayStrategy(.linear, program: TaskProgram([Self.task("a"), Self.task("b")]), hosts: ["h1", "h2"])
        #expect(strategy.nextStep(among: ["h1"]).map { "\($0.task.task.name!):\($0.hosts)" } == "a:[\"h1\"]")
        #expect(strategy.nextStep(among: ["h1", "h2"]).map { "\($0.task.task.name!):\($0.hosts)" } == "a:[\"h2\"]")
        strategy.fail("h1")
        #expect(strategy.failed("h1"))
        #expect(strategy.nextStep(among: ["h1", "h2"]).map { "\($0.task.task.name!):\($0.hosts)" } == "b:[\"h2\"]")
        #expect(strategy.nextStep(among: ["h1", "h2"]) == nil)
    }

    @Test func freeHandsEachHostItsOwnNextTask() {
        let items = [Self.block([Self.task("a")], rescue: [Self.task("r")], always: [Self.task("z")]), Self.task("b")]
        var strategy = PlayStrategy(.free, program: TaskProgram(items), hosts: ["fast", "slow"])
        var fast: [String] = []
        while let task = strategy.next(for: "fast") {
            fast.append(task.task.name!)
            if task.task.name == "a" { strategy.fail("fast") }
        }
        // The fast host finished its list before the slow one took its first task.
        #expect(fast == ["a", "r", "z", "b"] && strategy.rescued("fast") == 1)
        #expect(strategy.next(for: "slow")?.task.name == "a")
        strategy.end("slow")
        #expect(strategy.next(for: "slow") == nil && !strategy.failed("slow"))
    }
}
