import CohortCore
import CohortTemplate

/// `ansible.cfg`, read as Ansible reads it (Python's configparser with `;` inline comments:
/// `key = value` or `key: value`, keys in any case, indented lines continue a value) and the
/// `ANSIBLE_*` variables over it: the settings that change what `cohort play` does.
public struct AnsibleConfig: Sendable {
    /// The file read, if one was found (`ansible_config_file`).
    public var path: String?
    /// Section → key (lowercased) → value, as written.
    public var sections: [String: [String: String]] = [:]

    public init() {}

    /// The first of ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg), ./ansible.cfg
    /// (unless the folder is world-writable, as Ansible skips it), ~/.ansible.cfg,
    /// /etc/ansible/ansible.cfg that exists.
    public static func locate(
        environment: [String: String], currentDirectory: String, home: String, exists: (String) -> Bool, isDirectory: (String) -> Bool,
        worldWritable: (String) -> Bool
    ) -> String? {
        var candidates: [String] = []
        if let given = environment["ANSIBLE_CONFIG"] {
            let path = given.hasPrefix("/") ? given : currentDirectory + "/" + given
            candidates.append(isDirectory(path) ? path + "/ansible.cfg" : path)
        }
        if !worldWritable(currentDirectory) { candidates.append(currentDirectory + "/ansible.cfg") }
        candidates += [home + "/.ansible.cfg", "/etc/ansible/ansible.cfg"]
        return candidates.first(where: exists)
    }

    public static func parse(_ text: String, file: String) throws(CohortError) -> AnsibleConfig {
        var config = AnsibleConfig()
        config.path = file
        var section: String?
        var lastKey: String?
        for (index, raw) in TextLines.split(text).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmed
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") {
                if trimmed.isEmpty { lastKey = nil }
                continue
            }
            // An indented line continues the value before it.
            if line.first == " " || line.first == "\t", let section, let key = lastKey {
                config.sections[section, default: [:]][key]! += "\n" + stripComment(String(trimmed))
                continue
            }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw CohortError(.invalidInput, "a section header is [NAME], not '\(Printable.escaped(trimmed))'", file: file, line: index + 1)
                }
                section = String(trimmed.dropFirst().dropLast())
                lastKey = nil
                continue
            }
            guard let section else { throw CohortError(.invalidInput, "a setting before any [section]", file: file, line: index + 1) }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw CohortError(.invalidInput, "'\(Printable.escaped(trimmed))' is not key = value", file: file, line: index + 1)
            }
            let key = String(line[..<separator]).trimmed.lowercased()
            let value = stripComment(String(line[line.index(after: separator)...]).trimmed)
            config.sections[section, default: [:]][key] = value
            lastKey = key
        }
        return config
    }

    /// configparser's `inline_comment_prefixes=(';',)`: a `;` after a blank starts a comment.
    static func stripComment(_ value: String) -> String {
        var previous: Character = " "
        for (offset, character) in value.enumerated() {
            if character == ";", previous == " " || previous == "\t" { return String(value.prefix(offset)).trimmed }
            previous = character
        }
        return value
    }

    public func value(_ section: String, _ key: String) -> String? { sections[section]?[key] }

    /// What a run takes from the file and the environment (the environment wins, flags win
    /// over both).
    public struct Settings: Sendable, Equatable {
        public var inventory: [String] = []
        public var forks: Int?
        public var rolesPath: [String]?
        public var remoteUser: String?
        public var privateKeyFile: String?
        /// False: unknown host keys are accepted and recorded (changed ones still refused).
        public var hostKeyChecking: Bool?
        public var timeout: Double?
        /// `explicit`: plays gather no facts unless they say `gather_facts: true`.
        public var gathering: String?
        /// `strategy` (`free`, `host_pinned`, `linear`): for plays that name none.
        public var strategy: String?
        /// `[privilege_escalation]`: become, become_user, become_method, become_ask_pass.
        public var become: Bool?
        public var becomeUser: String?
        public var becomeMethod: String?
        public var becomeAskPass: Bool?
        /// `vault_password_file` (a path, relative to the file's folder) and
        /// `vault_identity_list` (`LABEL@SOURCE`, comma-separated).
        public var vaultPasswordFile: String?
        public var vaultIdentities: [String] = []
        /// Settings that would change what runs and that Cohort lacks: one warning names them.
        public var unsupported: [String] = []
    }

    /// The settings of this file (nil: none found) under `environment`, paths relative to the
    /// file's folder made absolute as Ansible makes them.
    public static func settings(_ config: AnsibleConfig?, environment: [String: String]) throws(CohortError) -> Settings {
        let base = config?.path.map { path -> String in
            guard let slash = path.lastIndex(of: "/") else { return "." }
            return String(path[..<slash])
        } ?? "."
        func setting(_ env: String, _ section: String, _ key: String) -> (value: String, origin: String)? {
            if let value = environment[env] { return (value, env) }
            if let value = config?.value(section, key) { return (value, "\(config!.path ?? "ansible.cfg"): [\(section)] \(key)") }
            return nil
        }
        func path(_ value: String) -> String {
            if value.hasPrefix("/") || value.hasPrefix("~") { return value }
            return base + "/" + value
        }
        func boolean(_ found: (value: String, origin: String)) throws(CohortError) -> Bool {
            guard let flag = PlaybookLoader.boolean(.string(found.value)) else {
                throw CohortError(.invalidInput, "\(found.origin): '\(found.value)' is not a boolean")
            }
            return flag
        }
        var out = Settings()
        if let found = setting("ANSIBLE_INVENTORY", "defaults", "inventory") {
            out.inventory = found.value.split(separator: ",").map { path(String($0).trimmed) }.filter { !$0.isEmpty }
        }
        if let found = setting("ANSIBLE_FORKS", "defaults", "forks") {
            guard let forks = Int(found.value.trimmed), forks >= 1 else { throw CohortError(.invalidInput, "\(found.origin): forks must be at least 1, not '\(found.value)'") }
            out.forks = forks
        }
        if let found = setting("ANSIBLE_ROLES_PATH", "defaults", "roles_path") {
            out.rolesPath = found.value.split(separator: ":").map { path(String($0).trimmed) }
        }
        out.remoteUser = setting("ANSIBLE_REMOTE_USER", "defaults", "remote_user")?.value
        out.privateKeyFile = setting("ANSIBLE_PRIVATE_KEY_FILE", "defaults", "private_key_file").map { path($0.value) }
        if let found = setting("ANSIBLE_HOST_KEY_CHECKING", "defaults", "host_key_checking") { out.hostKeyChecking = try boolean(found) }
        if let found = setting("ANSIBLE_TIMEOUT", "defaults", "timeout") {
            guard let seconds = Double(found.value.trimmed), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw CohortError(.invalidInput, "\(found.origin): timeout must be seconds from 1 to 86400, not '\(found.value)'")
            }
            out.timeout = seconds
        }
        if let found = setting("ANSIBLE_GATHERING", "defaults", "gathering") {
            guard ["implicit", "explicit", "smart"].contains(found.value) else {
                throw CohortError(.invalidInput, "\(found.origin): gathering is implicit, explicit or smart, not '\(found.value)'")
            }
            out.gathering = found.value
        }
        func flag(_ env: String, _ key: String) throws(CohortError) -> Bool? {
            guard let found = setting(env, "privilege_escalation", key) else { return nil }
            guard let value = PlaybookLoader.boolean(.string(found.value)) else {
                throw CohortError(.invalidInput, "\(found.origin): \(key) must be a boolean, not '\(found.value)'")
            }
            return value
        }
        out.become = try flag("ANSIBLE_BECOME", "become")
        out.becomeAskPass = try flag("ANSIBLE_BECOME_ASK_PASS", "become_ask_pass")
        out.becomeUser = setting("ANSIBLE_BECOME_USER", "privilege_escalation", "become_user")?.value
        if let found = setting("ANSIBLE_BECOME_METHOD", "privilege_escalation", "become_method") {
            guard PlaybookLoader.becomeMethods.contains(PlaybookLoader.shortName(found.value)) else {
                throw CohortError(.invalidInput, "\(found.origin): become_method '\(found.value)' is not supported by cohort play yet (supported: sudo, su)")
            }
            out.becomeMethod = found.value
        }
        if let found = setting("ANSIBLE_STRATEGY", "defaults", "strategy") {
            let name = PlaybookLoader.shortName(found.value.trimmed)
            guard PlaybookLoader.strategies.contains(name) else {
                throw CohortError(.invalidInput, "\(found.origin): strategy must be one of: \(PlaybookLoader.strategies.sorted().joined(separator: ", ")) (others are not supported by cohort play yet), not '\(found.value)'")
            }
            out.strategy = name
        }
        out.vaultPasswordFile = setting("ANSIBLE_VAULT_PASSWORD_FILE", "defaults", "vault_password_file").map { path($0.value.trimmed) }
        if let found = setting("ANSIBLE_VAULT_IDENTITY_LIST", "defaults", "vault_identity_list") {
            out.vaultIdentities = found.value.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        }
        // What would change a run and is not here yet: said once, by name.
        for (env, section, key) in [
            ("ANSIBLE_FILTER_PLUGINS", "defaults", "filter_plugins"),
            ("ANSIBLE_LIBRARY", "defaults", "library"), ("ANSIBLE_MODULE_UTILS", "defaults", "module_utils"),
            ("ANSIBLE_COLLECTIONS_PATH", "defaults", "collections_path"),
        ] {
            if let found = setting(env, section, key) {
                out.unsupported.append(found.origin)
            }
        }
        if let callback = setting("ANSIBLE_STDOUT_CALLBACK", "defaults", "stdout_callback"), !["default", "ansible.builtin.default"].contains(callback.value) {
            out.unsupported.append(callback.origin + " (output stays ansible-playbook's default)")
        }
        return out
    }
}
