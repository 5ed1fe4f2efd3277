import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

extension PlayTask {
    /// `include_tasks` and `include_role`: they add tasks to the hosts that run them.
    var isDynamicInclude: Bool { module == "include_tasks" || module == "include_role" }
}

/// One file an include added for a host: one per loop item.
struct IncludeInstance {
    var path: String
    var vars: [(String, Value)]
    var label: String?
}

/// Dynamic includes: what each host's include added is spliced into that host's cursor,
/// after the include and before what follows it, under keys that sort there.
extension PlayRunner {
    /// The include's result, or each loop item's, as the files to add with their variables.
    static func instances(_ outcome: TaskOutcome, _ task: PlayTask) -> [IncludeInstance] {
        func instance(_ result: Value, label: String?) -> IncludeInstance? {
            guard case .dict(let dict) = result, let path = dict["include"]?.string else { return nil }
            var vars: [(String, Value)] = []
            if task.loop != nil {
                for name in [task.loopVar, "ansible_loop_var"] + [task.indexVar].compactMap({ $0 }) {
                    if let value = dict[.string(name)] { vars.append((name, value)) }
                }
            }
            return IncludeInstance(path: path, vars: vars, label: label)
        }
        if task.loop == nil { return instance(outcome.result, label: nil).map { [$0] } ?? [] }
        return outcome.items.filter { $0.status == .ok || $0.status == .changed }.compactMap { instance($0.result, label: $0.label) }
    }

    /// Prints `included: PATH for HOSTS` per file (and item), counts each as ok, and splices
    /// each host's files into its cursor in order.
    mutating func splice(_ includes: [String: [IncludeInstance]], after scheduled: ScheduledTask, hosts: [String], strategy: inout PlayStrategy) {
        var lines: [(path: String, label: String?, hosts: [String])] = []
        for name in hosts {
            for instance in includes[name] ?? [] {
                if let index = lines.firstIndex(where: { $0.path == instance.path && $0.label == instance.label }) {
                    lines[index].hosts.append(name)
                } else {
                    lines.append((instance.path, instance.label, [name]))
                }
            }
        }
        for line in lines { emit(.included(path: line.path, hosts: line.hosts, label: line.label)) }
        for name in hosts {
            guard let list = includes[name], !list.isEmpty else { continue }
            states[name]!.recap.ok += list.count
            guard strategy.depth(name) < 64 else {
                emit(.result(host: name, outcome: TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": "includes nest more than 64 deep"])))
                states[name]!.recap.failed += 1
                strategy.fail(name)
                continue
            }
            // The first instance must run first: pushed last.
            for (index, instance) in list.enumerated().reversed() {
                let items: [TaskItem]
                switch tasks(of: instance.path, for: scheduled.task) {
                case .success(let loaded): items = loaded
                case .failure(let error):
                    emit(.result(host: name, outcome: TaskOutcome(status: .failed, result: ["failed": true, "changed": false, "msg": .string(error.description)])))
                    states[name]!.recap.failed += 1
                    strategy.fail(name)
                    continue
                }
                let ordinal = includeOrdinals[instance.path] ?? includeOrdinals.count
                includeOrdinals[instance.path] = ordinal
                var options = TaskOptions()
                options.vars = scheduled.task.options.vars + instance.vars
                let program = TaskProgram(items, prefix: scheduled.number.path + [index, ordinal])
                strategy.splice(name, program, options: options, at: scheduled.task.location)
            }
        }
    }

    /// What an include adds: read at load when its name was known then, else read now (once
    /// per file) in its role's context.
    mutating func tasks(of path: String, for task: PlayTask) -> Result<[TaskItem], CohortError> {
        if let included = task.included { return .success(included) }
        if let cached = includeCache[path] { return cached }
        let loader = PlaybookLoader(read: { try String(contentsOfFile: $0, encoding: .utf8) }, exists: { FileManager.default.fileExists(atPath: $0) })
        let role = task.role.flatMap { name in task.searchDirectories.first.map { (name: name, path: $0) } }
        let playbookDirectory = (run.playbook.file as NSString).deletingLastPathComponent
        let result: Result<[TaskItem], CohortError>
        do {
            result = .success(try loader.within(role: role, playbookDirectory: playbookDirectory.isEmpty ? "." : playbookDirectory) {
                () throws(CohortError) in try loader.tasksFile(path, handler: false)
            })
        } catch {
            result = .failure(error)
        }
        includeCache[path] = result
        return result
    }
}
