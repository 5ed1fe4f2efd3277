/// Where a task stands in program order: a path of numbers compared element by element, so
/// that the tasks a dynamic include adds after task K on some hosts (K + [instance, file,
/// n]) sort after K and before K's successor, without renumbering anything (as Ansible's
/// `PlayIterator.add_tasks` splices a host's blocks).
public struct TaskKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var path: [Int]

    public init(_ path: [Int]) { self.path = path }

    public static func < (a: TaskKey, b: TaskKey) -> Bool { a.path.lexicographicallyPrecedes(b.path) }

    public var description: String { path.map(String.init).joined(separator: ".") }
}

/// A task list compiled for running: every task numbered in program order (a block's tasks,
/// then its rescue, then its always), so that the linear strategy can tell which of the tasks
/// that hosts are at comes first.
public struct TaskProgram: Sendable {
    public indirect enum Item: Sendable {
        case task(number: TaskKey, task: PlayTask)
        case block(Block, body: [Item], rescue: [Item], always: [Item])
    }

    public let items: [Item]
    public let count: Int

    /// `prefix`: the key of what the list was spliced after (none for a play's own lists).
    public init(_ tasks: [TaskItem], startingAt first: Int = 0, prefix: [Int] = []) {
        var number = first
        func compile(_ list: [TaskItem]) -> [Item] {
            list.map { item in
                switch item {
                case .task(let task):
                    defer { number += 1 }
                    return .task(number: TaskKey(prefix + [number]), task: task)
                case .block(let block):
                    let body = compile(block.block)
                    let rescue = compile(block.rescue)
                    let always = compile(block.always)
                    return .block(block, body: body, rescue: rescue, always: always)
                }
            }
        }
        items = compile(tasks)
        count = number - first
    }
}

/// One task as a host meets it: with the options of every block around it, outermost first.
public struct ScheduledTask: Sendable {
    public var number: TaskKey
    public var task: PlayTask
    public var blocks: [TaskOptions]

    public init(number: TaskKey, task: PlayTask, blocks: [TaskOptions]) {
        self.number = number
        self.task = task
        self.blocks = blocks
    }
}

/// Where one host is in a task list (Ansible's per-host iterator state): which block section
/// it is in, and what a failure does there — go to the innermost rescue, else run the
/// always sections outward and leave the host failed.
public struct HostCursor: Sendable {
    enum Section { case body, rescue, always, top }

    struct Frame {
        var items: [TaskProgram.Item]
        var index = 0
        var section: Section
        var block: Block?
        var rescue: [TaskProgram.Item] = []
        var always: [TaskProgram.Item] = []
        /// A failure in this block that no rescue caught: raised again once `always` ran.
        var failed = false
    }

    private var stack: [Frame]
    /// The host failed with nothing to rescue it: it runs no more tasks of this list.
    public private(set) var failed = false
    /// How many rescue sections started for this host (the recap's `rescued`).
    public private(set) var rescued = 0

    public init(_ program: TaskProgram) {
        stack = [Frame(items: program.items, section: .top)]
    }

    /// The next task this host runs; nil once the list is done (or the host failed).
    public mutating func next() -> ScheduledTask? {
        while let top = stack.last {
            if top.index < top.items.count {
                let item = top.items[top.index]
                stack[stack.count - 1].index += 1
                switch item {
                case .task(let number, let task):
                    return ScheduledTask(number: number, task: task, blocks: stack.compactMap { $0.block?.options })
                case .block(let block, let body, let rescue, let always):
                    stack.append(Frame(items: body, section: .body, block: block, rescue: rescue, always: always))
                }
                continue
            }
            // This section is done.
            var frame = stack.removeLast()
            switch frame.section {
            case .top:
                return nil
            case .body, .rescue:
                frame.items = frame.always
                frame.index = 0
                frame.section = .always
                stack.append(frame)
            case .always:
                if frame.failed { raise() }
            }
        }
        return nil
    }

    /// The task this host just ran failed (and was not ignored).
    public mutating func fail() { raise() }

    /// Whether a failure now would be caught by a rescue, here or in an enclosing block (a
    /// failure inside a rescue can only be caught further out).
    public var failureWouldBeRescued: Bool {
        for frame in stack.reversed() {
            switch frame.section {
            case .body where !frame.rescue.isEmpty: return true
            case .top: return false
            default: continue
            }
        }
        return false
    }

    /// Tasks a dynamic include added for this host: run next, inside the blocks the include
    /// is in (their rescue and always still apply), with `options` (the include's `vars` and
    /// loop variable) around them.
    public mutating func splice(_ program: TaskProgram, options: TaskOptions, at location: Location) {
        let block = Block(name: nil, block: [], rescue: [], always: [], options: options, location: location)
        stack.append(Frame(items: program.items, section: .body, block: block))
    }

    /// How many blocks and includes this host is inside (includes nest at most so deep).
    public var depth: Int { stack.count }

    /// The host stops here, as `meta: end_host` (or `end_play`) does: no rescue, no always.
    public mutating func end() { stack = [] }

    private mutating func raise() {
        while var frame = stack.popLast() {
            switch frame.section {
            case .top:
                failed = true
                stack = []
                return
            case .body where !frame.rescue.isEmpty:
                frame.items = frame.rescue
                frame.index = 0
                frame.section = .rescue
                rescued += 1
                stack.append(frame)
                return
            case .body, .rescue:
                frame.items = frame.always
                frame.index = 0
                frame.section = .always
                frame.failed = true
                stack.append(frame)
                return
            case .always:
                // A failure inside always: the outer levels handle it.
                continue
            }
        }
        failed = true
    }
}
