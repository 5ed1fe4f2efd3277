import CohortCore
import CohortInventory
import CohortTemplate
import Yams

/// Reads a playbook and checks all of it before any host is contacted: YAML, plays, tasks,
/// blocks, modules and their arguments, templates and `vars_files` that must exist, and the
/// handlers that `notify` names. The first problem is thrown as `file:line:column: what`.
public struct PlaybookLoader {
    /// Reads a file's text; the tests give their own.
    public var read: (String) throws -> String
    /// Whether a file exists (a template's or copy's `src`).
    public var exists: (String) -> Bool

    /// Where roles are looked for after `roles/` beside the playbook and before the playbook's
    /// own folder (ANSIBLE_ROLES_PATH, else Ansible's default folders; the CLI expands `~`).
    public var rolesPath: [String] = ["/usr/share/ansible/roles", "/etc/ansible/roles"]
    /// Whether a play without `gather_facts` gathers them (ansible.cfg's `gathering =
    /// explicit` says no).
    public var gatherByDefault = true
    /// The strategy of plays that name none (ansible.cfg's `strategy`).
    public var defaultStrategy = "linear"

    /// What the loader is inside of while it reads a role's files (a reference, so that the
    /// recursive readers need not pass it along).
    let context = LoadContext()

    public init(read: @escaping (String) throws -> String, exists: @escaping (String) -> Bool) {
        self.read = read
        self.exists = exists
    }

    static let playKeywords: Set<String> = [
        "name", "hosts", "vars", "vars_files", "tasks", "pre_tasks", "post_tasks", "handlers", "gather_facts", "environment",
        "ignore_errors", "check_mode", "tags", "roles", "connection", "serial", "max_fail_percentage", "any_errors_fatal", "order", "remote_user",
        "become", "become_user", "become_method", "strategy",
    ]
    static let optionKeywords: Set<String> = [
        "when", "vars", "tags", "ignore_errors", "check_mode", "diff", "environment", "no_log", "run_once", "delegate_to", "connection",
        "delegate_facts", "any_errors_fatal", "throttle", "become", "become_user", "become_method", "remote_user",
    ]
    static let taskKeywords: Set<String> = optionKeywords.union([
        "name", "loop", "with_items", "with_list", "with_dict", "loop_control", "register", "notify", "listen", "changed_when", "failed_when",
        "args", "until", "retries", "delay", "local_action", "async", "poll",
    ]).union(LoopLookups.pure.union(LoopLookups.files).map { "with_" + $0 })
    static let blockKeywords: Set<String> = optionKeywords.union(["name", "block", "rescue", "always"])

    public func load(path: String) throws(CohortError) -> Playbook {
        context.unsupported = []
        let loaded = try plays(of: path, importedThrough: [])
        if let first = context.unsupported.first {
            // Every place at once, the first as the error's own location.
            let others = context.unsupported.dropFirst().map { "\n" + $0.description }.joined()
            throw CohortError(.invalidInput, first.message + others, file: first.file, line: first.line, column: first.column)
        }
        return Playbook(file: path, plays: loaded)
    }

    /// A playbook file's plays, with those of the playbooks it imports in their places.
    private func plays(of path: String, importedThrough chain: [String]) throws(CohortError) -> [Play] {
        let text: String
        do { text = try read(path) } catch { throw CohortError(.invalidInput, "cannot read the playbook: \(error)", file: path) }
        guard let root = try YAMLValues.compose(text, file: path) else { throw CohortError(.invalidInput, "the playbook is empty", file: path) }
        guard case .sequence(let plays) = root else {
            throw YAMLValues.error("a playbook must be a list of plays", root, path)
        }
        var loaded: [Play] = []
        for node in plays {
            if let imported = try importedPlays(node, file: path, chain: chain) { loaded += imported } else { loaded.append(try play(node, file: path)) }
        }
        try PythonPlugins.check(root, file: path, directory: directory(path), exists: exists)
        return loaded
    }

    static let importPlaybookKeys: Set<String> = ["import_playbook", "ansible.builtin.import_playbook", "ansible.legacy.import_playbook"]

    /// `import_playbook: FILE` (beside the importing playbook unless absolute), with `name`,
    /// `vars` (over each imported play's own), `tags` (added to each play's) and `when`
    /// (before each task's and block's own), as Ansible's PlaybookInclude; nil for a play.
    private func importedPlays(_ node: Node, file: String, chain: [String]) throws(CohortError) -> [Play]? {
        guard case .mapping = node else { return nil }
        let fields = try mapping(node, "a play", file)
        if let (key, keyNode) = fields.first(where: { $0.0 == "include_playbook" }) {
            throw YAMLValues.error("'\(key)' is not an Ansible keyword any more: use import_playbook", keyNode, file)
        }
        let keys = fields.filter { Self.importPlaybookKeys.contains($0.0) }
        guard let (_, nameNode) = keys.first else { return nil }
        if keys.count > 1 { throw YAMLValues.error("Found conflicting import_playbook actions: \(keys.map(\.0).sorted().joined(separator: ", "))", node, file) }
        var vars: [(String, Value)] = []
        var tags: [String] = []
        var when: [String] = []
        for (key, value) in fields where !Self.importPlaybookKeys.contains(key) {
            switch key {
            case "name": break
            case "vars": vars = try variables(value, file)
            case "tags": tags = try self.tags(value, file)
            case "when": when = try conditions(value, file)
            default: throw YAMLValues.error("'\(key)' is not a valid attribute for a PlaybookInclude (import_playbook takes name, vars, tags, when)", value, file)
            }
        }
        guard case .string(let name) = try YAMLValues.value(nameNode, file), !name.isEmpty else {
            throw YAMLValues.error("import_playbook needs a playbook file name", nameNode, file)
        }
        if Template.isTemplate(name) { throw YAMLValues.error("import_playbook: a templated file name is not supported by cohort play yet", nameNode, file) }
        let path = name.hasPrefix("/") ? name : directory(file) + "/" + name
        guard exists(path) else { throw YAMLValues.error("import_playbook: could not find '\(name)' (looked beside \(file))", nameNode, file) }
        let normalized = Self.normalized(path)
        if chain.count >= 64 || chain.contains(normalized) || normalized == Self.normalized(file) {
            throw YAMLValues.error("import_playbook: '\(name)' imports itself (through \((chain + [file]).joined(separator: " -> ")))", nameNode, file)
        }
        var imported = try plays(of: path, importedThrough: chain + [Self.normalized(file)])
        for index in imported.indices {
            var play = imported[index]
            var merged = play.vars
            for (key, value) in vars where key != "tags" { merged.removeAll { $0.0 == key }; merged.append((key, value)) }
            play.vars = merged
            if let param = vars.first(where: { $0.0 == "tags" })?.1 { play.tags += param.pythonString.split(separator: ",").map(String.init) }
            for tag in tags where !play.tags.contains(tag) { play.tags.append(tag) }
            if !when.isEmpty {
                func conditioned(_ items: [TaskItem]) -> [TaskItem] {
                    items.map { item in
                        switch item {
                        case .task(var task):
                            task.options.when = when + task.options.when
                            return .task(task)
                        case .block(var block):
                            block.options.when = when + block.options.when
                            return .block(block)
                        }
                    }
                }
                play.preTasks = conditioned(play.preTasks)
                play.tasks = conditioned(play.tasks)
                play.postTasks = conditioned(play.postTasks)
            }
            imported[index] = play
        }
        return imported
    }

    var directory: (String) -> String = { path in
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    func mapping(_ node: Node, _ what: String, _ file: String) throws(CohortError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw YAMLValues.error("\(what) must be a mapping", node, file) }
        var out: [(String, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else { throw YAMLValues.error("a key must be text", key, file) }
            out.append((scalar.string, value))
        }
        return out
    }

    private func play(_ node: Node, file: String) throws(CohortError) -> Play {
        let fields = try mapping(node, "a play", file)
        for (key, value) in fields where !Self.playKeywords.contains(key) {
            if Self.unsupportedKeywords.contains(key) {
                context.unsupported.append(YAMLValues.error("'\(key)' is not supported by cohort play yet", value, file))
                continue
            }
            throw YAMLValues.error(
                "'\(key)' is not a valid attribute for a Play; supported: \(Self.playKeywords.sorted().joined(separator: ", "))", value, file)
        }
        let field = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        guard let hostsNode = field["hosts"] else { throw YAMLValues.error("the field 'hosts' is required but was not set", node, file) }
        let hosts: String
        switch try YAMLValues.value(hostsNode, file) {
        case .string(let s): hosts = s
        case .list(let l): hosts = l.map(\.pythonString).joined(separator: ":")
        default: throw YAMLValues.error("hosts must be a pattern or a list of patterns", hostsNode, file)
        }
        var varsFiles: [[(String, Value)]] = []
        if let filesNode = field["vars_files"] {
            for item in try list(filesNode, file) {
                // A list inside the list: the first of its files that exists, as Ansible.
                let names: [Value]
                switch try YAMLValues.value(item, file) {
                case .list(let list): names = list
                case let one: names = [one]
                }
                var paths: [String] = []
                for value in names {
                    guard case .string(let name) = value else { throw YAMLValues.error("vars_files holds file names", item, file) }
                    guard !Template.isTemplate(name) else { throw YAMLValues.error("templated vars_files names are not supported yet", item, file) }
                    paths.append(name.hasPrefix("/") ? name : directory(file) + "/" + name)
                }
                guard let path = paths.first(where: exists) else {
                    throw YAMLValues.error("vars file \(names.map(\.pythonString).joined(separator: ", ")) was not found (looked for \(paths.joined(separator: ", ")))", item, file)
                }
                varsFiles.append(try variablesFile(path))
            }
        }
        // Read before the tasks, so that its problems are listed in the file's order.
        let playBecome = try becomeKeywords(field, file)
        context.playbookDirectory = directory(file)
        context.compiled = []
        context.extraHandlers = []
        var compiled = CompiledRoles()
        if let node = field["roles"] { compiled = try roles(node, file: file) }
        var handlers: [TaskItem] = compiled.handlers
        if let node = field["handlers"] { handlers += try items(node, file: file, handler: true) }
        let preTasks = try field["pre_tasks"].map { n throws(CohortError) in try items(n, file: file) } ?? []
        let tasks = compiled.tasks + (try field["tasks"].map { n throws(CohortError) in try items(n, file: file) } ?? [])
        let postTasks = try field["post_tasks"].map { n throws(CohortError) in try items(n, file: file) } ?? []
        // Handlers of roles that the tasks import or include come before the play's own.
        handlers = compiled.handlers + context.extraHandlers + Array(handlers.dropFirst(compiled.handlers.count))
        let names = Self.handlerNames(handlers)
        var play = Play(
            name: "", hosts: hosts, vars: try field["vars"].map { n throws(CohortError) in try variables(n, file) } ?? [], varsFiles: varsFiles,
            preTasks: preTasks, tasks: tasks, postTasks: postTasks,
            handlers: handlers, gatherFacts: gatherByDefault, environment: try field["environment"].map { n throws(CohortError) in try YAMLValues.value(n, file) },
            ignoreErrors: try field["ignore_errors"].map { n throws(CohortError) in try YAMLValues.value(n, file) },
            checkMode: try field["check_mode"].map { n throws(CohortError) in try YAMLValues.value(n, file) },
            tags: try field["tags"].map { n throws(CohortError) in try tags(n, file) } ?? [], location: YAMLValues.location(node, file))
        if let n = field["connection"] {
            guard case .string(let text) = try YAMLValues.value(n, file), Self.connections.contains(text) else {
                throw YAMLValues.error("connection must be one of: local, ssh (a template is not supported on a play)", n, file)
            }
            play.connection = text
        }
        if let n = field["serial"] {
            let values: [Value]
            switch try YAMLValues.value(n, file) {
            case .list(let list): values = list
            case let one: values = [one]
            }
            play.serial = try values.map { value throws(CohortError) in
                switch value {
                case .int(let count): return .count(count)
                case .string(let text) where text.hasSuffix("%"):
                    guard let percent = Int(text.dropLast()) else { throw YAMLValues.error("serial: '\(text)' is not a percentage", n, file) }
                    return .percent(percent)
                case .string(let text) where Int(text) != nil: return .count(Int(text)!)
                default:
                    throw YAMLValues.error("serial takes a number, a percentage or a list of them (a template is not supported yet), not \(value.pythonRepr)", n, file)
                }
            }
        }
        if let n = field["max_fail_percentage"] {
            let value = try YAMLValues.value(n, file)
            let number: Double? = switch value {
                case .int(let i): Double(i)
                case .float(let d): d
                case .string(let s): Double(s.hasSuffix("%") ? String(s.dropLast()) : s)
                default: nil
                }
            guard let number, number.isFinite, (0...100).contains(number) else { throw YAMLValues.error("max_fail_percentage must be a number from 0 to 100", n, file) }
            play.maxFailPercentage = number
        }
        if let n = field["remote_user"] {
            guard case .string(let user) = try YAMLValues.value(n, file), !user.isEmpty, !Template.isTemplate(user) else {
                throw YAMLValues.error("remote_user must be a user name (a template is not supported on a play yet)", n, file)
            }
            play.remoteUser = user
        }
        play.become = playBecome
        if let n = field["order"] {
            guard case .string(let order) = try YAMLValues.value(n, file), ["inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle"].contains(order) else {
                throw YAMLValues.error("order must be one of: inventory, reverse_inventory, sorted, reverse_sorted, shuffle", n, file)
            }
            play.order = order
        }
        play.strategy = defaultStrategy
        if let n = field["strategy"] {
            guard case .string(let name) = try YAMLValues.value(n, file), Self.strategies.contains(Self.shortName(name)) else {
                throw YAMLValues.error("strategy must be one of: \(Self.strategies.sorted().joined(separator: ", ")) (others are not supported by cohort play yet)", n, file)
            }
            play.strategy = Self.shortName(name)
        }
        if let n = field["any_errors_fatal"] {
            guard let flag = Self.boolean(try YAMLValues.value(n, file)) else { throw YAMLValues.error("any_errors_fatal must be a boolean", n, file) }
            play.anyErrorsFatal = flag
        }
        play.roleDefaults = compiled.defaults
        play.roleVars = compiled.vars
        play.name = try field["name"].map { n throws(CohortError) in try YAMLValues.value(n, file).pythonString } ?? hosts
        if let gather = field["gather_facts"] {
            guard let value = Self.boolean(try YAMLValues.value(gather, file)) else { throw YAMLValues.error("gather_facts must be a boolean", gather, file) }
            play.gatherFacts = value
        }
        for item in play.preTasks + play.tasks + play.postTasks + play.handlers { try checkNotify(item, handlers: names) }
        if play.strategy == "free" || play.strategy == "host_pinned" {
            for item in play.preTasks + play.tasks + play.postTasks + play.handlers { try checkFree(item) }
        }
        return play
    }

    /// Ansible's free strategy stops the run at a module that bypasses the host loop (after
    /// the tasks before it ran); here the playbook is refused before anything runs.
    private func checkFree(_ item: TaskItem) throws(CohortError) {
        switch item {
        case .task(let task):
            if Self.bypassesHostLoop.contains(task.module) {
                throw YAMLValues.error(
                    "the '\(task.module)' module bypasses the host loop, which the free strategy does not support (ansible-playbook stops there too)", at: task.location)
            }
            for inner in task.included ?? [] { try checkFree(inner) }
        case .block(let block):
            for inner in block.block + block.rescue + block.always { try checkFree(inner) }
        }
    }

    /// Modules that run once for the play's hosts (Ansible's `BYPASS_HOST_LOOP`).
    public static let bypassesHostLoop: Set<String> = ["pause", "add_host"]

    /// A handler answers to its name and to every `listen` topic.
    static func handlerNames(_ handlers: [TaskItem]) -> Set<String> {
        var names = Set<String>()
        for item in handlers {
            if case .task(let task) = item {
                if let name = task.name { names.insert(name) }
                names.formUnion(task.listen)
            }
        }
        return names
    }

    private func checkNotify(_ item: TaskItem, handlers: Set<String>) throws(CohortError) {
        switch item {
        case .task(let task):
            for name in task.notify where !Template.isTemplate(name) && !handlers.contains(name) {
                throw YAMLValues.error("the handler '\(name)' that this task notifies is not defined in the play's handlers", at: task.location)
            }
        case .block(let block):
            for inner in block.block + block.rescue + block.always { try checkNotify(inner, handlers: handlers) }
        }
    }

    func variablesFile(_ path: String) throws(CohortError) -> [(String, Value)] {
        let text: String
        do { text = try read(path) } catch { throw CohortError(.invalidInput, "cannot read: \(error)", file: path) }
        guard let root = try YAMLValues.compose(text, file: path) else { return [] }
        return try variables(root, path)
    }

    func variables(_ node: Node, _ file: String) throws(CohortError) -> [(String, Value)] {
        var out: [(String, Value)] = []
        for (key, value) in try mapping(node, "vars", file) {
            guard Self.isIdentifier(key) else { throw YAMLValues.error("'\(key)' is not a valid variable name", node, file) }
            out.append((key, try YAMLValues.value(value, file)))
        }
        return out
    }

    public static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    func list(_ node: Node, _ file: String) throws(CohortError) -> [Node] {
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar: return [node]
        default: throw YAMLValues.error("expected a list", node, file)
        }
    }

    func tags(_ node: Node, _ file: String) throws(CohortError) -> [String] {
        switch try YAMLValues.value(node, file) {
        case .list(let items): return items.map(\.pythonString)
        case .none: return []
        case let scalar: return scalar.pythonString.split(separator: ",").map { String($0).trimmed }
        }
    }

    func conditions(_ node: Node, _ file: String) throws(CohortError) -> [String] {
        switch try YAMLValues.value(node, file) {
        case .list(let items): return items.map(\.pythonString)
        case .none: return []
        case .bool(let b): return [b ? "True" : "False"]
        case let scalar: return [scalar.pythonString]
        }
    }

    /// Ansible's boolean arguments: yes/no, true/false, on/off, y/n, t/f, 1/0.
    public static func boolean(_ value: Value) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .string(let s):
            switch s.lowercased() {
            case "yes", "on", "true", "1", "y", "t": return true
            case "no", "off", "false", "0", "n", "f": return false
            default: return nil
            }
        case .int(let i) where i == 0 || i == 1: return i == 1
        default: return nil
        }
    }

    func items(_ node: Node, file: String, handler: Bool = false) throws(CohortError) -> [TaskItem] {
        switch node {
        case .sequence(let sequence):
            var out: [TaskItem] = []
            for item in sequence { out.append(try taskItem(item, file: file, handler: handler)) }
            return out
        case .scalar(let scalar) where YAMLValues.convert(YAML11Scalar.resolve(scalar.string)) == .none && scalar.style == .plain:
            return []
        default:
            throw YAMLValues.error("a task list must be a list", node, file)
        }
    }

    /// The methods `become_method` may name: sudo and su (Ansible's `doas`, `runas` and the
    /// others are refused by name at load, before anything runs).
    public static let becomeMethods: Set<String> = ["sudo", "su"]

    func becomeKeywords(_ field: [String: Node], _ file: String) throws(CohortError) -> BecomeKeywords {
        var out = BecomeKeywords()
        out.become = try field["become"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        if let n = field["become"], let value = out.become, !(value.string.map(Template.isTemplate) ?? false), Self.boolean(value) == nil {
            throw YAMLValues.error("become must be a boolean, not \(value.pythonRepr)", n, file)
        }
        out.user = try field["become_user"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        if let n = field["become_user"], let value = out.user {
            guard case .string(let user) = value, !user.isEmpty else { throw YAMLValues.error("become_user must be a user name", n, file) }
        }
        out.method = try field["become_method"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        if let n = field["become_method"], case .string(let method)? = out.method, !Template.isTemplate(method) {
            let short = Self.shortName(method)
            guard Self.becomeMethods.contains(short) else {
                context.unsupported.append(YAMLValues.error("become_method '\(method)' is not supported by cohort play yet (supported: sudo, su)", n, file))
                return out
            }
        }
        return out
    }

    func options(_ field: [String: Node], _ file: String) throws(CohortError) -> TaskOptions {
        var options = TaskOptions()
        if let n = field["when"] { options.when = try conditions(n, file) }
        if let n = field["vars"] { options.vars = try variables(n, file) }
        if let n = field["tags"] { options.tags = try tags(n, file) }
        options.ignoreErrors = try field["ignore_errors"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.checkMode = try field["check_mode"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.diff = try field["diff"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.environment = try field["environment"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.noLog = try field["no_log"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.runOnce = try field["run_once"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.anyErrorsFatal = try field["any_errors_fatal"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.throttle = try field["throttle"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.delegateTo = try field["delegate_to"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.delegateFacts = try field["delegate_facts"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        options.become = try becomeKeywords(field, file)
        if let n = field["remote_user"] {
            let value = try YAMLValues.value(n, file)
            guard case .string(let user) = value, !user.isEmpty else { throw YAMLValues.error("remote_user must be a user name", n, file) }
            options.remoteUser = value
        }
        if let n = field["connection"] {
            let value = try YAMLValues.value(n, file)
            guard case .string(let text) = value, Self.connections.contains(text) || Template.isTemplate(text) else {
                throw YAMLValues.error("connection '\(value.pythonString)' is not supported by cohort play (local, ssh)", n, file)
            }
            options.connection = value
        }
        return options
    }

    private func taskItem(_ node: Node, file: String, handler: Bool) throws(CohortError) -> TaskItem {
        let fields = try mapping(node, "a task", file)
        let field = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        if let blockNode = field["block"] {
            for (key, value) in fields where !Self.blockKeywords.contains(key) {
                if Self.unsupportedKeywords.contains(key) {
                    context.unsupported.append(YAMLValues.error("'\(key)' is not supported by cohort play yet", value, file))
                    continue
                }
                throw YAMLValues.error("'\(key)' is not a valid attribute for a Block", value, file)
            }
            return .block(Block(
                name: try field["name"].map { n throws(CohortError) in try YAMLValues.value(n, file).pythonString },
                block: try items(blockNode, file: file, handler: handler),
                rescue: try field["rescue"].map { n throws(CohortError) in try items(n, file: file, handler: handler) } ?? [],
                always: try field["always"].map { n throws(CohortError) in try items(n, file: file, handler: handler) } ?? [],
                options: try options(field, file), location: YAMLValues.location(node, file)))
        }
        var module: (written: String, name: String, node: Node)?
        var lacking = false
        var localAction: (module: String, args: Node)?
        if let n = field["local_action"] {
            localAction = try Self.localAction(n, file)
            guard ModuleSpec.all[Self.shortName(localAction!.module)] != nil else {
                throw YAMLValues.error("local_action: module '\(localAction!.module)' is not supported by cohort play yet", n, file)
            }
            module = (localAction!.module, Self.shortName(localAction!.module), localAction!.args)
        }
        for (key, value) in fields where !Self.taskKeywords.contains(key) {
            let short = Self.shortName(key)
            if Self.unsupportedKeywords.contains(key) {
                context.unsupported.append(YAMLValues.error("'\(key)' is not supported by cohort play yet", value, file))
                continue
            }
            if ModuleSpec.all[short] == nil, Self.isUnsupportedModule(key) {
                // The supported ones are listed once, with the first.
                let listed = context.unsupported.contains { $0.message.hasPrefix("module ") }
                let supported = listed ? "" : " (supported modules: \(ModuleSpec.names.joined(separator: ", ")))"
                context.unsupported.append(YAMLValues.error("module '\(key)' is not supported by cohort play yet\(supported)", value, file))
                lacking = true
                continue
            }
            guard ModuleSpec.all[short] != nil else {
                if ["rescue", "always"].contains(key) { throw YAMLValues.error("'\(key)' belongs to a block: add 'block:' to this task", value, file) }
                throw YAMLValues.error(
                    "'\(key)' is neither a task keyword nor a supported module (supported modules: \(ModuleSpec.names.joined(separator: ", ")))",
                    value, file)
            }
            if let module {
                throw YAMLValues.error("conflicting action statements: \(localAction == nil ? module.written : "local_action"), \(key)", value, file)
            }
            module = (key, short, value)
        }
        // A module Cohort lacks was noted; the rest of the playbook is still read for others.
        if lacking, module == nil {
            return .task(PlayTask(name: nil, module: "meta", moduleAsWritten: "meta", args: ["_raw_params": "noop"], options: TaskOptions(), location: YAMLValues.location(node, file)))
        }
        guard let module else { throw YAMLValues.error("no module/action detected in task", node, file) }
        let location = YAMLValues.location(node, file)
        var task = PlayTask(
            name: try field["name"].map { n throws(CohortError) in try YAMLValues.value(n, file).pythonString }, module: module.name,
            moduleAsWritten: module.written, args: Dict(), options: try options(field, file), location: location)
        (task.args, task.argumentLocations) = try arguments(module.name, module.node, extra: field["args"], file: file, at: location)
        if localAction != nil {
            guard task.options.delegateTo == nil else { throw YAMLValues.error("local_action and delegate_to cannot both be set", node, file) }
            task.options.delegateTo = "localhost"
        }
        var loops = 0
        if let n = field["loop"] {
            task.loop = try YAMLValues.value(n, file)
            loops += 1
        }
        if let n = field["with_items"] {
            // with_items flattens one level once rendered, as Ansible's `items` lookup does.
            task.loop = try YAMLValues.value(n, file)
            task.loopFlattensOnce = true
            loops += 1
        }
        if let n = field["with_list"] {
            task.loop = try YAMLValues.value(n, file)
            loops += 1
        }
        if let n = field["with_dict"] {
            task.loop = try YAMLValues.value(n, file)
            task.loopIsDict = true
            loops += 1
        }
        for lookup in LoopLookups.pure.union(LoopLookups.files).sorted() {
            guard let n = field["with_" + lookup] else { continue }
            task.loop = try YAMLValues.value(n, file)
            task.loopLookup = lookup
            loops += 1
        }
        if loops > 1 { throw YAMLValues.error("a task can have only one of loop and the with_* keywords", node, file) }
        if let n = field["until"] {
            task.until = try conditions(n, file)
            task.retries = try field["retries"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
            task.delay = try field["delay"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        }
        task.asyncSeconds = try field["async"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        task.poll = try field["poll"].map { n throws(CohortError) in try YAMLValues.value(n, file) }
        if let n = field["loop_control"] {
            for (key, value) in try mapping(n, "loop_control", file) {
                let text = try YAMLValues.value(value, file).pythonString
                switch key {
                case "loop_var": task.loopVar = text
                case "index_var": task.indexVar = text
                case "label": task.label = text
                case "pause": task.loopPause = try YAMLValues.value(value, file)
                case "extended": task.loopExtended = try YAMLValues.value(value, file)
                case "extended_allitems": break
                default: throw YAMLValues.error("loop_control: '\(key)' is not supported (supported: loop_var, index_var, label, pause, extended)", value, file)
                }
            }
        }
        if let n = field["register"] {
            let name = try YAMLValues.value(n, file).pythonString
            guard Self.isIdentifier(name) else { throw YAMLValues.error("register: '\(name)' is not a valid variable name", n, file) }
            task.register = name
        }
        if let n = field["notify"] { task.notify = try tags(n, file) }
        if let n = field["listen"] {
            guard handler else { throw YAMLValues.error("'listen' is for handlers", n, file) }
            task.listen = try tags(n, file)
        }
        if let n = field["changed_when"] { task.changedWhen = try conditions(n, file) }
        if let n = field["failed_when"] { task.failedWhen = try conditions(n, file) }
        if handler, task.name == nil, task.listen.isEmpty {
            throw YAMLValues.error("a handler needs a name or listen", node, file)
        }
        switch task.module {
        case "import_tasks", "import_role":
            guard task.loop == nil else {
                throw YAMLValues.error("You cannot use loops on '\(task.module)' statements. You should use '\(task.module == "import_tasks" ? "include_tasks" : "include_role")' instead.", node, file)
            }
            guard !handler else { throw YAMLValues.error("'\(task.module)' in handlers is not supported by cohort play yet", node, file) }
            let items = task.module == "import_tasks" ? try includedTasks(task, file: file, handler: false, at: node)! : try includedRole(task, file: file, at: node)
            // An import is its tasks, with the import's keywords passed down (when, tags, vars).
            return .block(Block(name: nil, block: items, rescue: [], always: [], options: task.options, location: location))
        case "include_tasks":
            guard !handler else { throw YAMLValues.error("'include_tasks' in handlers is not supported by cohort play yet", node, file) }
            task.included = try includedTasks(task, file: file, handler: false, at: node)
        case "include_role":
            guard !handler else { throw YAMLValues.error("'include_role' in handlers is not supported by cohort play yet", node, file) }
            task.included = try includedRole(task, file: file, at: node)
        default: break
        }
        if let role = context.role {
            task.role = role.name
            task.searchDirectories = [role.path, context.playbookDirectory]
            // A role's handler also answers to "ROLE : NAME", as in Ansible.
            if handler, let name = task.name { task.listen.append(role.name + " : " + name) }
        }
        return .task(task)
    }

    /// `local_action: MODULE ARGS` or `local_action: {module: MODULE, …}`: the module and its
    /// arguments (a node the argument reader takes).
    static func localAction(_ node: Node, _ file: String) throws(CohortError) -> (module: String, args: Node) {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string.trimmed
            let name = String(text.prefix { !$0.isWhitespace })
            guard !name.isEmpty else { throw YAMLValues.error("local_action needs a module", node, file) }
            let rest = String(text.dropFirst(name.count)).trimmed
            return (name, .scalar(Node.Scalar(rest, scalar.tag, .plain, scalar.mark)))
        case .mapping(let mapping):
            var module: String?
            var rest: [(Node, Node)] = []
            for (key, value) in mapping {
                if key.scalar?.string == "module" { module = value.scalar?.string } else { rest.append((key, value)) }
            }
            guard let module, !module.isEmpty else { throw YAMLValues.error("local_action needs 'module:'", node, file) }
            return (module, .mapping(Node.Mapping(rest, mapping.tag, mapping.style, mapping.mark)))
        default:
            throw YAMLValues.error("local_action is a module with its arguments", node, file)
        }
    }

    /// Marks an action given words it does not take (`debug: msg=hello world`): the task fails
    /// when it runs, as in ansible-core 2.19.
    public static let rawWordsKey = "_cohort_raw_words"

    /// Modules that Ansible runs as actions on the controller, as Cohort does.
    static let coordinatorActions: Set<String> = ["debug", "fail", "assert", "set_fact", "pause", "meta"]

    /// The connection plugins a play or task may name: `local`, and ssh's names.
    public static let connections: Set<String> = ["local", "ssh", "smart", "paramiko", "libssh"]

    /// The strategies a play may name (`host_pinned` runs as `free`: every host has its own
    /// worker, so there is no slot to pin it to).
    public static let strategies: Set<String> = ["linear", "free", "host_pinned"]

    /// Collection modules Cohort carries, by their full name (ansible-core's routing gives
    /// the short name of each to the same module).
    static let collectionModules: [String: String] = [
        "ansible.posix.authorized_key": "authorized_key", "community.general.ini_file": "ini_file", "community.general.alternatives": "alternatives",
        "community.general.timezone": "timezone", "ansible.posix.sysctl": "sysctl", "community.general.locale_gen": "locale_gen",
    ]

    public static func shortName(_ name: String) -> String {
        for prefix in ["ansible.builtin.", "ansible.legacy."] where name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
        return collectionModules[name] ?? name
    }

    /// The module's arguments from `module: …` and `args:`, aliases resolved, checked against
    /// its spec; values holding templates are checked when they are rendered.
    private func arguments(
        _ module: String, _ node: Node, extra: Node?, file: String, at location: Location
    ) throws(CohortError) -> (Dict, [String: Location]) {
        let spec = ModuleSpec.all[module]!
        var args = Dict()
        var written: [String: Location] = [:]
        /// Each value's place in a mapping of arguments, by the key as written.
        func note(_ node: Node) {
            guard case .mapping(let mapping) = node else { return }
            for (key, value) in mapping { if let name = key.string { written[name] = YAMLValues.location(value, file) } }
        }
        var rawWords = false
        if let extra {
            guard case .dict(let given) = try YAMLValues.value(extra, file) else { throw YAMLValues.error("args must be a mapping", extra, file) }
            args = given
            note(extra)
        }
        switch try YAMLValues.value(node, file) {
        case .none: break
        case .dict(let given):
            for (key, value) in given.pairs { args[key] = value }
            note(node)
        case .string(let text):
            for (key, value) in try KeyValueArguments.parse(text, freeForm: spec.freeForm && !spec.anyArguments, known: Set(spec.arguments.keys), at: location) {
                // key=value text: every argument is at the text.
                written[key] = YAMLValues.location(node, file)
                if key == "_raw_params", !spec.freeForm {
                    // Words without `=`: modules refuse them at load; ansible-core 2.19's own
                    // actions (debug, fail, assert, pause) fail the task when it runs ("does
                    // not support raw params"), which the runner does too.
                    guard Self.coordinatorActions.contains(module) else {
                        throw YAMLValues.error("\(module) takes key=value arguments; '\(value.pythonString)' is not one", at: location)
                    }
                    rawWords = true
                    continue
                }
                args[key] = value
            }
        case let other:
            guard spec.freeForm else { throw YAMLValues.error("\(module): arguments must be a mapping or key=value text, not \(other.typeName)", node, file) }
            args["_raw_params"] = .string(other.pythonString)
            written["_raw_params"] = YAMLValues.location(node, file)
        }
        var resolved = Dict()
        var locations: [String: Location] = [:]
        for (key, value) in args.pairs {
            let name = key.pythonString
            if let canonical = spec.arguments.first(where: { $0.key == name || $0.value.aliases.contains(name) })?.key {
                resolved[canonical] = value
                locations[canonical] = written[name]
            } else if spec.anyArguments {
                guard Self.isIdentifier(name) else { throw YAMLValues.error("set_fact: '\(name)' is not a valid variable name", at: location) }
                resolved[name] = value
                locations[name] = written[name]
            } else if spec.unsupported.contains(name) {
                throw YAMLValues.error("'\(name)' of module \(module) is not supported by cohort play yet", at: location)
            } else {
                throw YAMLValues.error(
                    "Unsupported parameters for (\(module)) module: \(name). Supported parameters include: \(spec.arguments.keys.filter { $0 != "_raw_params" }.sorted().joined(separator: ", "))",
                    at: location)
            }
        }
        try Self.check(module, spec, resolved, at: location)
        if rawWords { resolved[.string(Self.rawWordsKey)] = true }
        if let folder = spec.sourceFolder, case .string(let src)? = resolved["src"], !Template.isTemplate(src),
            resolved["remote_src"].flatMap(Self.boolean) != true, resolved["copy"].flatMap(Self.boolean) != false
        {
            guard let path = find(src, in: folder, near: file) else {
                throw YAMLValues.error("\(module): could not find '\(src)' (looked in \(searched(folder)))", at: location)
            }
            resolved["_src_path"] = .string(path)
        }
        // The script is the first word (its arguments may be templates).
        if module == "script", case .string(let text)? = resolved["cmd"] ?? resolved["_raw_params"],
            let first = text.split(separator: " ").first.map(String.init), !Template.isTemplate(first)
        {
            guard let path = find(first, in: "files", near: file) else {
                throw YAMLValues.error("script: could not find '\(first)' (looked in \(searched("files")))", at: location)
            }
            resolved["_src_path"] = .string(path)
        }
        if module == "meta", case .string(let action)? = resolved["_raw_params"], !ModuleSpec.metaActions.contains(action) {
            throw YAMLValues.error("meta: invalid meta action requested: \(action) (supported: \(ModuleSpec.metaActions.joined(separator: ", ")))", at: location)
        }
        return (resolved, locations)
    }

    /// Where Ansible looks for a template's or file's `src`: `templates/` (or `files/`) beside
    /// the playbook, then beside the playbook itself.
    func find(_ src: String, in folder: String, near playbook: String) -> String? {
        if src.hasPrefix("/") { return exists(src) ? src : nil }
        let bases = context.role.map { [$0.path, context.playbookDirectory] } ?? [directory(playbook)]
        for base in bases {
            for candidate in [base + "/" + folder + "/" + src, base + "/" + src] where exists(candidate) { return candidate }
        }
        return nil
    }

    /// Where `find` looked, in words.
    func searched(_ folder: String) -> String {
        guard let role = context.role else { return "\(folder)/ beside the playbook, then beside it" }
        return "\(folder)/ of the role \(role.name), the role's folder, then \(folder)/ beside the playbook and beside it"
    }

    static func check(_ module: String, _ spec: ModuleSpec, _ args: Dict, at location: Location) throws(CohortError) {
        for (name, argument) in spec.arguments where argument.required && args[name] == nil {
            throw YAMLValues.error("\(module): missing required arguments: \(name)", at: location)
        }
        for group in spec.oneOf where !group.contains(where: { args[$0] != nil }) {
            let names = group.filter { $0 != "_raw_params" }
            throw YAMLValues.error("\(module): one of the following is required: \(names.joined(separator: ", "))", at: location)
        }
        for group in spec.exclusive where group.filter({ args[$0] != nil }).count > 1 {
            throw YAMLValues.error("\(module): parameters are mutually exclusive: \(group.joined(separator: "|"))", at: location)
        }
        for (key, value) in args.pairs {
            guard let argument = spec.arguments[key.pythonString] else { continue }
            if case .string(let text) = value, Template.isTemplate(text) { continue }
            if let problem = ArgumentTypes.problem(value, argument.kind) {
                throw YAMLValues.error("\(module): argument '\(key.pythonString)' \(problem)", at: location)
            }
            if !argument.choices.isEmpty, !argument.choices.contains(value.pythonString) {
                throw YAMLValues.error(
                    "\(module): value of \(key.pythonString) must be one of: \(argument.choices.joined(separator: ", ")), got: \(value.pythonString)",
                    at: location)
            }
        }
    }
}

extension String {
    var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
    }
}
