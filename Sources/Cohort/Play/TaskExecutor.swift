import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// How one task went on one host, for the runner to apply and the printer to show.
public struct TaskOutcome: Sendable {
    public enum Status: String, Sendable {
        case ok, changed, failed, skipped, unreachable
    }

    public struct Item: Sendable {
        public var status: Status
        public var label: String
        public var result: Value
        /// The host this item was delegated to (`delegate_to` naming the loop's item),
        /// printed `[HOST -> DELEGATE]`.
        public var delegate: String? = nil
    }

    public var status: Status
    /// Failed, with `ignore_errors`.
    public var ignored = false
    /// The task's result as `register` keeps it and `-v` shows it.
    public var result: Value
    public var items: [Item] = []
    /// `no_log`: the result is not shown.
    public var hidden = false
    /// The task's module (the printer shows `debug` results whole).
    public var module = ""
    var facts: [String: Value] = [:]
    var notify: [String] = []
    /// `meta:` actions, for the runner.
    var meta: String?
    /// The host the task was delegated to, which the output names.
    public var delegate: String?
    /// `include_vars`: variables for the host's templated layer.
    var includedVars: [String: Value] = [:]
    /// Facts of items delegated each to its own host with `delegate_facts`, by that host.
    var delegatedFacts: [String: [String: Value]] = [:]
}

/// Runs one task (its loop, conditions and module) on one host, with a snapshot of that
/// host's variables; the runner applies what it returns.
struct TaskExecutor: Sendable {
    let scheduled: ScheduledTask
    let play: Play
    let variables: HostVariables
    let link: (any PlayHostLink)?
    let options: PlaybookRun.Options
    let environment: Environment
    let hostvars: @Sendable () -> Value
    /// `delegate_to`'s host, printed `[HOST -> DELEGATE]`.
    var delegate: String? = nil
    /// Why the delegated host (or the coordinator's own worker) could not be reached.
    var linkFailure: String? = nil
    /// `linkFailure` fails the task (a refused become) instead of making the host unreachable.
    var linkFailsTask = false
    /// The run's `async` jobs, for `poll: 0` and `async_status`.
    let jobs: AsyncJobs
    /// The run's inventory, for `group_by`.
    var inventory: InventoryBox? = nil
    /// `delegate_to` naming the loop's item: the link of every host the items name, by name
    /// (each item renders `delegate_to` and runs there).
    var itemLinks: [String: TaskLink]? = nil

    var task: PlayTask { scheduled.task }

    /// The innermost setting of a switch that tasks, blocks and plays all have.
    func inherited(_ pick: (TaskOptions) -> Value?, play playValue: Value?) -> Value? {
        if let value = pick(task.options) { return value }
        for block in scheduled.blocks.reversed() { if let value = pick(block) { return value } }
        return playValue
    }

    func flag(_ value: Value?, _ scope: Scope, default fallback: Bool) throws(TemplateError) -> Bool {
        guard let value else { return fallback }
        let rendered = try scope.render(value)
        guard let flag = PlaybookLoader.boolean(rendered) else { throw TemplateError("expected a boolean, got \(rendered.pythonRepr)") }
        return flag
    }

    private struct LinkFailure: Error { var message: String }

    func run() async -> TaskOutcome {
        var outcome = await runHere()
        outcome.delegate = delegate
        return outcome
    }

    private func runHere() async -> TaskOutcome {
        if let linkFailure, !linkFailsTask {
            return TaskOutcome(status: .unreachable, result: ["unreachable": true, "changed": false, "msg": .string(linkFailure)])
        }
        let scope = taskScope()
        // `no_log` covers the task's errors too (a loop's data in "Invalid data passed to
        // 'loop'", a template's values); one that cannot be read hides everything.
        let hidden = (try? flag(inherited({ $0.noLog }, play: nil), scope, default: false)) ?? true
        var outcome: TaskOutcome
        do {
            if let linkFailure { throw LinkFailure(message: linkFailure) }
            return try await run(in: scope)
        } catch let error as LinkFailure {
            outcome = TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": .string(error.message), "exception": Self.traceback])
        } catch let error as TemplateError {
            outcome = TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": .string(templateMessage(error)), "exception": Self.traceback])
        } catch let error as CohortError {
            outcome = TaskOutcome(status: .unreachable, result: ["unreachable": true, "changed": false, "msg": .string(error.message)])
        } catch {
            outcome = TaskOutcome(status: .unreachable, result: ["unreachable": true, "changed": false, "msg": .string("\(error)")])
        }
        outcome.hidden = hidden
        outcome.module = task.module
        // ignore_errors covers a task whose arguments could not even be rendered, as in Ansible.
        if outcome.status == .failed, (try? flag(inherited({ $0.ignoreErrors }, play: play.ignoreErrors), scope, default: false)) == true {
            outcome.ignored = true
        }
        return outcome
    }

    /// `FILE:LINE:COLUMN: what is wrong`: the place of the argument's value when the error
    /// came from one (with the task it is in), else the task's.
    func templateMessage(_ error: TemplateError) -> String {
        guard let origin = error.origin else { return "\(task.location): \(error.message)" }
        let within = (error.line ?? 1) > 1 ? "line \(error.line!) of the value: " : ""
        return "\(origin): \(within)\(error.message) (in the task '\(task.title)' at \(task.location))"
    }

    private func run(in scope: Scope) async throws -> TaskOutcome {
        let ignore = try flag(inherited({ $0.ignoreErrors }, play: play.ignoreErrors), scope, default: false)
        let check = try flag(inherited({ $0.checkMode }, play: play.checkMode), scope, default: options.check)
        let diff = try flag(inherited({ $0.diff }, play: nil), scope, default: options.diff)
        let hidden = try flag(inherited({ $0.noLog }, play: nil), scope, default: false)
        var environment = Dict()
        for value in [play.environment] + scheduled.blocks.map(\.environment) + [task.options.environment] {
            guard let value, case .dict(let dict) = try scope.render(value) else { continue }
            for (key, item) in dict.pairs { environment[key] = item }
        }
        let conditions = scheduled.blocks.flatMap(\.when) + task.options.when
        let call = { (scope: Scope) in link.map { ModuleCall(host: $0, check: check, diff: diff, environment: environment, scope: scope) } }
        var outcome: TaskOutcome
        if task.loop != nil {
            let items = try loopItems(scope)
            let extended = try flag(task.loopExtended, scope, default: false)
            let pause = try ModuleSeconds.parse(try task.loopPause.map { v throws(TemplateError) in try scope.render(v) }, "loop_control.pause", default: 0)
            var reports: [TaskOutcome.Item] = []
            var results: [Value] = []
            let factsToDelegates = try itemLinks != nil && flag(inherited({ $0.delegateFacts }, play: nil), scope, default: false)
            var delegatedFacts: [String: [String: Value]] = [:]
            var factsGiven: Set<Int> = []
            for (index, item) in items.enumerated() {
                if index > 0, pause > 0 { try await Task.sleep(for: ModuleSeconds.duration(pause)) }
                let itemScope = self.itemScope(scope, items, index, extended: extended)
                let label = try task.label.map { l throws(TemplateError) in try itemScope.text(.string(l)) } ?? item.pythonString
                // delegate_to naming the item: this item's own host.
                var itemCall = call
                var delegatedTo: (name: String, shown: String?)?
                if let itemLinks, let value = inherited({ $0.delegateTo }, play: nil) {
                    let name = try itemScope.text(value)
                    guard let found = itemLinks[name] else { throw TemplateError("delegate_to: '\(name)' was not opened for this task") }
                    if let failure = found.failure {
                        if found.failsTask { throw TemplateError(failure) }
                        throw LinkFailure(message: failure)
                    }
                    delegatedTo = (found.host ?? name, found.shownAs)
                    itemCall = { (scope: Scope) in found.link.map { ModuleCall(host: $0, check: check, diff: diff, environment: environment, scope: scope) } }
                }
                var result: Dict
                if try !itemScope.conditions(conditions) {
                    result = Self.skipped(conditions, itemScope)
                } else {
                    result = try await attempts(itemScope, itemCall)
                }
                if factsToDelegates, let delegatedTo, case .dict(let facts)? = result["ansible_facts"] {
                    for (key, value) in facts.pairs { delegatedFacts[delegatedTo.name, default: [:]][key.pythonString] = value }
                    factsGiven.insert(index)
                }
                result[.string(task.loopVar)] = item
                result["ansible_loop_var"] = .string(task.loopVar)
                if let indexVar = task.indexVar { result[.string(indexVar)] = .int(index) }
                let status = Self.status(result)
                reports.append(TaskOutcome.Item(status: status, label: label, result: .dict(result), delegate: delegatedTo?.shown))
                results.append(.dict(result))
            }
            var summary = Dict()
            summary["results"] = .list(results)
            summary["changed"] = .bool(reports.contains { $0.status == .changed })
            summary["msg"] = "All items completed"
            summary["skipped"] = .bool(!reports.isEmpty && reports.allSatisfy { $0.status == .skipped })
            if reports.contains(where: { $0.status == .failed }) {
                summary["failed"] = true
                summary["msg"] = "One or more items failed"
            }
            if reports.isEmpty { summary["skipped_reason"] = "No items in the list" }
            let status: TaskOutcome.Status = reports.isEmpty ? .skipped : Self.status(summary)
            outcome = TaskOutcome(status: status, result: .dict(summary), items: reports)
            for (index, report) in reports.enumerated() where !factsGiven.contains(index) {
                if case .dict(let r) = report.result, case .dict(let facts)? = r["ansible_facts"] { merge(facts, into: &outcome) }
            }
            outcome.delegatedFacts = delegatedFacts
        } else if try !scope.conditions(conditions) {
            outcome = TaskOutcome(status: .skipped, result: .dict(Self.skipped(conditions, scope)))
        } else {
            let result = try await attempts(scope, call)
            outcome = TaskOutcome(status: Self.status(result), result: .dict(result))
            if case .dict(let facts)? = result["ansible_facts"] { merge(facts, into: &outcome) }
            if task.module == "meta", outcome.status != .skipped { outcome.meta = try scope.text(task.args["_raw_params"] ?? "noop") }
        }
        outcome.hidden = hidden
        outcome.module = task.module
        if outcome.status == .failed, ignore { outcome.ignored = true }
        if outcome.status == .changed || (outcome.status == .failed && outcome.ignored && (outcome.result.dict?["changed"]?.truthy ?? false)) {
            outcome.notify = try task.notify.map { n throws(TemplateError) in try scope.text(.string(n)) }
        }
        return outcome
    }

    /// The loop's items, rendered (and flattened, or read by the `with_*` lookup) as Ansible's.
    func loopItems(_ scope: Scope) throws(TemplateError) -> [Value] {
        guard let loop = task.loop else { return [] }
        let rendered = try scope.render(loop)
        if let lookup = task.loopLookup {
            return LoopLookups.files.contains(lookup) ? try fileLookup(lookup, rendered) : try LoopLookups.items(lookup, rendered)
        }
        switch rendered {
        case .list(let list) where task.loopFlattensOnce: return list.flatMap { if case .list(let inner) = $0 { inner } else { [$0] } }
        case .list(let list): return list
        case _ where task.loopFlattensOnce: return [rendered]
        case .dict(let dict) where task.loopIsDict:
            return dict.pairs.map { .dict(Dict(strings: [("key", $0.key), ("value", $0.value)])) }
        default:
            throw TemplateError("Invalid data passed to 'loop', it requires a list, got this instead: \(rendered.pythonString)")
        }
    }

    /// The scope of item `index`: the loop variable, `ansible_loop_var`, the index variable
    /// and, extended, `ansible_loop`.
    func itemScope(_ scope: Scope, _ items: [Value], _ index: Int, extended: Bool) -> Scope {
        var loopVars: [String: Value] = [task.loopVar: items[index], "ansible_loop_var": .string(task.loopVar)]
        if let indexVar = task.indexVar { loopVars[indexVar] = .int(index) }
        if extended { loopVars["ansible_loop"] = Self.loopInfo(items, index) }
        return scope.adding(loop: loopVars)
    }

    /// `delegate_to` rendered for every loop item (before `when`, as Ansible resolves the
    /// delegate first): the hosts the runner opens links to.
    /// The task's variables over the host's: its blocks' and its own vars and role defaults.
    private func taskScope() -> Scope {
        let layers = scheduled.blocks.map(\.vars) + [task.options.vars]
        let defaults = scheduled.blocks.map(\.roleDefaults) + [task.options.roleDefaults]
        return variables.scope(task: layers, defaults: defaults, environment: environment, hostvars: hostvars)
    }

    func itemDelegates() throws(TemplateError) -> [String] {
        guard let value = inherited({ $0.delegateTo }, play: nil) else { return [] }
        let scope = taskScope()
        let items = try loopItems(scope)
        let extended = try flag(task.loopExtended, scope, default: false)
        var names: [String] = []
        for index in items.indices {
            let name = try itemScope(scope, items, index, extended: extended).text(value)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The module run once, or with `until` again until the condition holds, as Ansible's
    /// task executor: `retries` (3 without it; N gives N + 1 attempts), `delay` seconds
    /// between; `attempts` in the result; out of attempts, failed.
    private func attempts(_ scope: Scope, _ call: (Scope) -> ModuleCall?) async throws -> Dict {
        guard let until = task.until else { return Self.withException(try judge(try await module(scope, call(scope)).dict ?? Dict(), scope)) }
        var retries = 3
        if let value = task.retries {
            let rendered = try scope.render(value)
            let number: Int? = switch rendered {
                case .int(let n): n
                case .string(let text): Int(text.trimmingCharacters(in: .whitespaces))
                default: nil
                }
            // A bound of our own: each attempt runs the module.
            guard let number, number <= 100_000 else { throw TemplateError("retries must be a whole number up to 100000, not \(rendered.pythonRepr)") }
            retries = number <= 0 ? 1 : number + 1
        }
        let delay = try ModuleSeconds.parse(try task.delay.map { v throws(TemplateError) in try scope.render(v) }, "delay", default: 5)
        var result = Dict()
        for attempt in 1...retries {
            result = try judge(try await module(scope, call(scope)).dict ?? Dict(), scope)
            result["attempts"] = .int(attempt)
            if result["failed"] == nil { result["failed"] = false }
            let judged = task.register.map { scope.adding(facts: [$0: .dict(result)]) } ?? scope
            if try judged.conditions(until) { return Self.withException(result) }
            if attempt < retries, delay > 0 { try await Task.sleep(for: ModuleSeconds.duration(delay)) }
        }
        if retries > 1 {
            result["attempts"] = .int(retries - 1)
            result["failed"] = true
        }
        return Self.withException(result)
    }

    /// The paths matching a shell pattern, sorted (Python's glob, as fileglob uses it).
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// `loop_control.extended`: Ansible's `ansible_loop`.
    static func loopInfo(_ items: [Value], _ index: Int) -> Value {
        var info: Dict = [
            "allitems": .list(items), "index": .int(index + 1), "index0": .int(index), "revindex": .int(items.count - index),
            "revindex0": .int(items.count - index - 1), "first": .bool(index == 0), "last": .bool(index == items.count - 1),
            "length": .int(items.count),
        ]
        if index > 0 { info["previtem"] = items[index - 1] }
        if index < items.count - 1 { info["nextitem"] = items[index + 1] }
        return .dict(info)
    }

    /// `with_fileglob` and `with_first_found`, on the coordinator: a relative name is looked
    /// for in `files/` of the role and the playbook, then beside them.
    private func fileLookup(_ lookup: String, _ rendered: Value) throws(TemplateError) -> [Value] {
        let playbookDirectory = (play.location.file as NSString).deletingLastPathComponent
        let bases = (task.searchDirectories.isEmpty ? [(task.location.file as NSString).deletingLastPathComponent] : task.searchDirectories)
            + [playbookDirectory]
        func candidates(_ name: String) -> [String] {
            name.hasPrefix("/") ? [name] : bases.flatMap { [($0.isEmpty ? "." : $0) + "/files/" + name, ($0.isEmpty ? "." : $0) + "/" + name] }
        }
        var out: [Value] = []
        switch lookup {
        case "fileglob":
            for term in LoopLookups.terms(rendered) {
                let pattern = term.pythonString
                // The first folder that exists for the pattern's directory, as Ansible's.
                let directory = (pattern as NSString).deletingLastPathComponent
                let base = candidates(directory.isEmpty ? "." : directory).first { FileManager.default.fileExists(atPath: $0) }
                guard let base else { continue }
                let full = base + "/" + (pattern as NSString).lastPathComponent
                for path in Self.glob(full) where !Self.isDirectory(path) {
                    out.append(.string(path))
                    guard out.count <= LoopLookups.maxItems else { throw TemplateError("with_fileglob: more than \(LoopLookups.maxItems) files") }
                }
            }
            return out
        default:
            var names: [String] = []
            var skip = false
            for term in LoopLookups.terms(rendered) {
                switch term {
                case .dict(let d):
                    let files = LoopLookups.terms(d["files"] ?? .list([])).flatMap { $0.pythonString.split(whereSeparator: { ",;".contains($0) }).map(String.init) }
                    let paths = LoopLookups.terms(d["paths"] ?? .list([])).flatMap { $0.pythonString.split(whereSeparator: { ",:;".contains($0) }).map(String.init) }
                    names += paths.isEmpty ? files : paths.flatMap { p in files.map { p + "/" + $0 } }
                    if d["skip"].flatMap(PlaybookLoader.boolean) == true { skip = true }
                default: names.append(term.pythonString)
                }
            }
            for name in names {
                if let found = candidates(name).first(where: { FileManager.default.fileExists(atPath: $0) }) {
                    return [.string(PlaybookPaths.absolute(found))]
                }
            }
            if skip { return [] }
            throw TemplateError("No file was found when using first_found.")
        }
    }

    /// A result's `ansible_facts` into the outcome: include_vars's are variables (templates,
    /// at include_vars's precedence), the others facts.
    private func merge(_ facts: Dict, into outcome: inout TaskOutcome) {
        for (key, value) in facts.pairs {
            if task.module == "include_vars" { outcome.includedVars[key.pythonString] = value } else { outcome.facts[key.pythonString] = value }
        }
    }

    static func skipped(_ conditions: [String], _ scope: Scope) -> Dict {
        var result: Dict = ["changed": false, "skipped": true, "skip_reason": "Conditional result was False"]
        if let failed = conditions.first(where: { (try? scope.condition($0)) != true }) { result["false_condition"] = .string(failed) }
        return result
    }

    static func status(_ result: Dict) -> TaskOutcome.Status {
        if result["unreachable"]?.truthy == true { return .unreachable }
        if result["failed"]?.truthy == true { return .failed }
        if result["skipped"]?.truthy == true { return .skipped }
        return result["changed"]?.truthy == true ? .changed : .ok
    }

    /// `changed_when` and `failed_when`, with the result under its `register` name.
    private func judge(_ result: Dict, _ scope: Scope) throws(TemplateError) -> Dict {
        var out = result
        if out["changed"] == nil { out["changed"] = false }
        if out["skipped"]?.truthy == true { return out }
        let judged = task.register.map { scope.adding(facts: [$0: .dict(out)]) } ?? scope
        if let changedWhen = task.changedWhen { out["changed"] = .bool(try judged.conditions(changedWhen)) }
        if let failedWhen = task.failedWhen {
            let failed = try judged.conditions(failedWhen)
            let moduleFailed = out["failed"]?.truthy == true
            if out["failed"] == nil { out["failed"] = false }
            out["failed_when_result"] = .bool(failed)
            out["failed"] = .bool(failed)
            // ansible-core 2.19 keeps a module's own failure that failed_when overrules.
            if !failed, moduleFailed, ModuleSpec.all[task.module]?.placement == .host { out["failed_when_suppressed_exception"] = Self.traceback }
        }
        if out["failed"] == nil { out["failed"] = false }
        return out
    }

    /// What ansible-core 2.19 shows of a failure's traceback without `-vvv`.
    static let traceback: Value = "(traceback unavailable)"

    /// A failed result, as ansible-core 2.19 registers it, also holds `exception` (its error
    /// summary, which templates see as this text); a loop's summary does not.
    static func withException(_ result: Dict) -> Dict {
        guard result["failed"]?.truthy == true, result["exception"] == nil else { return result }
        var out = result
        out["exception"] = traceback
        return out
    }

    /// The module, under `async` when the task has it: waited for against its limit (`poll`
    /// above 0, 15 without it), or started in the background (`poll: 0`). Check mode and
    /// modules that run on the coordinator ignore `async`.
    private func module(_ scope: Scope, _ call: ModuleCall?) async throws -> Value {
        guard let asyncValue = task.asyncSeconds, let call, !call.check, ModuleSpec.all[task.module]?.placement == .host else {
            return try await runModule(scope, call)
        }
        guard case .int(let seconds) = try scope.render(asyncValue), seconds >= 0 else { throw TemplateError("async must be a number of seconds") }
        if seconds == 0 { return try await runModule(scope, call) }
        let poll: Int
        switch try task.poll.map({ v throws(TemplateError) in try scope.render(v) }) {
        case nil: poll = 15
        case .int(let n)? where n >= 0 && n <= AsyncJobs.longest: poll = n
        case let other?: throw TemplateError("poll must be a number of seconds up to \(AsyncJobs.longest), not \(other.pythonRepr)")
        }
        guard seconds <= AsyncJobs.longest else { throw TemplateError("async of \(seconds) seconds is over the limit of \(AsyncJobs.longest)") }
        let jid = AsyncJobs.newID()
        // The job gets a worker of its own beside the host's (the same connection): the
        // play's next tasks on this host do not wait behind it, and a job still running when
        // its task gives up goes on, as Ansible's does.
        let worker = jobs.worker
        let background: @Sendable () async -> Value = { [self] in
            var own = call
            var sibling: HostSession?
            if let host = call.host as? WorkerPlayHost {
                do { sibling = try await host.session.sibling(worker: worker) } catch {
                    return ["failed": true, "changed": false, "msg": .string("the async job's worker did not start: \((error as? CohortError)?.message ?? "\(error)")")]
                }
                own.host = WorkerPlayHost(session: sibling!)
            }
            let result: Value
            do { result = try await runModule(scope, own) } catch {
                result = ["failed": true, "changed": false, "msg": .string("\(error)")]
            }
            await sibling?.conversation.shutdown()
            return result
        }
        await jobs.start(host: inventoryHostname, jid: jid, seconds: AsyncJobs.stopTime(seconds), background)
        if poll == 0 {
            return ["ansible_job_id": .string(jid), "changed": true, "failed": false, "finished": false, "started": true]
        }
        guard let result = await jobs.wait(host: inventoryHostname, jid: jid, seconds: AsyncJobs.pollEnd(seconds, poll: poll)) else {
            // As Ansible's poll loop reports a job still running when its polls run out.
            return [
                "failed": true, "changed": false, "msg": .string("async task did not complete within the requested time - \(seconds)s"),
                "async_result": AsyncJobs.statusResult(jid, finished: nil),
            ]
        }
        await jobs.cleanup(host: inventoryHostname, jid: jid)
        return AsyncJobs.statusResult(jid, finished: result)
    }

    /// The module through the registry, with its arguments rendered unless it renders them
    /// itself; a host module whose host has no connection is a transport loss.
    private func runModule(_ scope: Scope, _ call: ModuleCall?) async throws -> Value {
        guard let spec = ModuleSpec.all[task.module], let implementation = ModuleRegistry.implementations[task.module] else {
            throw TemplateError("module \(task.module) is not implemented")
        }
        guard call != nil || spec.placement == .coordinator else { throw CohortError(.transportLost, "no connection to the host") }
        if task.args[.string(PlaybookLoader.rawWordsKey)] != nil {
            return ["failed": true, "changed": false, "msg": .string("Task failed: Action 'ansible.builtin.\(task.module)' does not support raw params.")]
        }
        if spec.rendersItself { return try await implementation(ModuleInvocation(args: task.args, scope: scope, executor: self, hostCall: call)) }
        var args = try render(task.args, scope)
        if let argument = ModuleSpec.argumentWithNUL(task.module, args) {
            return ["failed": true, "changed": false, "msg": .string("\(argument): embedded null byte (a path, name or command cannot hold one)")]
        }
        if let folder = spec.sourceFolder, let failure = resolveSource(&args, in: folder) { return failure }
        return try await implementation(ModuleInvocation(args: args, scope: scope, executor: self, hostCall: call))
    }

    var inventoryHostname: String { variables.magic["inventory_hostname"]?.pythonString ?? "" }

    /// The file an `include_tasks` adds, looked for as the loader looks: beside the file the
    /// task is in, the role's `tasks/` and folder, then beside the playbook.
    func includeTasks(_ args: Dict) -> Value {
        let name = (args["file"] ?? args["_raw_params"])?.pythonString ?? ""
        var bases = [(task.location.file as NSString).deletingLastPathComponent]
        if task.role != nil, let rolePath = task.searchDirectories.first { bases += [rolePath + "/tasks", rolePath] }
        bases += task.searchDirectories.dropFirst().map { $0 }
        bases.append((play.location.file as NSString).deletingLastPathComponent)
        let candidates = name.hasPrefix("/") ? [name] : bases.map { ($0.isEmpty ? "." : $0) + "/" + name }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return ["failed": true, "changed": false, "msg": .string("Could not find or access '\(name)' (looked in: \(candidates.joined(separator: ", ")))")]
        }
        return ["changed": false, "include": .string(PlaybookPaths.absolute(found))]
    }

    /// `include_vars`, on the coordinator: a file (or every YAML/JSON file of a folder, in
    /// name order, `depth` deep, `files_matching` and `ignore_files` applied), looked for in
    /// the role's `vars/` and folder, then `vars/` beside the playbook and beside it; all of it
    /// or under `name`. Ansible's result: `ansible_facts` and `ansible_included_var_files`.
    func includeVars(_ args: Dict) throws -> Value {
        let playbookDirectory = (play.location.file as NSString).deletingLastPathComponent
        let bases = (task.searchDirectories.isEmpty ? [(task.location.file as NSString).deletingLastPathComponent] : task.searchDirectories)
            + [playbookDirectory]
        func find(_ name: String) -> String? {
            if name.hasPrefix("/") { return FileManager.default.fileExists(atPath: name) ? name : nil }
            let candidates = bases.flatMap { base -> [String] in
                let b = base.isEmpty ? "." : base
                return [b + "/vars/" + name, b + "/" + name]
            }
            return candidates.first { FileManager.default.fileExists(atPath: $0) }
        }
        var files: [String] = []
        if let dir = args["dir"]?.pythonString {
            // Ansible's root: a role's `vars/` (a `vars/…` name from the role's folder), else the
            // folder of the file the task is in.
            let found: String
            if dir.hasPrefix("/") {
                found = dir
            } else if task.role != nil, let rolePath = task.searchDirectories.first {
                found = rolePath + (dir.split(separator: "/").first == "vars" ? "/" : "/vars/") + dir
            } else {
                let folder = (task.location.file as NSString).deletingLastPathComponent
                found = (folder.isEmpty ? "." : folder) + "/" + dir
            }
            guard Self.isDirectory(found) else {
                return ["failed": true, "changed": false, "msg": .string("\(dir) directory does not exist")]
            }
            let extensions = (args["extensions"].map { LoopLookups.terms($0).map(\.pythonString) } ?? ["yaml", "yml", "json"])
            let ignored = args["ignore_files"].map { LoopLookups.terms($0).map(\.pythonString) } ?? []
            let pattern = try args["files_matching"].map { try PythonRegex($0.pythonString) }
            let depth = args["depth"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 0
            func walk(_ folder: String, _ level: Int) throws {
                let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                for name in names {
                    let path = folder + "/" + name
                    if Self.isDirectory(path) {
                        if depth == 0 || level < depth { try walk(path, level + 1) }
                        continue
                    }
                    let ext = (name as NSString).pathExtension
                    guard extensions.contains(ext), !ignored.contains(name) else { continue }
                    if let pattern, try pattern.firstMatch(name) == nil { continue }
                    files.append(path)
                }
            }
            try walk(found, 1)
        } else {
            let name = (args["file"] ?? args["_raw_params"])?.pythonString ?? ""
            guard let found = find(name) else {
                return ["failed": true, "changed": false, "msg": .string("Could not find or access '\(name)' (looked in vars/ of the role and the playbook, and beside them)")]
            }
            files = [found]
        }
        var included = Dict()
        for file in files {
            for (key, value) in try ExtraVars.parse("@" + file, read: { try String(contentsOfFile: $0, encoding: .utf8) }) { included[.string(key)] = value }
        }
        var vars: Dict
        if let name = args["name"]?.pythonString { vars = Dict(); vars[.string(name)] = .dict(included) } else { vars = included }
        return [
            "changed": false, "ansible_included_var_files": .list(files.map { .string(PlaybookPaths.absolute($0)) }),
            "ansible_facts": .dict(vars),
        ]
    }

    /// A `src` known only once rendered (`"{{ name }}.j2"`) is looked for where the loader
    /// looks for a literal one: `templates/` (or `files/`) beside the playbook, then beside it;
    /// never the coordinator's current directory.
    private func resolveSource(_ args: inout Dict, in folder: String) -> Value? {
        guard args["remote_src"].flatMap(PlaybookLoader.boolean) != true, args["_src_path"] == nil, let src = args["src"]?.pythonString else { return nil }
        let bases = task.searchDirectories.isEmpty ? [(task.location.file as NSString).deletingLastPathComponent] : task.searchDirectories
        let candidates = src.hasPrefix("/") ? [src] : bases.flatMap { [$0 + "/" + folder + "/" + src, $0 + "/" + src] }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            let places = task.role.map { "\(folder)/ of the role \($0), the role's folder, then \(folder)/ beside the playbook and beside it" }
                ?? "\(folder)/ beside the playbook, then beside it"
            return ["failed": true, "changed": false, "msg": .string("\(task.module): could not find '\(src)' (looked in \(places))")]
        }
        args["_src_path"] = .string(found)
        return nil
    }

    /// Rendered arguments, `omit` ones dropped; then checked again now that values are known.
    private func render(_ args: Dict, _ scope: Scope) throws(TemplateError) -> Dict {
        var out = Dict()
        for (key, value) in args.pairs {
            let rendered = try ControlModules.at(key.pythonString, task.argumentLocations) { () throws(TemplateError) in try scope.render(value) }
            if rendered == .string(PlaybookRun.omit) { continue }
            out[key] = rendered
        }
        return out
    }
}

/// `debug`, `assert`, `set_fact`, `pause`: run on the coordinator, as Ansible runs them.
enum ControlModules {
    /// `body`'s template error, placed at argument `key`'s value (when the loader knew it).
    static func at<T>(_ key: String, _ locations: [String: Location], _ body: () throws(TemplateError) -> T) throws(TemplateError) -> T {
        do { return try body() } catch {
            var located = error
            if located.origin == nil { located.origin = locations[key]?.description }
            throw located
        }
    }

    static func debug(_ args: Dict, _ scope: Scope, verbosity: Int, locations: [String: Location] = [:]) throws(TemplateError) -> Value {
        if let threshold = args["verbosity"] {
            guard case .int(let level) = try scope.render(threshold) else { throw TemplateError("debug: verbosity must be an integer") }
            if level > verbosity { return ["changed": false, "skipped": true, "skipped_reason": "Verbosity threshold not met."] }
        }
        if let variable = args["var"] {
            let name = variable.pythonString
            let value: Value
            do {
                value = try Expression(name).evaluate(scope.lookup(depth: 0), in: scope.environment)
            } catch {
                return .dict(Dict(strings: [("changed", false), (name, "VARIABLE IS NOT DEFINED!")]))
            }
            if value.isUndefined { return .dict(Dict(strings: [("changed", false), (name, "VARIABLE IS NOT DEFINED!")])) }
            return .dict(Dict([("changed", false), (.string(name), try scope.render(value))]))
        }
        let message = try at("msg", locations) { () throws(TemplateError) in try scope.render(args["msg"] ?? "Hello world!") }
        return ["changed": false, "msg": message]
    }

    static func assert(_ args: Dict, _ scope: Scope, locations: [String: Location] = [:]) throws(TemplateError) -> Value {
        var conditions: [String] = []
        switch args["that"] {
        case .list(let items)?: conditions = items.map(\.pythonString)
        case let value?: conditions = [value.pythonString]
        case nil: break
        }
        for condition in conditions where try at("that", locations, { () throws(TemplateError) in try !scope.condition(condition) }) {
            let message = try at("fail_msg", locations) { () throws(TemplateError) in try args["fail_msg"].map { m throws(TemplateError) in try scope.render(m) } } ?? "Assertion failed"
            return ["failed": true, "changed": false, "assertion": .string(condition), "evaluated_to": false, "msg": message]
        }
        let message = try at("success_msg", locations) { () throws(TemplateError) in try args["success_msg"].map { m throws(TemplateError) in try scope.render(m) } } ?? "All assertions passed"
        return ["changed": false, "msg": message]
    }

    static func setFact(_ args: Dict) -> Value {
        var facts = Dict()
        for (key, value) in args.pairs where key.pythonString != "cacheable" {
            // `key=value` text arrives as strings; Ansible reads yes/no/true/false there as booleans.
            if case .string(let s) = value, ["yes", "no", "true", "false", "True", "False"].contains(s) {
                facts[key] = .bool(["yes", "true", "True"].contains(s))
            } else {
                facts[key] = value
            }
        }
        return ["changed": false, "ansible_facts": .dict(facts)]
    }

    static func pause(_ args: Dict) async throws -> Value {
        let seconds = Int(try ModuleSeconds.parse(args["seconds"], "pause: seconds", default: 0) + ModuleSeconds.parse(args["minutes"], "pause: minutes", default: 0, scale: 60))
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = ContinuousClock.now - started
        return ["changed": false, "delta": .int(Int(elapsed.components.seconds)), "stdout": .string("Paused for \(seconds) seconds"), "user_input": ""]
    }
}
