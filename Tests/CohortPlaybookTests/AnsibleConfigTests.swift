import CohortCore
import Testing

@testable import CohortPlaybook

/// ansible.cfg as Ansible reads it: where it is looked for, configparser's syntax, the
/// ANSIBLE_* variables over it, paths relative to the file, and bad values said with where.
@Suite struct AnsibleConfigTests {
    @Test func theFirstFileFoundInAnsiblesOrderIsRead() {
        let existing: Set<String> = ["/proj/ansible.cfg", "/home/u/.ansible.cfg", "/etc/ansible/ansible.cfg", "/cfgdir/ansible.cfg"]
        func locate(_ env: [String: String], writable: Bool = false) -> String? {
            AnsibleConfig.locate(
                environment: env, currentDirectory: "/proj", home: "/home/u", exists: existing.contains, isDirectory: { $0 == "/cfgdir" },
                worldWritable: { _ in writable })
        }
        #expect(locate([:]) == "/proj/ansible.cfg")
        #expect(locate(["ANSIBLE_CONFIG": "/cfgdir"]) == "/cfgdir/ansible.cfg")
        #expect(locate(["ANSIBLE_CONFIG": "/missing.cfg"]) == "/proj/ansible.cfg")
        // A world-writable working folder is skipped, as Ansible skips it.
        #expect(locate([:], writable: true) == "/home/u/.ansible.cfg")
    }

    @Test func settingsComeFromTheFileAndTheEnvironmentWins() throws {
        let text = """
            # comment
            [defaults]
            Inventory = hosts.ini, other.ini   ; two
            forks: 7
            roles_path = roles:/abs/roles
            remote_user = deploy
            private_key_file = keys/id
            host_key_checking = False
            gathering = explicit
            strategy = free
            unknown_key = accepted
            [privilege_escalation]
            become = True
            become_user = admin
            become_ask_pass = no
            """
        let config = try AnsibleConfig.parse(text, file: "/p/ansible.cfg")
        let settings = try AnsibleConfig.settings(config, environment: ["ANSIBLE_FORKS": "3"])
        #expect(settings.inventory == ["/p/hosts.ini", "/p/other.ini"])
        #expect(settings.forks == 3)
        #expect(settings.rolesPath == ["/p/roles", "/abs/roles"])
        #expect(settings.remoteUser == "deploy" && settings.privateKeyFile == "/p/keys/id")
        #expect(settings.hostKeyChecking == false && settings.gathering == "explicit")
        #expect(settings.become == true && settings.becomeUser == "admin" && settings.becomeAskPass == false && settings.becomeMethod == nil)
        #expect(settings.strategy == "free" && settings.unsupported.isEmpty)
        #expect(throws: CohortError.self) { try AnsibleConfig.settings(config, environment: ["ANSIBLE_STRATEGY": "debug"]) }
        #expect(try AnsibleConfig.settings(config, environment: ["ANSIBLE_STRATEGY": "ansible.builtin.linear"]).strategy == "linear")
        #expect(throws: CohortError.self) { try AnsibleConfig.settings(config, environment: ["ANSIBLE_BECOME_METHOD": "doas"]) }
        #expect(try AnsibleConfig.settings(config, environment: ["ANSIBLE_BECOME_METHOD": "su"]).becomeMethod == "su")
        #expect(try AnsibleConfig.settings(nil, environment: [:]) == AnsibleConfig.Settings())
    }

    @Test func badFilesAndValuesSayWhere() {
        func error(_ text: String, env: [String: String] = [:]) -> String {
            do {
                _ = try AnsibleConfig.settings(try AnsibleConfig.parse(text, file: "a.cfg"), environment: env)
                return "read"
            } catch { return "\(error)" }
        }
        #expect(error("forks = 2\n") == "a.cfg:1: a setting before any [section]")
        #expect(error("[defaults]\njust words\n") == "a.cfg:2: 'just words' is not key = value")
        #expect(error("[defaults]\nforks = 0\n") == "a.cfg: [defaults] forks: forks must be at least 1, not '0'")
        #expect(error("[defaults]\n", env: ["ANSIBLE_HOST_KEY_CHECKING": "maybe"]) == "ANSIBLE_HOST_KEY_CHECKING: 'maybe' is not a boolean")
        #expect(error("[defaults]\ntimeout = 1e300\n") == "a.cfg: [defaults] timeout: timeout must be seconds from 1 to 86400, not '1e300'")
    }
}
