import CohortCore
import CohortTemplate
import Yams

/// What the loader is inside of: the role whose files it reads, and the playbook's folder
/// (the last place a role's task looks for its files).
final class LoadContext {
    var role: (name: String, path: String)?
    var playbookDirectory = "."
    /// The roles already compiled into this play, by path and parameters: a role listed twice
    /// with the same parameters runs once, as in Ansible (unless `allow_duplicates`).
    var compiled: Set<String> = []
    /// Roles being loaded, outermost first: a dependency met again is a cycle.
    var chain: [String] = []
    /// Tasks files being read, outermost first: an import met again is a cycle.
    var includes: [String] = []
    /// Handlers of roles that tasks import or include, added to the play's.
    var extraHandlers: [TaskItem] = []
    /// Keywords and modules Ansible has and Cohort lacks, every place they are written: the
    /// load fails once, naming them all.
    var unsupported: [CohortError] = []
}

/// One use of a role: a `roles:` entry, a dependency, or an import_role/include_role.
struct RoleRequest {
    var name: String
    var node: Node
    var file: String
    /// Where a dependency is looked for first (the folder of the role that depends on it).
    var base: String?
    var params: [(String, Value)] = []
    var vars: [(String, Value)] = []
    var options = TaskOptions()
    var tasksFrom: String?
    var varsFrom: String?
    var defaultsFrom: String?
    var handlersFrom: String?
    /// An include or import runs the role each time (Ansible's include_role ignores dedup).
    var allowDuplicates = false

    init(name: String, node: Node, file: String) {
        self.name = name
        self.node = node
        self.file = file
    }
}

/// A play's `roles:`, compiled as Ansible compiles them: each role's dependencies
/// (`meta/main.yml`) first, then its `tasks/main.yml`, in a block carrying the entry's
/// `when`, `tags` and switches; its handlers before the play's; its defaults and vars.
struct CompiledRoles {
    var tasks: [TaskItem] = []
    var handlers: [TaskItem] = []
    var defaults: [(String, Value)] = []
    var vars: [(String, Value)] = []
}

extension PlaybookLoader {
    /// Keywords of a role entry that Cohort reads; the other keywords Ansible has are refused
    /// by name, and any other key is a role parameter.
    static let roleEntryKeywords: Set<String> = [
        "role", "name", "when", "vars", "tags", "ignore_errors", "check_mode", "diff", "environment", "no_log", "run_once", "delegate_to", "connection",
        "any_errors_fatal", "become", "become_user", "become_method", "remote_user",
    ]
    /// ansible-core's modules (ansible.builtin), to tell one Cohort lacks from a typing error.
    static let ansibleModules: Set<String> = [
        "add_host", "apt", "apt_key", "apt_repository", "assemble", "cron", "deb822_repository", "debconf", "dnf", "dnf5",
        "dpkg_selections", "expect", "gather_facts", "get_url", "git", "group_by", "hostname", "import_playbook",
        "iptables", "known_hosts", "mount_facts", "package", "package_facts", "ping", "pip", "reboot", "rpm_key",
        "service", "service_facts", "set_stats", "setup", "subversion", "systemd", "systemd_service", "sysvinit", "tempfile",
        "unarchive", "uri", "validate_argument_spec", "wait_for_connection", "yum_repository", "include", "yum",
    ]

    /// Whether `key` names a module Cohort lacks: ansible-core's, or a collection's
    /// (`community.general.ufw`: a namespace, a collection and a name).
    static func isUnsupportedModule(_ key: String) -> Bool {
        ansibleModules.contains(shortName(key)) || key.split(separator: ".").count >= 3
    }

    static let unsupportedKeywords: Set<String> = [
        "become_flags", "become_exe", "serial", "max_fail_percentage", "port", "order",
        "module_defaults", "collections", "debugger", "timeout",
        "vars_prompt", "force_handlers", "fact_path", "gather_subset", "gather_timeout",
    ]

    func roles(_ node: Node, file: String) throws(CohortError) -> CompiledRoles {
        var out = CompiledRoles()
        for entry in try list(node, file) {
            try compileRole(try roleRequest(entry, file: file, base: nil), into: &out, parentDefaults: [])
        }
        return out
    }

    /// A `roles:` entry or a dependency: a name, or a mapping with `role:`, keywords and
    /// parameters.
    func roleRequest(_ node: Node, file: String, base: String?) throws(CohortError) -> RoleRequest {
        var request: RoleRequest
        switch node {
        case .scalar(let scalar): request = RoleRequest(name: scalar.string, node: node, file: file)
        case .mapping:
            let fields = try mapping(node, "a role", file)
            let field = Dictionary(fields, uniquingKeysWith: { first, _ in first })
            guard let roleNode = field["role"] ?? field["name"] else { throw YAMLValues.error("a role entry needs 'role:' with the role's name", node, file) }
            request = RoleRequest(name: try YAMLValues.value(roleNode, file).pythonString, node: node, file: file)
            for (key, value) in fields where !Self.roleEntryKeywords.contains(key) {
                if Self.unsupportedKeywords.contains(key) {
                    context.unsupported.append(YAMLValues.error("'\(key)' is not supported by cohort play yet", value, file))
                    continue
                }
                guard Self.isIdentifier(key) else { throw YAMLValues.error("'\(key)' is not a valid role parameter name", value, file) }
                request.params.append((key, try YAMLValues.value(value, file)))
            }
            request.vars = try field["vars"].map { n throws(CohortError) in try variables(n, file) } ?? []
            request.options = try self.options(field, file)
            request.options.vars = []
        default: throw YAMLValues.error("a role is a name or a mapping with 'role:'", node, file)
        }
        request.base = base
        return request
    }

    /// One role, its dependencies first.
    func compileRole(_ request: RoleRequest, into out: inout CompiledRoles, parentDefaults: [(String, Value)]) throws(CohortError) {
        let (node, file) = (request.node, request.file)
        guard !request.name.isEmpty, !Template.isTemplate(request.name) else {
            throw YAMLValues.error("a role's name must be plain text (templated role names are not supported)", node, file)
        }
        let path = try findRole(request.name, from: request.base, at: node, file: file)
        guard !context.chain.contains(path), context.chain.count < 32 else {
            throw YAMLValues.error("role dependencies loop or nest too deep: \((context.chain + [path]).joined(separator: " -> "))", node, file)
        }
        let roleName = path.split(separator: "/").last.map(String.init) ?? path
        let meta = try roleMeta(path)
        let key = path + "\u{0}" + (request.params + request.vars).map { "\($0.0)=\($0.1.pythonRepr)" }.joined(separator: "\u{0}")
            + "\u{0}" + (request.tasksFrom ?? "main")
        if context.compiled.contains(key), !meta.allowDuplicates, !request.allowDuplicates { return }
        context.compiled.insert(key)

        let defaults = try roleVariables(path, "defaults", request.defaultsFrom, node: node, file: file)
        let roleVars = try roleVariables(path, "vars", request.varsFrom, node: node, file: file)
        var options = request.options
        options.roleDefaults = parentDefaults
        // Dependencies, with this role as their parent (its defaults under theirs).
        context.chain.append(path)
        var inner = CompiledRoles()
        for dependency in meta.dependencies {
            let dependent = try roleRequest(dependency.node, file: dependency.file, base: path + "/..")
            try compileRole(dependent, into: &inner, parentDefaults: parentDefaults + defaults)
        }
        // The role's own files, read inside its context.
        let outer = context.role
        context.role = (roleName, path)
        let tasks = try roleTasks(path, "tasks", request.tasksFrom, handler: false, node: node, file: file)
        let handlers = try roleTasks(path, "handlers", request.handlersFrom, handler: true, node: node, file: file)
        context.role = outer
        context.chain.removeLast()

        let magic: [(String, Value)] = [("role_name", .string(roleName)), ("ansible_role_name", .string(roleName)), ("role_path", .string(path))]
        var own = TaskOptions()
        own.roleDefaults = defaults
        own.vars = magic + roleVars + request.vars + request.params
        let location = YAMLValues.location(node, file)
        let body = Block(name: nil, block: tasks, rescue: [], always: [], options: own, location: location)
        out.tasks.append(.block(Block(name: nil, block: inner.tasks + [.block(body)], rescue: [], always: [], options: options, location: location)))
        out.handlers += inner.handlers + handlers.map { item in
            guard case .task(var task) = item else { return item }
            task.options.roleDefaults = parentDefaults + defaults + task.options.roleDefaults
            task.options.vars = own.vars + task.options.vars
            // The role entry's become holds for its handlers too, under their own.
            task.options.become.become = task.options.become.become ?? options.become.become
            task.options.become.user = task.options.become.user ?? options.become.user
            task.options.become.method = task.options.become.method ?? options.become.method
            return .task(task)
        }
        out.defaults += inner.defaults + defaults
        out.vars += inner.vars + roleVars
    }

    /// Ansible's role search: beside the role that depends on it (`base`), `roles/NAME` beside
    /// the playbook, the roles path, the playbook's own folder; a name with a slash is a path.
    func findRole(_ name: String, from base: String?, at node: Node, file: String) throws(CohortError) -> String {
        var candidates: [String]
        if name.contains("/") {
            candidates = [name.hasPrefix("/") ? name : context.playbookDirectory + "/" + name]
        } else {
            candidates = (base.map { [$0 + "/" + name] } ?? []) + [context.playbookDirectory + "/roles/" + name]
            candidates += rolesPath.map { $0 + "/" + name }
            candidates += [context.playbookDirectory + "/" + name]
        }
        for candidate in candidates where exists(candidate + "/tasks") || exists(candidate + "/meta") || exists(candidate + "/handlers")
            || exists(candidate + "/defaults") || exists(candidate + "/vars")
        {
            return Self.normalized(candidate)
        }
        throw YAMLValues.error(
            "the role '\(name)' was not found (looked in: \(candidates.map(Self.normalized).joined(separator: ", ")))", node, file)
    }

    /// A path without `.` and `..` steps (no file system access: the tests' files are virtual).
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty && parts.last != ".." { parts.removeLast() } else if !path.hasPrefix("/") { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// `FOLDER/NAME.yml` (or `NAME.yaml`, `NAME`, `NAME.json`) of a role, if there is one;
    /// NAME is `main` unless a `*_from` names another.
    func roleMain(_ path: String, _ folder: String, _ name: String = "main") -> String? {
        [name + ".yml", name + ".yaml", name, name + ".json"].map { path + "/" + folder + "/" + $0 }.first(where: exists)
    }

    private func roleFile(_ path: String, _ folder: String, _ from: String?, node: Node, file: String) throws(CohortError) -> String? {
        guard let from else { return roleMain(path, folder) }
        guard !from.split(separator: "/").contains(".."), let found = roleMain(path, folder, from) else {
            throw YAMLValues.error("the role \(path) has no \(folder)/\(from) (.yml, .yaml)", node, file)
        }
        return found
    }

    private func roleVariables(_ path: String, _ folder: String, _ from: String?, node: Node, file: String) throws(CohortError) -> [(String, Value)] {
        guard let found = try roleFile(path, folder, from, node: node, file: file) else { return [] }
        return try variablesFile(found)
    }

    private func roleTasks(_ path: String, _ folder: String, _ from: String?, handler: Bool, node: Node, file: String) throws(CohortError) -> [TaskItem] {
        guard let found = try roleFile(path, folder, from, node: node, file: file) else { return [] }
        context.includes.append(found)
        defer { context.includes.removeLast() }
        return try tasksFile(found, handler: handler)
    }

    /// `meta/main.yml`: the dependencies (with the file they are written in) and
    /// `allow_duplicates`; galaxy_info and the rest are for Galaxy.
    private func roleMeta(_ path: String) throws(CohortError) -> (dependencies: [(node: Node, file: String)], allowDuplicates: Bool) {
        guard let file = roleMain(path, "meta") else { return ([], false) }
        let text: String
        do { text = try read(file) } catch { throw CohortError(.invalidInput, "cannot read: \(error)", file: file) }
        guard let root = try YAMLValues.compose(text, file: file) else { return ([], false) }
        let fields = Dictionary(try mapping(root, "a role's meta/main.yml", file), uniquingKeysWith: { first, _ in first })
        var allow = false
        if let n = fields["allow_duplicates"] {
            guard let flag = Self.boolean(try YAMLValues.value(n, file)) else { throw YAMLValues.error("allow_duplicates must be a boolean", n, file) }
            allow = flag
        }
        var dependencies: [(node: Node, file: String)] = []
        if let n = fields["dependencies"], try YAMLValues.value(n, file) != .none {
            dependencies = try list(n, file).map { ($0, file) }
        }
        return (dependencies, allow)
    }
}
