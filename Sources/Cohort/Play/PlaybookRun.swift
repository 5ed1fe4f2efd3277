import CohortCore
import CohortInventory
import CohortPlaybook
import CohortSSH
import CohortTemplate
import Foundation
import Synchronization

/// What a playbook run reports as it goes, in ansible-playbook's order.
public enum PlayEvent: Sendable {
    case play(name: String)
    case task(title: String, handler: Bool)
    case result(host: String, outcome: TaskOutcome)
    case noHosts
    /// `max_fail_percentage` was passed: ansible-playbook's `NO MORE HOSTS LEFT`.
    case noHostsRemaining
    /// `include_tasks`/`include_role` added `path` on `hosts` (for a loop's item `label`).
    case included(path: String, hosts: [String], label: String?)
    /// A play's host pattern names what is not in the inventory (as the play starts).
    case unmatchedPattern(String)
    /// A `[WARNING]:` line (the printer says each text once, as Ansible's display does).
    case warning(String)
    case recap([HostRecap])
}

/// The recap as the run goes, host by host in the order they were first met: what an
/// interrupted run prints.
public final class PlayProgress: Sendable {
    private let lines = Mutex<[HostRecap]>([])

    public init() {}

    public var snapshot: [HostRecap] { lines.withLock { $0 } }

    func publish(_ recap: [HostRecap]) { lines.withLock { $0 = recap } }

    func update(_ recap: [HostRecap]) {
        lines.withLock { current in
            for line in recap {
                if let index = current.firstIndex(where: { $0.host == line.host }) { current[index] = line } else { current.append(line) }
            }
        }
    }
}

/// One host's line of the PLAY RECAP.
public struct HostRecap: Sendable, Equatable {
    public var host: String
    /// Refused for security at connect (unknown or changed host key, authentication): counted
    /// as unreachable, as Ansible counts it, and exit code 3.
    public var refusedForSecurity = false
    /// Failed by another host's `any_errors_fatal` failure: not counted in `failed`, yet the
    /// run's exit code says a host failed, as ansible-playbook's does.
    public var failedUncounted = false
    public var ok = 0
    public var changed = 0
    public var unreachable = 0
    public var failed = 0
    public var skipped = 0
    public var rescued = 0
    public var ignored = 0
}

/// Runs a loaded playbook on its hosts, linear strategy: every host finishes a task before
/// any starts the next, hosts run a task at once, each through its one persistent worker.
public struct PlaybookRun: Sendable {
    public struct Options: Sendable {
        public var check = false
        public var diff = false
        public var limit: String?
        public var tags: [String] = []
        public var skipTags: [String] = []
        public var extraVars: [String: Value] = [:]
        /// Hosts with a task in flight at once; nil: all.
        public var forks: Int?
        public var startAtTask: String?
        public var forceHandlers = false
        /// `-v` counted: `debug` with a higher `verbosity` is skipped.
        public var verbosity = 0
        /// The ansible.cfg read (`ansible_config_file`).
        public var configFile: String?
        /// `--become`, `--become-user`, `--become-method` (and ansible.cfg's): below the
        /// playbook's keywords and variables.
        public var become: Bool?
        public var becomeUser: String?
        public var becomeMethod: String?
        /// `--ask-become-pass`: below `ansible_become_password`.
        public var becomePassword: String?
        public init() {}
    }

    /// The ansible-core release whose semantics `cohort play` follows (the oracle's, pinned in
    /// the Makefile), as `ansible_version` gives it.
    static let ansibleVersion: Value = ["full": "2.19.14", "major": 2, "minor": 19, "revision": 14, "string": "2.19.14"]

    /// What `omit` renders to: an argument that comes out as this is left out.
    public static let omit = "__omit_place_holder__cohort"

    let playbook: Playbook
    /// The inventory as it stands: `group_by` adds groups while the run goes on, as each
    /// host's result comes (its `changed` says whether that host's groups changed).
    let inventoryBox: InventoryBox
    var inventory: Inventory { inventoryBox.current }
    let options: Options
    /// The recap so far, for a run interrupted before its end.
    public let progress = PlayProgress()
    /// Jobs started by `async` tasks with `poll: 0`.
    let asyncJobs: AsyncJobs
    let connection: ConnectionOptions
    let worker: WorkerBinary
    let client: SSHClient

    public init(playbook: Playbook, inventory: Inventory, options: Options, connection: ConnectionOptions, worker: WorkerBinary, client: SSHClient = SSHClient()) {
        self.playbook = playbook
        inventoryBox = InventoryBox(inventory)
        self.options = options
        self.connection = connection
        self.worker = worker
        self.client = client
        asyncJobs = AsyncJobs(worker: worker)
    }

    struct HostState: Sendable {
        var name: String
        var link: (any PlayHostLink)?
        var session: HostSession?
        var variables = HostVariables()
        var notified: Set<String> = []
        var recap: HostRecap
        var unreachable = false
        /// Failed in this play (no more tasks, no handlers).
        var failed = false
        /// Failed (or unreachable) in a play before: no more plays, as Ansible's failed hosts.
        var failedInEarlierPlay = false
        var ended = false
        var startFailure: String?
        /// The login its session uses (nil: local), to tell when a play's remote_user needs
        /// another connection.
        var user: String?
    }

    /// Runs every play; the recap is also the last event.
    public func run(_ emit: @escaping @Sendable (PlayEvent) -> Void) async throws -> [HostRecap] {
        var states: [String: HostState] = [:]
        var order: [String] = []
        defer {
            let sessions = states.values.compactMap(\.session)
            Task { for session in sessions { await session.conversation.shutdown(); await session.workers.close() } }
        }
        var delegates = DelegateLinks()
        defer { delegates.closeAll() }
        var warned: Set<String> = []
        plays: for play in playbook.plays {
            if !play.hosts.contains("{{") {
                for term in HostPattern.unmatchedTerms(play.hosts, in: inventory) where !DelegateLinks.isImplicitLocal(term, in: inventory) {
                    if warned.insert(term).inserted { emit(.unmatchedPattern(term)) }
                }
            }
            var matched = Self.ordered(
                try FleetHosts.names(matching: play.hosts, limit: options.limit, allowEmpty: true, in: inventory), play.order)
            // Ansible's implicit localhost: a play naming it, with no such inventory host.
            if matched.isEmpty, DelegateLinks.isImplicitLocal(play.hosts, in: inventory), options.limit.map({ DelegateLinks.isImplicitLocal($0, in: inventory) }) ?? true {
                matched = [play.hosts]
            }
            if matched.isEmpty {
                emit(.play(name: play.name))
                emit(.noHosts)
                continue
            }
            // `serial`: the whole play once per batch, each under its own banner.
            for batch in SerialSize.batches(matched, play.serial) {
                emit(.play(name: play.name))
                // Hosts that failed or were unreachable before run no more; a batch left with
                // none prints its banner only, as ansible-playbook.
                let names = batch.filter { states[$0]?.unreachable != true && states[$0]?.failedInEarlierPlay != true }
                if names.isEmpty { continue }
                try await open(names, into: &states, order: &order, remoteUser: play.remoteUser)
                for name in names {
                    for (key, value) in delegates.facts.removeValue(forKey: name) ?? [:] { states[name]!.variables.setFacts[key] = value }
                }
                progress.publish(order.compactMap { states[$0]?.recap })
                for name in names {
                    states[name]!.failed = false
                    states[name]!.ended = false
                    states[name]!.variables.play = Dictionary(play.vars, uniquingKeysWith: { $1 })
                    for file in play.varsFiles { for (key, value) in file { states[name]!.variables.play[key] = value } }
                    for (key, value) in play.roleVars { states[name]!.variables.play[key] = value }
                    states[name]!.variables.roleDefaults = Dictionary(play.roleDefaults, uniquingKeysWith: { $1 })
                }
                var runner = PlayRunner(play: play, hosts: names, run: self, states: states, emit: emit)
                runner.delegates = delegates
                // ansible_play_hosts_all stays in inventory order whatever the play's `order`.
                let rank = Dictionary(inventory.hostOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                runner.playHostsAll = matched.sorted { (rank[$0] ?? 0) < (rank[$1] ?? 0) }
                await runner.runPlay()
                states = runner.states
                delegates = runner.delegates
                progress.publish(order.compactMap { states[$0]?.recap })
                let newlyFailed = names.filter { states[$0]!.failed || states[$0]!.unreachable || runner.failedByOthers.contains($0) }
                for name in runner.failedByOthers { states[name]!.recap.failedUncounted = true }
                for name in newlyFailed { states[name]!.failedInEarlierPlay = true }
                // Every host of the batch failed, or max_fail_percentage was passed: the
                // playbook stops here (Ansible's break_play).
                if newlyFailed.count == batch.count || runner.breakPlay { break plays }
            }
        }
        // The hosts' workers end with the run: background jobs finish first.
        await asyncJobs.waitAll()
        // Sorted by name, as ansible-playbook prints its recap.
        let recap = order.sorted().compactMap { states[$0]?.recap }
        emit(.recap(recap))
        return recap
    }

    /// The play's hosts in its `order` (`shuffle` is random, as in Ansible).
    static func ordered(_ hosts: [String], _ order: String) -> [String] {
        switch order {
        case "reverse_inventory": hosts.reversed()
        case "sorted": hosts.sorted()
        case "reverse_sorted": hosts.sorted().reversed()
        case "shuffle": hosts.shuffled()
        default: hosts
        }
    }

    /// Connects (all at once) to the hosts not yet connected; a host that cannot be reached is
    /// kept with its reason, reported at its first task.
    /// A play's `remote_user` is the login where the inventory sets no `ansible_user` (Ansible:
    /// variables over play keywords over `-u`); a host connected before as another user is
    /// connected again as this one.
    private func open(_ names: [String], into states: inout [String: HostState], order: inout [String], remoteUser: String? = nil) async throws {
        var options = connection
        if let remoteUser { options.user = remoteUser }
        var reconnect: [String] = []
        for name in names where states[name] != nil && states[name]!.user != nil && !states[name]!.unreachable {
            if case .ssh(let target)? = try FleetHosts.resolve([name], in: inventory, options: options).first?.connection, target.user != states[name]!.user {
                reconnect.append(name)
            }
        }
        for name in reconnect {
            if let session = states[name]!.session {
                await session.conversation.shutdown()
                await session.workers.close()
            }
        }
        let missing = names.filter { states[$0] == nil } + reconnect
        guard !missing.isEmpty else { return }
        let implicit = missing.filter { inventory.hosts[$0] == nil && DelegateLinks.isImplicitLocal($0, in: inventory) }
        let hosts = try FleetHosts.resolve(missing.filter { !implicit.contains($0) }, in: inventory, options: options)
            + implicit.map { FleetHost(connection: .local(name: $0)) }
        let limiter = ConnectRateLimiter(perSecond: connection.connectRate)
        let (worker, client) = (self.worker, self.client)
        let opened = await withTaskGroup(of: (String, Result<HostSession, any Error>).self) { group in
            for host in hosts {
                group.addTask {
                    do { return (host.name, .success(try await HostSession.open(host, worker: worker, client: client, limiter: limiter))) } catch {
                        return (host.name, .failure(error))
                    }
                }
            }
            var out: [String: Result<HostSession, any Error>] = [:]
            for await (name, result) in group { out[name] = result }
            return out
        }
        for host in hosts {
            let known = states[host.name] != nil
            var state = states[host.name] ?? HostState(name: host.name, recap: HostRecap(host: host.name))
            if !known {
                state.variables.inventory = Dictionary(inventory.variables(of: host.name).map { ($0.0, YAMLValues.convert($0.1)) }, uniquingKeysWith: { $1 })
                state.variables.extra = self.options.extraVars
            }
            if case .ssh(let target) = host.connection { state.user = target.user }
            state.session = nil
            state.link = nil
            state.startFailure = nil
            switch opened[host.name] {
            case .success(let session)?:
                state.session = session
                state.link = WorkerPlayHost(session: session)
            case .failure(let error)?:
                state.startFailure = (error as? CohortError)?.message ?? "\(error)"
                state.recap.refusedForSecurity = (error as? CohortError)?.isSecurityRefusal ?? false
            case nil:
                state.startFailure = "not connected"
            }
            states[host.name] = state
            if !known { order.append(host.name) }
        }
    }
}

/// One play's run: the per-host cursors, the linear lockstep, handlers and facts.
struct PlayRunner {
    let play: Play
    let hosts: [String]
    let run: PlaybookRun
    var states: [String: PlaybookRun.HostState]
    let emit: @Sendable (PlayEvent) -> Void
    let environment: Environment
    /// `groups`: the inventory's (`group_by` changes it).
    var groups: Value
    /// Hosts that have not yet met `--start-at-task`'s task.
    var stillSkipping: Set<String>
    /// Tasks files that includes with a templated name read as the play runs, by path.
    var includeCache: [String: Result<[TaskItem], CohortError>] = [:]
    /// Each included file's number, which tells apart the files hosts included at one task.
    var includeOrdinals: [String: Int] = [:]
    /// Sessions to the hosts tasks are delegated to (and the coordinator's own, for
    /// `connection: local`), kept for the whole run.
    var delegates = DelegateLinks()
    /// Every host the play matched (`ansible_play_hosts_all`), across its `serial` batches.
    var playHostsAll: [String] = []
    /// `max_fail_percentage` was passed: no more tasks, batches or plays.
    var breakPlay = false
    /// Hosts that another host's `any_errors_fatal` failure failed: no later play for them.
    var failedByOthers: Set<String> = []

    init(play: Play, hosts: [String], run: PlaybookRun, states: [String: PlaybookRun.HostState], emit: @escaping @Sendable (PlayEvent) -> Void) {
        self.play = play
        self.hosts = hosts
        self.run = run
        self.states = states
        self.emit = emit
        environment = PlayEnvironment.make(playbookDirectory: PlaybookPaths.absoluteDirectory(of: run.playbook.file))
        stillSkipping = run.options.startAtTask == nil ? [] : Set(hosts)
        groups = Self.groups(of: run.inventory)
    }

    static func groups(of inventory: Inventory) -> Value {
        var groups = Dict()
        for group in inventory.groupOrder { groups[group] = .list(inventory.hosts(in: group).map { .string($0) }) }
        return .dict(groups)
    }

    var active: [String] { hosts.filter { states[$0]!.isActive } }

    mutating func runPlay() async {
        if play.gatherFacts { await gatherFacts() }
        reportUnreachable()
        for list in [play.preTasks, play.tasks, play.postTasks] {
            await runList(TaskProgram(list))
            if breakPlay { return }
            await flushHandlers()
            if active.isEmpty { break }
        }
    }

    /// `any_errors_fatal` of the play, or of the task or a block around it (rendered with
    /// the first host's variables); never with `ignore_errors`.
    func anyErrorsFatal(_ scheduled: ScheduledTask, on host: String) -> Bool {
        let scope = scope(of: scheduled, on: host)
        func truth(_ value: Value?) -> Bool? { value.flatMap { try? scope.render($0) }.flatMap(PlaybookLoader.boolean) }
        let ignored = truth(scheduled.task.options.ignoreErrors ?? scheduled.blocks.reversed().lazy.compactMap(\.ignoreErrors).first) ?? false
        if ignored { return false }
        return truth(scheduled.task.options.anyErrorsFatal ?? scheduled.blocks.reversed().lazy.compactMap(\.anyErrorsFatal).first) ?? play.anyErrorsFatal
    }

    /// Hosts that could not be reached: `fatal: UNREACHABLE!` at their first task.
    private mutating func reportUnreachable() {
        for name in hosts {
            guard let reason = states[name]!.startFailure, !states[name]!.unreachable else { continue }
            if !play.gatherFacts { emit(.task(title: "(connecting)", handler: false)) }
            states[name]!.unreachable = true
            states[name]!.recap.unreachable += 1
            emit(.result(host: name, outcome: TaskOutcome(status: .unreachable, result: ["unreachable": true, "changed": false, "msg": .string(reason)])))
        }
    }

    private mutating func gatherFacts() async {
        let targets = active.filter { states[$0]!.link != nil }
        emit(.task(title: "Gathering Facts", handler: false))
        // `connection: local`: the coordinator's facts, as Ansible gathers them there.
        let local = play.connection == "local" ? await link(to: "localhost", shownAs: nil, local: true) : nil
        if let failure = local?.failure {
            for name in targets { markUnreachable(name, failure) }
            return
        }
        var links: [(String, any PlayHostLink)] = []
        for name in targets {
            var link = local?.link ?? states[name]!.link!
            // The play's become holds for the facts too (ansible_user_id, ansible_env…).
            do {
                if let request = try playBecomeRequest(on: name) {
                    let become = await becomeLink(for: name, base: local, request)
                    guard let found = become.link else {
                        if become.failsTask {
                            // sudo refused: the facts task fails on this host, as in Ansible.
                            states[name]!.recap.failed += 1
                            emit(.result(host: name, outcome: TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": .string(become.failure ?? "")])))
                            fail(name)
                        } else {
                            markUnreachable(name, become.failure ?? "become failed")
                        }
                        continue
                    }
                    link = found
                }
            } catch {
                markUnreachable(name, error.message)
                continue
            }
            links.append((name, link))
        }
        let answers = await withTaskGroup(of: (String, Result<Value, any Error>).self) { group in
            for (name, link) in links {
                group.addTask {
                    do { return (name, .success(try await FactCompletion.facts(link))) } catch {
                        return (name, .failure(error))
                    }
                }
            }
            var out: [(String, Result<Value, any Error>)] = []
            for await answer in group { out.append(answer) }
            return out
        }
        for (name, answer) in answers {
            switch answer {
            case .success(let facts):
                states[name]!.variables.facts = facts.dict ?? Dict()
                states[name]!.recap.ok += 1
                emit(.result(host: name, outcome: TaskOutcome(status: .ok, result: ["changed": false])))
            case .failure(let error):
                markUnreachable(name, (error as? CohortError)?.message ?? "\(error)")
            }
        }
    }

    private mutating func markUnreachable(_ name: String, _ reason: String) {
        states[name]!.unreachable = true
        states[name]!.recap.unreachable += 1
        emit(.result(host: name, outcome: TaskOutcome(status: .unreachable, result: ["unreachable": true, "changed": false, "msg": .string(reason)])))
    }

    /// The banner's title: a templated name rendered as Ansible renders it (with the first
    /// host's variables; left as written when it cannot be); `include_role : NAME`.
    func title(of scheduled: ScheduledTask, on host: String) -> String {
        let task = scheduled.task
        if task.module == "include_role", task.name == nil { return "include_role : " + (task.args["name"]?.pythonString ?? "") }
        guard let name = task.name, Template.isTemplate(name) else { return task.title }
        guard let rendered = try? scope(of: scheduled, on: host).text(.string(name)) else { return task.title }
        return (task.role.map { $0 + " : " } ?? "") + rendered
    }

    /// The variables a task sees on `host` (for what the runner renders before it runs:
    /// a banner's name, `run_once`, `delegate_to`, `connection`).
    func scope(of scheduled: ScheduledTask, on host: String) -> Scope {
        var variables = states[host]!.variables
        variables.magic = magic(for: host, shared: sharedMagic())
        let task = scheduled.task
        let layers = scheduled.blocks.map(\.vars) + [task.options.vars]
        let defaults = scheduled.blocks.map(\.roleDefaults) + [task.options.roleDefaults]
        return variables.scope(task: layers, defaults: defaults, environment: environment)
    }

    mutating func fail(_ name: String) {
        guard !states[name]!.failed else { return }
        states[name]!.failed = true
    }

    /// Runs one task on `names` at once (`--forks` at most), results in completion order.
    func execute(
        _ scheduled: ScheduledTask, on names: [String], quiet: Bool = false, links: [String: TaskLink] = [:]
    ) async -> [(String, TaskOutcome)] {
        let executors = executors(for: scheduled, on: names, links: links)
        let limit = max(1, min(run.options.forks ?? executors.count, throttle(of: scheduled, on: names.first) ?? Int.max))
        let emit = self.emit
        // A dynamic include's success is printed as `included: …` once every host answered.
        let include = scheduled.task.isDynamicInclude
        return await withTaskGroup(of: (String, TaskOutcome).self) { group in
            var queue = executors[...]
            var running = 0
            var out: [(String, TaskOutcome)] = []
            while running < limit, let (name, executor) = queue.popFirst() {
                group.addTask { (name, await executor.run()) }
                running += 1
            }
            for await (name, outcome) in group {
                let shown = !(include && (outcome.status == .ok || outcome.status == .changed))
                if shown, !quiet || outcome.status == .failed { emit(.result(host: name, outcome: outcome)) }
                out.append((name, outcome))
                if let (next, executor) = queue.popFirst() { group.addTask { (next, await executor.run()) } }
            }
            return out
        }
    }

    /// `throttle` (the task's, else a block's), rendered with `host`'s variables: how many
    /// hosts run the task at once, below --forks.
    func throttle(of scheduled: ScheduledTask, on host: String?) -> Int? {
        let value = scheduled.task.options.throttle ?? scheduled.blocks.reversed().lazy.compactMap(\.throttle).first
        return host.flatMap { first in value.flatMap { try? scope(of: scheduled, on: first).render($0) } }
            .flatMap { value -> Int? in if case .int(let n) = value, n > 0 { n } else if case .string(let t) = value { Int(t).flatMap { $0 > 0 ? $0 : nil } } else { nil } }
    }

    /// The task as each of `names` runs it, with what every host's variables are now.
    func executors(for scheduled: ScheduledTask, on names: [String], links: [String: TaskLink]) -> [(String, TaskExecutor)] {
        let allHosts = states
        let delegatedFacts = delegates.facts
        let inventory = run.inventory
        // Every inventory host, as in Ansible: those outside --limit or this play with their
        // inventory variables (they have no facts).
        let hostvars: @Sendable () -> Value = {
            var dict = Dict()
            for name in inventory.hosts(in: "all") {
                var vars = Dict()
                for (key, value) in inventory.variables(of: name) { vars[key] = YAMLValues.convert(value) }
                for (key, value) in delegatedFacts[name] ?? [:] { vars[key] = value }
                vars["inventory_hostname"] = .string(name)
                dict[name] = .dict(vars)
            }
            for (name, state) in allHosts {
                var vars = Dict()
                for (key, value) in state.variables.inventory { vars[key] = value }
                for (key, value) in state.variables.facts.pairs { vars["ansible_" + key.pythonString] = value }
                vars["ansible_facts"] = .dict(state.variables.facts)
                for (key, value) in state.variables.setFacts { vars[key] = value }
                vars["inventory_hostname"] = .string(name)
                dict[name] = .dict(vars)
            }
            return .dict(dict)
        }
        let shared = sharedMagic()
        return names.map { name in
            var variables = states[name]!.variables
            variables.magic = magic(for: name, shared: shared)
            return (name, TaskExecutor(
                scheduled: scheduled, play: play, variables: variables, link: links[name]?.link ?? states[name]!.link, options: run.options,
                environment: environment, hostvars: hostvars, delegate: links[name]?.shownAs, linkFailure: links[name]?.failure,
                linkFailsTask: links[name]?.failsTask ?? false, jobs: run.asyncJobs, inventory: run.inventoryBox, itemLinks: links[name]?.items))
        }
    }

    /// The magic variables every host of this step shares (computed once per step).
    func sharedMagic() -> [String: Value] {
        var magic: [String: Value] = [:]
        magic["groups"] = groups
        // The batch's hosts still in the play; the play's (every batch) less those that failed
        // or were unreachable, in this play or before; and every host it matched.
        let batch = Value.list(active.map { .string($0) })
        let all = playHostsAll.isEmpty ? hosts : playHostsAll
        // A host of another batch that failed already carries failedInEarlierPlay, so `failed`
        // alone speaks of this batch (no per-host search of the batch: this runs every step).
        let remaining = all.filter { name in
            guard let state = states[name] else { return true }
            return !state.failedInEarlierPlay && !state.unreachable && !state.failed
        }
        magic["play_hosts"] = batch
        magic["ansible_play_batch"] = batch
        magic["ansible_play_hosts"] = .list(remaining.map { .string($0) })
        magic["ansible_play_hosts_all"] = .list(all.map { .string($0) })
        magic["ansible_check_mode"] = .bool(run.options.check)
        magic["ansible_diff_mode"] = .bool(run.options.diff)
        magic["omit"] = .string(PlaybookRun.omit)
        magic["playbook_dir"] = .string(PlaybookPaths.absoluteDirectory(of: run.playbook.file))
        magic["ansible_play_name"] = .string(play.name)
        magic["ansible_run_tags"] = .list((run.options.tags.isEmpty ? ["all"] : run.options.tags).map { .string($0) })
        magic["ansible_skip_tags"] = .list(run.options.skipTags.map { .string($0) })
        magic["ansible_version"] = PlaybookRun.ansibleVersion
        return magic
    }

    /// The shared ones with this host's own.
    func magic(for name: String, shared: [String: Value]) -> [String: Value] {
        var magic = shared
        magic["inventory_hostname"] = .string(name)
        magic["inventory_hostname_short"] = .string(String(name.split(separator: ".").first ?? ""))
        magic["group_names"] = .list(run.inventory.allGroups(of: name).filter { $0 != "all" && $0 != "ungrouped" }.sorted().map { .string($0) })
        if let source = run.inventory.hosts[name]?.source {
            let file = PlaybookPaths.absolute(source)
            magic["inventory_file"] = .string(file)
            magic["inventory_dir"] = .string(PlaybookPaths.absoluteDirectory(of: file))
        }
        magic["ansible_config_file"] = run.options.configFile.map { .string(PlaybookPaths.absolute($0)) } ?? Value.none
        return magic
    }

    /// A host's result into its state: recap counts, facts, the registered result, handlers.
    mutating func apply(_ outcome: TaskOutcome, _ task: PlayTask, to name: String, rescued: Bool = false, factsTo: String? = nil) {
        switch outcome.status {
        case .unreachable:
            states[name]!.unreachable = true
            states[name]!.recap.unreachable += 1
            return
        case .skipped: states[name]!.recap.skipped += 1
        case .failed:
            if outcome.ignored {
                states[name]!.recap.ok += 1
                states[name]!.recap.ignored += 1
                if outcome.result.dict?["changed"]?.truthy == true { states[name]!.recap.changed += 1 }
            } else if !rescued {
                states[name]!.recap.failed += 1
            }
        case .changed:
            states[name]!.recap.ok += 1
            states[name]!.recap.changed += 1
        case .ok: states[name]!.recap.ok += 1
        }
        if task.module == "setup" || task.module == "gather_facts" {
            // Gathered facts, not set ones: `ansible_facts.X` and `ansible_X` both read them.
            let target = factsTo.flatMap { states[$0] != nil ? $0 : nil } ?? name
            for (key, value) in outcome.facts {
                states[target]!.variables.facts[key.hasPrefix("ansible_") ? String(key.dropFirst(8)) : key] = value
            }
        } else {
            give(outcome.facts, to: factsTo ?? name)
            // Another module's facts (package_facts, getent…) are host facts in Ansible, which
            // `ansible_facts.X` reads too; only set_fact's are not.
            let target = factsTo ?? name
            if task.module != "set_fact", states[target] != nil {
                for (key, value) in outcome.facts { states[target]!.variables.facts[key.hasPrefix("ansible_") ? String(key.dropFirst(8)) : key] = value }
            }
        }
        // Items delegated each to its own host with delegate_facts: each host gets its own.
        for (target, facts) in outcome.delegatedFacts {
            if task.module == "setup" || task.module == "gather_facts", states[target] != nil {
                for (key, value) in facts { states[target]!.variables.facts[key.hasPrefix("ansible_") ? String(key.dropFirst(8)) : key] = value }
            } else {
                give(facts, to: target)
            }
        }
        // include_vars follows delegate_facts too, as in Ansible.
        let varsTarget = factsTo.flatMap { states[$0] != nil ? $0 : nil } ?? name
        if factsTo != nil, varsTarget != factsTo { give(outcome.includedVars, to: factsTo!) }
        else { for (key, value) in outcome.includedVars { states[varsTarget]!.variables.included[key] = value } }
        if let register = task.register { states[name]!.variables.setFacts[register] = outcome.result }
        states[name]!.notified.formUnion(outcome.notify)
        if task.module == "group_by" { rereadInventoryVariables(of: name) }
    }

    /// Handlers notified so far, in the order they are defined, each once on the hosts that
    /// notified it (a failed host runs none unless `--force-handlers`).
    mutating func flushHandlers(only: Set<String>? = nil) async {
        for (index, item) in play.handlers.enumerated() {
            guard case .task(let handler) = item else { continue }
            let names = Set([handler.name].compactMap { $0 } + handler.listen)
            let due = hosts.filter { name in
                guard only?.contains(name) ?? true else { return false }
                let state = states[name]!
                guard !state.unreachable, !state.ended, !state.failed || run.options.forceHandlers else { return false }
                return !state.notified.isDisjoint(with: names)
            }
            guard !due.isEmpty else { continue }
            for name in due { states[name]!.notified.subtract(names) }
            let scheduled = ScheduledTask(number: TaskKey([index]), task: handler, blocks: [])
            emit(.task(title: handler.title, handler: true))
            let links = await links(for: scheduled, on: due)
            for (name, outcome) in await execute(scheduled, on: due, links: links) {
                apply(outcome, handler, to: name)
                if outcome.status == .failed, !outcome.ignored { fail(name) }
            }
        }
    }
}

extension PlaybookRun.HostState {
    var isActive: Bool { !unreachable && !failed && !ended && link != nil }
}

/// The template environment of a play: Ansible's `lookup('env')` and `lookup('file')`, and
/// the filters that need Foundation (YAML, hashes).
enum PlayEnvironment {
    static func make(playbookDirectory: String) -> Environment {
        var environment = Environment()
        PlaybookFilters.install(into: &environment)
        environment.lookups["env"] = { args, _ in
            .list(args.map { .string(ProcessInfo.processInfo.environment[$0.pythonString] ?? "") })
        }
        environment.lookups["file"] = { args, _ in try fileLookup(args, playbookDirectory) }
        CoordinatorFilters.install(into: &environment, playbookDirectory: playbookDirectory)
        return environment
    }

    /// `lookup('file', NAME)`: `files/NAME` beside the playbook, else `NAME` beside it; the
    /// text without its trailing newlines, as Ansible gives it.
    static func fileLookup(_ args: [Value], _ playbookDirectory: String) throws(TemplateError) -> Value {
        var out: [Value] = []
        for arg in args {
            let name = arg.pythonString
            let candidates = name.hasPrefix("/") ? [name] : [playbookDirectory + "/files/" + name, playbookDirectory + "/" + name]
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
                let data = FileManager.default.contents(atPath: path)
            else { throw TemplateError("could not locate file in lookup: \(name)") }
            // A vault file is read decrypted, as Ansible's file lookup reads it.
            let bytes: [UInt8]
            do { bytes = try FileModules.opened(Array(data), path, [:]) } catch { throw TemplateError(error.shown) }
            out.append(.string(Shlex.stripEnds(String(decoding: bytes, as: UTF8.self))))
        }
        return .list(out)
    }
}
