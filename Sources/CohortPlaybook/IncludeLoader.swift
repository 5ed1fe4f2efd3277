import CohortCore
import CohortTemplate
import Yams

/// `import_tasks` and `include_tasks` files, `import_role` and `include_role`: read and checked
/// at load when their name is known then (an import must be; an include may be a template,
/// read when it runs).
extension PlaybookLoader {
    /// The tasks of an included or imported file; nil when the name is a template (an
    /// include's, read when it runs) or the file includes itself (its recursion is bounded
    /// when it runs).
    func includedTasks(_ task: PlayTask, file: String, handler: Bool, at node: Node) throws(CohortError) -> [TaskItem]? {
        let name = (task.args["file"] ?? task.args["_raw_params"])?.pythonString ?? ""
        if Template.isTemplate(name) {
            guard task.module == "include_tasks" else { throw YAMLValues.error("'import_tasks' needs a file name known before the run (use include_tasks for a templated one)", node, file) }
            return nil
        }
        guard let path = findTasksFile(name, from: file) else {
            throw YAMLValues.error("could not find the tasks file '\(name)' (looked in: \(taskFileCandidates(name, from: file).joined(separator: ", ")))", node, file)
        }
        if context.includes.contains(path) {
            guard task.module == "include_tasks" else { throw YAMLValues.error("'\(name)' imports itself: \((context.includes + [path]).joined(separator: " -> "))", node, file) }
            return nil
        }
        guard context.includes.count < 32 else { throw YAMLValues.error("tasks files nest more than 32 deep", node, file) }
        context.includes.append(path)
        defer { context.includes.removeLast() }
        return try tasksFile(path, handler: handler)
    }

    /// A tasks file's items, read in the current role context (if any).
    public func tasksFile(_ path: String, handler: Bool) throws(CohortError) -> [TaskItem] {
        let text: String
        do { text = try read(path) } catch { throw CohortError(.invalidInput, "cannot read: \(error)", file: path) }
        guard let root = try YAMLValues.compose(text, file: path) else { return [] }
        return try items(root, file: path, handler: handler)
    }

    /// Ansible's search for an included file: beside the file that includes it, the role's
    /// `tasks/` and folder, then beside the playbook.
    func taskFileCandidates(_ name: String, from file: String) -> [String] {
        if name.hasPrefix("/") { return [name] }
        var bases = [directory(file)]
        if let role = context.role { bases += [role.path + "/tasks", role.path] }
        bases.append(context.playbookDirectory)
        var out: [String] = []
        for base in bases where !out.contains(Self.normalized(base + "/" + name)) { out.append(Self.normalized(base + "/" + name)) }
        return out
    }

    func findTasksFile(_ name: String, from file: String) -> String? {
        taskFileCandidates(name, from: file).first(where: exists)
    }

    /// Runs `body` as the loader does inside `role` (`name`, folder) beside `playbookDirectory`:
    /// the runner reads a templated include this way when it runs.
    public func within<T>(role: (name: String, path: String)?, playbookDirectory: String, _ body: () throws(CohortError) -> T) throws(CohortError) -> T {
        let saved = (context.role, context.playbookDirectory)
        context.role = role
        context.playbookDirectory = playbookDirectory
        defer { (context.role, context.playbookDirectory) = saved }
        return try body()
    }

    /// `import_role` / `include_role`: the role's tasks (`tasks_from`, dependencies first) in
    /// a block carrying its defaults (`defaults_from`) and vars (`vars_from`); its handlers
    /// (`handlers_from`) join the play's.
    func includedRole(_ task: PlayTask, file: String, at node: Node) throws(CohortError) -> [TaskItem] {
        let name = task.args["name"]?.pythonString ?? ""
        guard !Template.isTemplate(name) else { throw YAMLValues.error("a role's name must be plain text (templated role names are not supported)", node, file) }
        for key in ["tasks_from", "vars_from", "defaults_from", "handlers_from"] {
            if let value = task.args[.string(key)]?.pythonString, Template.isTemplate(value) {
                throw YAMLValues.error("\(key) must be plain text (a template is not supported)", node, file)
            }
        }
        var entry = RoleRequest(name: name, node: node, file: file)
        entry.tasksFrom = task.args["tasks_from"]?.pythonString
        entry.varsFrom = task.args["vars_from"]?.pythonString
        entry.defaultsFrom = task.args["defaults_from"]?.pythonString
        entry.handlersFrom = task.args["handlers_from"]?.pythonString
        entry.allowDuplicates = true
        var out = CompiledRoles()
        try compileRole(entry, into: &out, parentDefaults: [])
        context.extraHandlers += out.handlers
        return out.tasks
    }
}
