/// Which tasks `--tags` and `--skip-tags` let run, as Ansible's `evaluate_tags` decides:
/// `never` only when asked for by name, `always` unless skipped.
public struct TagFilter: Sendable {
    public var only: [String]
    public var skip: [String]

    public init(only: [String] = [], skip: [String] = []) {
        self.only = only
        self.skip = skip
    }

    /// `playTags`: the play's own, which every task inherits.
    public func selects(_ scheduled: ScheduledTask, playTags: [String] = []) -> Bool {
        let tags = Set(playTags + scheduled.blocks.flatMap(\.tags) + scheduled.task.options.tags)
        if !skip.isEmpty, !tags.isDisjoint(with: skip) { return false }
        if tags.contains("never"), !only.contains(where: tags.contains) { return false }
        if only.isEmpty || only.contains("all") { return true }
        if tags.contains("always") { return true }
        return !tags.isDisjoint(with: only)
    }
}

/// A play's strategy over one task list, as a state machine with no IO and no clock: the
/// runner asks what runs next, runs it, and tells each host's result back (`fail`, `end`,
/// `splice`). `linear` hands out one task for every host at it, the first in program order
/// that any host is at (so hosts go in lockstep, as Ansible's linear strategy); `free` hands
/// each host its own next task as soon as it is idle (Ansible's free strategy: a fast host
/// does not wait for a slow one).
public struct PlayStrategy: Sendable {
    public enum Kind: String, Sendable {
        case linear, free
    }

    /// One linear step: a task and the hosts that run it now.
    public struct Step: Sendable {
        public var task: ScheduledTask
        public var hosts: [String]
    }

    public let kind: Kind
    private var cursors: [String: HostCursor] = [:]
    /// Linear: the task each host is at, taken from its cursor but not yet run.
    private var waiting: [String: ScheduledTask] = [:]
    /// Hosts that have not yet met `--start-at-task`'s task: what they pass is not run. The
    /// runner carries it from one task list of the play to the next.
    public private(set) var skipping: Set<String>
    private let startAt: String?
    private let tags: TagFilter
    private let playTags: [String]

    public init(
        _ kind: Kind, program: TaskProgram, hosts: [String], tags: TagFilter = TagFilter(), playTags: [String] = [],
        startAt: String? = nil, skipping: Set<String> = []
    ) {
        self.kind = kind
        for host in hosts { cursors[host] = HostCursor(program) }
        self.tags = tags
        self.playTags = playTags
        self.startAt = startAt
        self.skipping = skipping
    }

    /// Linear: the first task in program order among those the `hosts` given are at, with
    /// every one of them at it; nil when none of them has a task left.
    public mutating func nextStep(among hosts: [String]) -> Step? {
        for host in hosts where waiting[host] == nil {
            if let task = take(host) { waiting[host] = task }
        }
        let at = hosts.filter { waiting[$0] != nil }
        guard let first = at.map({ waiting[$0]!.number }).min() else { return nil }
        let group = at.filter { waiting[$0]!.number == first }
        let task = waiting[group[0]]!
        for host in group { waiting[host] = nil }
        return Step(task: task, hosts: group)
    }

    /// Free: `host`'s own next task (the tags and `--start-at-task` passed over); nil when it
    /// has none left.
    public mutating func next(for host: String) -> ScheduledTask? {
        if let task = waiting.removeValue(forKey: host) { return task }
        return take(host)
    }

    private mutating func take(_ host: String) -> ScheduledTask? {
        while let next = cursors[host]?.next() {
            if skipping.contains(host) {
                guard next.task.name == startAt else { continue }
                skipping.remove(host)
            }
            if tags.selects(next, playTags: playTags) { return next }
        }
        return nil
    }

    // MARK: results

    /// Whether a failure of `host` now would be caught by a rescue.
    public func failureWouldBeRescued(_ host: String) -> Bool { cursors[host]?.failureWouldBeRescued ?? false }

    /// `host`'s task failed (not ignored): its rescue, else its always sections, else done.
    public mutating func fail(_ host: String) {
        waiting[host] = nil
        cursors[host]?.fail()
    }

    /// `meta: end_host` / `end_play`: `host` runs nothing more of this list.
    public mutating func end(_ host: String) {
        waiting[host] = nil
        cursors[host]?.end()
    }

    /// Failed with nothing left to rescue it.
    public func failed(_ host: String) -> Bool { cursors[host]?.failed ?? false }

    /// Rescue sections `host` entered in this list.
    public func rescued(_ host: String) -> Int { cursors[host]?.rescued ?? 0 }

    /// How deep `host` is inside blocks and includes.
    public func depth(_ host: String) -> Int { cursors[host]?.depth ?? 0 }

    /// What `host`'s dynamic include added, to run next (see `HostCursor.splice`).
    public mutating func splice(_ host: String, _ program: TaskProgram, options: TaskOptions, at location: Location) {
        cursors[host]?.splice(program, options: options, at: location)
    }
}
