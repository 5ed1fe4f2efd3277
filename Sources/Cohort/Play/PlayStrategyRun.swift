import CohortCore
import CohortPlaybook
import CohortTemplate

/// Drives a task list through the play's `PlayStrategy`: the pure machine says what runs
/// next, this runs it on the hosts' workers and tells each result back.
extension PlayRunner {
    /// How this play's lists run: `free` (and `host_pinned`, which is free with hosts kept to
    /// their worker slots: every host has its own worker here) lets each host go at its own
    /// pace; anything else is linear.
    var strategyKind: PlayStrategy.Kind { play.strategy == "free" || play.strategy == "host_pinned" ? .free : .linear }

    mutating func runList(_ program: TaskProgram) async {
        var strategy = PlayStrategy(
            strategyKind, program: program, hosts: active, tags: TagFilter(only: run.options.tags, skip: run.options.skipTags),
            playTags: play.tags, startAt: run.options.startAtTask, skipping: stillSkipping)
        var tally = RescueTally(before: Dictionary(uniqueKeysWithValues: active.map { ($0, states[$0]!.recap.rescued) }))
        switch strategy.kind {
        case .linear: await runLinear(&strategy, &tally)
        case .free: await runFree(&strategy, &tally)
        }
        stillSkipping = strategy.skipping
    }

    /// The rescues each host entered, for the recap: those before this list, and those that
    /// another host's `any_errors_fatal` forced (not counted, as in Ansible).
    struct RescueTally {
        var before: [String: Int]
        var forced: [String: Int] = [:]

        func count(_ name: String, _ strategy: PlayStrategy) -> Int { (before[name] ?? 0) + strategy.rescued(name) - (forced[name] ?? 0) }
    }

    /// One host's result into the strategy and its state. Returns the files a dynamic include
    /// added (spliced by the caller, which prints them for all hosts at once) and the `meta`
    /// action the task asked for.
    private mutating func record(
        _ outcome: TaskOutcome, of scheduled: ScheduledTask, on name: String, link: TaskLink?, quiet: Bool,
        _ strategy: inout PlayStrategy, _ tally: RescueTally
    ) -> (includes: [IncludeInstance]?, meta: String?) {
        if scheduled.task.isDynamicInclude, outcome.status == .ok || outcome.status == .changed {
            return (Self.instances(outcome, scheduled.task), nil)
        }
        let rescued = strategy.failureWouldBeRescued(name)
        if outcome.status == .failed, !outcome.ignored {
            strategy.fail(name)
            if rescued {
                // What a rescue section reads, as Ansible sets it (non-persistent facts).
                let task = scheduled.task
                states[name]!.variables.setFacts["ansible_failed_result"] = outcome.result
                states[name]!.variables.setFacts["ansible_failed_task"] = [
                    "name": .string(task.name ?? ""), "action": .string(task.moduleAsWritten), "args": .dict(task.args),
                ]
            }
        }
        if !quiet || outcome.status == .failed {
            apply(outcome, scheduled.task, to: name, rescued: rescued, factsTo: factsTarget(scheduled, for: name, link: link))
        }
        states[name]!.recap.rescued = tally.count(name, strategy)
        if outcome.meta == "end_host" {
            states[name]!.ended = true
            strategy.end(name)
        }
        return (nil, outcome.meta)
    }

    /// The linear strategy: each step runs the first task (in program order) that some host
    /// is at, on every host that is at it, and waits for all of them.
    private mutating func runLinear(_ strategy: inout PlayStrategy, _ tally: inout RescueTally) async {
        while let step = strategy.nextStep(among: active) {
            let (scheduled, group) = (step.task, step.hosts)
            // meta tasks print and count nothing, as in ansible-playbook.
            let quiet = scheduled.task.module == "meta"
            if !quiet { emit(.task(title: title(of: scheduled, on: group[0]), handler: false)) }
            // pause and add_host run once, for the first host, as Ansible's (they bypass the
            // host loop).
            let runOnce = self.runOnce(scheduled, on: group[0])
            let targets = ["pause", "add_host"].contains(scheduled.task.module) || runOnce ? [group[0]] : group
            let links = await links(for: scheduled, on: targets)
            let outcomes = await execute(scheduled, on: targets, quiet: quiet, links: links)
            var meta: String?
            var includes: [String: [IncludeInstance]] = [:]
            for (name, outcome) in outcomes {
                let recorded = record(outcome, of: scheduled, on: name, link: links[name], quiet: quiet, &strategy, tally)
                if let added = recorded.includes { includes[name] = added }
                if let action = recorded.meta { meta = action }
            }
            if !includes.isEmpty { splice(includes, after: scheduled, hosts: group, strategy: &strategy) }
            // group_by and add_host changed the inventory: `groups` read again once per task.
            if ["group_by", "add_host"].contains(scheduled.task.module) { groups = Self.groups(of: run.inventory) }
            if runOnce, let (first, outcome) = outcomes.first {
                // The first host's result is every host's (register, set_fact); its failure
                // stops them all, as in Ansible's linear strategy.
                for other in hosts where other != first && !states[other]!.unreachable {
                    if let register = scheduled.task.register { states[other]!.variables.setFacts[register] = outcome.result }
                    for (key, value) in outcome.facts { states[other]!.variables.setFacts[key] = value }
                }
                if outcome.status == .failed, !outcome.ignored { for other in group where other != first { strategy.fail(other) } }
            }
            run.progress.update(group.map { states[$0]!.recap })
            let failedNow = outcomes.filter { ($0.1.status == .failed && !$0.1.ignored) || $0.1.status == .unreachable }.map(\.0)
            if !failedNow.isEmpty, anyErrorsFatal(scheduled, on: group[0]) {
                // One host's failure fails every other host, as Ansible's linear strategy: each
                // runs its rescue if it has one (not counted as rescued) and, rescued or not, no
                // later play.
                for name in active where !failedNow.contains(name) {
                    if strategy.failureWouldBeRescued(name) { tally.forced[name, default: 0] += 1 }
                    strategy.fail(name)
                    states[name]!.recap.rescued = tally.count(name, strategy)
                    failedByOthers.insert(name)
                }
            }
            for name in group where strategy.failed(name) { fail(name) }
            if let percent = play.maxFailPercentage, !outcomes.isEmpty {
                // Ansible's count: every host failed so far in the run, over this batch's size.
                let before = states.values.filter { $0.failedInEarlierPlay && !$0.unreachable && !hosts.contains($0.name) }.count
                let failed = before + hosts.filter { states[$0]!.failed && !states[$0]!.unreachable }.count
                if Double(failed) / Double(hosts.count) > percent / 100 {
                    for name in active { fail(name) }
                    // Twice, as ansible-playbook prints it: once for the percentage, once as
                    // no host is left.
                    emit(.noHostsRemaining)
                    emit(.noHostsRemaining)
                    breakPlay = true
                    return
                }
            }
            switch meta {
            case "flush_handlers": await flushHandlers()
            case "end_play": endPlay(&strategy)
            default: break
            }
        }
    }

    private mutating func endPlay(_ strategy: inout PlayStrategy) {
        for name in active {
            states[name]!.ended = true
            strategy.end(name)
        }
    }

    /// The free strategy: every idle host starts its own next task (`--forks` and `throttle`
    /// at most at once) and goes on as soon as its result is in. As in Ansible's, `run_once`
    /// runs on every host, and `any_errors_fatal` and `max_fail_percentage` do nothing (the
    /// loader warned of each); `meta: flush_handlers` runs that host's handlers alone.
    private mutating func runFree(_ strategy: inout PlayStrategy, _ tally: inout RescueTally) async {
        var idle = active
        var held: [String: ScheduledTask] = [:]
        var runningTask: [TaskKey: Int] = [:]
        var lastBanner: TaskKey?
        let forks = run.options.forks ?? Int.max
        if play.maxFailPercentage != nil {
            emit(.warning("Using max_fail_percentage with the free strategy is not supported, as tasks are executed independently on each host"))
        }
        await withTaskGroup(of: (String, ScheduledTask, TaskOutcome, TaskLink?).self) { group in
            var running = 0
            while true {
                // Start every idle host that has a task, as slots allow.
                var blocked: [String] = []
                while running < forks, !idle.isEmpty {
                    let name = idle.removeFirst()
                    guard states[name]!.isActive, let scheduled = held.removeValue(forKey: name) ?? strategy.next(for: name) else { continue }
                    if let cap = throttle(of: scheduled, on: name), runningTask[scheduled.number, default: 0] >= cap {
                        held[name] = scheduled
                        blocked.append(name)
                        continue
                    }
                    if PlaybookLoader.bypassesHostLoop.contains(scheduled.task.module) {
                        // Only a dynamic include brings one here (the loader refuses the rest).
                        let message = "The '\(scheduled.task.module)' module bypasses the host loop, which is currently not supported in the free strategy"
                        emit(.task(title: title(of: scheduled, on: name), handler: false))
                        lastBanner = scheduled.number
                        emit(.result(host: name, outcome: TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": .string(message)])))
                        states[name]!.recap.failed += 1
                        strategy.fail(name)
                        if strategy.failed(name) { fail(name) }
                        idle.append(name)
                        continue
                    }
                    if scheduled.task.module != "meta" {
                        if runOnce(scheduled, on: name) {
                            emit(.warning("Using run_once with the free strategy is not currently supported. This task will still be executed for every host in the inventory list."))
                        }
                        if anyErrorsFatal(scheduled, on: name) {
                            emit(.warning("Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host"))
                        }
                    }
                    let links = await links(for: scheduled, on: [name])
                    guard let (_, executor) = executors(for: scheduled, on: [name], links: links).first else { continue }
                    runningTask[scheduled.number, default: 0] += 1
                    running += 1
                    let link = links[name]
                    group.addTask { (name, scheduled, await executor.run(), link) }
                }
                idle += blocked
                guard let (name, scheduled, outcome, link) = await group.next() else { break }
                running -= 1
                runningTask[scheduled.number, default: 1] -= 1
                let quiet = scheduled.task.module == "meta"
                let included = scheduled.task.isDynamicInclude && (outcome.status == .ok || outcome.status == .changed)
                // The banner comes with a result, when it is another task's than the last
                // printed (Ansible's default callback does so under the free strategy).
                if !quiet || outcome.status == .failed, !included, lastBanner != scheduled.number {
                    emit(.task(title: title(of: scheduled, on: name), handler: false))
                    lastBanner = scheduled.number
                }
                if !included, !quiet || outcome.status == .failed { emit(.result(host: name, outcome: outcome)) }
                let recorded = record(outcome, of: scheduled, on: name, link: link, quiet: quiet, &strategy, tally)
                if let added = recorded.includes {
                    splice([name: added], after: scheduled, hosts: [name], strategy: &strategy)
                    lastBanner = nil
                }
                if ["group_by", "add_host"].contains(scheduled.task.module) { groups = Self.groups(of: run.inventory) }
                if strategy.failed(name) { fail(name) }
                run.progress.update([states[name]!.recap])
                switch recorded.meta {
                case "flush_handlers":
                    await flushHandlers(only: [name])
                    lastBanner = nil
                case "end_play": endPlay(&strategy)
                default: break
                }
                idle.append(name)
            }
        }
    }
}
