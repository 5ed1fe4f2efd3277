import CohortTemplate

/// Where something was written: every load error and every task report names it.
public struct Location: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public var description: String { "\(file):\(line):\(column)" }
}

/// A playbook as loaded and checked: nothing in it is templated yet (templates are rendered
/// per host, when a task runs), but every module, keyword and argument type is known good.
public struct Playbook: Sendable {
    public var file: String
    public var plays: [Play]
}

public struct Play: Sendable {
    public var name: String
    /// The inventory pattern (`hosts:`), as written; a list is joined with `:`.
    public var hosts: String
    public var vars: [(String, Value)]
    /// `vars_files` already read: each file's variables, in order.
    public var varsFiles: [[(String, Value)]]
    public var preTasks: [TaskItem]
    public var tasks: [TaskItem]
    public var postTasks: [TaskItem]
    public var handlers: [TaskItem]
    public var gatherFacts: Bool
    public var environment: Value?
    public var ignoreErrors: Value?
    public var checkMode: Value?
    public var tags: [String]
    public var location: Location
    /// `connection: local` on the play.
    public var connection: String?
    /// `serial`: batch sizes, a count or a percentage each, the last repeated; empty: one batch.
    public var serial: [SerialSize] = []
    /// `max_fail_percentage`: more failed hosts than this share of the batch stops the play.
    public var maxFailPercentage: Double?
    /// `any_errors_fatal` on the play.
    public var anyErrorsFatal = false
    /// `order`: inventory (default), reverse_inventory, sorted, reverse_sorted, shuffle.
    public var order = "inventory"
    /// `strategy` as written: `linear` (default), or `free` / `host_pinned`, which run as
    /// linear here (the same results; hosts wait for each other at each task).
    public var strategy = "linear"
    /// `remote_user`: the login for hosts whose inventory sets no `ansible_user`.
    public var remoteUser: String?
    /// `become`, `become_user`, `become_method` on the play: below blocks' and tasks'.
    public var become = BecomeKeywords()
    /// Every role's `defaults/` merged (dependencies first, in play order): below the
    /// inventory, as Ansible exposes them to the whole play.
    public var roleDefaults: [(String, Value)] = []
    /// Every role's `vars/`, above `vars_files`, exported to the whole play as in Ansible.
    public var roleVars: [(String, Value)] = []
}

/// One `serial` step: so many hosts, or a percentage of the play's hosts.
public enum SerialSize: Sendable, Equatable {
    case count(Int)
    case percent(Int)

    /// Ansible's `pct_to_int`: a percentage rounds down, and is at least 1.
    public func hosts(of total: Int) -> Int {
        switch self {
        case .count(let n): return n
        case .percent(let p):
            // Clamped before the conversion: `serial: "900000000000000000%"` must not trap.
            let share = Int(min(Double(total), (Double(p) / 100.0 * Double(total)).rounded(.towardZero)))
            return share == 0 ? 1 : share
        }
    }

    /// Ansible's `_get_serialized_batches`: consecutive slices of `hosts`, sized by the steps in
    /// turn (the last one repeated); a size of 0 or less takes all that are left.
    public static func batches(_ hosts: [String], _ steps: [SerialSize]) -> [[String]] {
        guard !steps.isEmpty else { return hosts.isEmpty ? [] : [hosts] }
        var out: [[String]] = []
        var rest = hosts[...]
        var step = 0
        while !rest.isEmpty {
            let size = steps[step].hosts(of: hosts.count)
            if size <= 0 {
                out.append(Array(rest))
                break
            }
            out.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
            step = min(step + 1, steps.count - 1)
        }
        return out
    }
}

public indirect enum TaskItem: Sendable {
    case task(PlayTask)
    case block(Block)

    public var location: Location {
        switch self {
        case .task(let t): t.location
        case .block(let b): b.location
        }
    }
}

/// What tasks and blocks share: conditions, variables, tags and the error and mode switches
/// that blocks pass down to the tasks inside them.
public struct TaskOptions: Sendable {
    public var when: [String] = []
    public var vars: [(String, Value)] = []
    public var tags: [String] = []
    public var ignoreErrors: Value?
    public var checkMode: Value?
    public var diff: Value?
    public var environment: Value?
    public var noLog: Value?
    /// `run_once`: the first host runs the task; its result is every host's.
    public var runOnce: Value?
    /// `any_errors_fatal`: a failure on one host fails every host of the batch.
    public var anyErrorsFatal: Value?
    /// `throttle`: at most so many hosts run the task at once.
    public var throttle: Value?
    /// `delegate_to` (a host name, or a template giving one): where the task runs, with the
    /// host's variables; `local_action` is `delegate_to: localhost`.
    public var delegateTo: Value?
    /// `delegate_facts`: the facts a delegated task returns (its module's and `set_fact`'s) go
    /// to the host it ran on instead of the host it ran for.
    public var delegateFacts: Value?
    /// `connection`: `local` runs on the coordinator (as implicit localhost does), `ssh`
    /// (and its aliases) as the inventory says.
    public var connection: Value?
    /// A role's `defaults/` for the tasks inside its block: above every other role's, still
    /// below the inventory.
    public var roleDefaults: [(String, Value)] = []
    /// `become`, `become_user`, `become_method` (templates, rendered per host).
    public var become = BecomeKeywords()
    /// `remote_user` on a block, role entry or task: the login for this task where the
    /// inventory sets no `ansible_user` (a template, rendered per host).
    public var remoteUser: Value?

    public init() {}
}

/// The privilege-escalation keywords of a play, block, role entry or task, as written.
public struct BecomeKeywords: Sendable {
    public var become: Value?
    public var user: Value?
    public var method: Value?
    public init() {}
    public var isEmpty: Bool { become == nil && user == nil && method == nil }
}

public struct Block: Sendable {
    public var name: String?
    public var block: [TaskItem]
    public var rescue: [TaskItem]
    public var always: [TaskItem]
    public var options: TaskOptions
    public var location: Location
}

public struct PlayTask: Sendable {
    public var name: String?
    /// The module's short name (`ansible.builtin.copy` is `copy`).
    public var module: String
    /// The module's name as written, which ansible-playbook shows for a task with no name.
    public var moduleAsWritten: String
    /// The module's arguments: free-form text is under `_raw_params`.
    public var args: Dict
    public var options: TaskOptions
    public var loop: Value?
    /// `with_dict` turns a dict into `{key, value}` items, as `dict2items` does.
    public var loopIsDict = false
    /// `with_items`: the rendered value flattened one level; a value that is not a list is
    /// one item (`with_items: a_list`, a bare name, loops once over the text, as in 2.19).
    public var loopFlattensOnce = false
    /// `with_X` for the other lookups (`nested`, `sequence`, `fileglob`…): X.
    public var loopLookup: String?
    /// `until` (conditions), `retries` and `delay` (rendered when the task runs).
    public var until: [String]?
    public var retries: Value?
    public var delay: Value?
    /// `async` (at most so many seconds) and `poll` (0: started in the background, for
    /// `async_status`; else waited for), rendered when the task runs.
    public var asyncSeconds: Value?
    public var poll: Value?
    /// `loop_control`: `pause` seconds between items, `extended` for `ansible_loop`.
    public var loopPause: Value?
    public var loopExtended: Value?
    public var loopVar = "item"
    public var indexVar: String?
    public var label: String?
    public var register: String?
    public var notify: [String] = []
    /// Handlers: the names this one also answers to (`listen:`).
    public var listen: [String] = []
    public var changedWhen: [String]?
    public var failedWhen: [String]?
    public var location: Location
    /// Where each argument's value is written (by its canonical name), so that a template
    /// error in one says the value's own line and column, as Ansible's `Origin:` does.
    public var argumentLocations: [String: Location] = [:]
    /// The role the task belongs to, which ansible-playbook prints before its name.
    public var role: String?
    /// `include_tasks`/`include_role` with a name known at load: what it adds, read and
    /// checked before anything runs (nil: read when it runs, or not an include).
    public var included: [TaskItem]?
    /// Where a relative `src` is looked for, in order (a role's folder, then the playbook's);
    /// empty: beside the file the task is in.
    public var searchDirectories: [String] = []

    /// What ansible-playbook prints in `TASK [...]`: the name, else the module as written,
    /// after `ROLE : ` for a role's task.
    public var title: String { (role.map { $0 + " : " } ?? "") + (name ?? moduleAsWritten) }
}
