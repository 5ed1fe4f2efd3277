import ArgumentParser
import Cohort
import CohortCore
import CohortInventory
import CohortPlaybook
import CohortTemplate
import CohortVault
import Foundation

struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Run an Ansible playbook through one persistent worker per host (no Python on the hosts).",
        discussion: """
            cohort play -i INVENTORY PLAYBOOK.yml
            The whole playbook is checked before any host is contacted (exit 4 with file:line:column). \
            Strategy linear (the default: every host finishes a task before any starts the next) or \
            free (each host at its own pace), as the play says. Exit codes are \
            ansible-playbook's: 0 ok, 1 an error (a --limit matching no host), 2 a task failed on some \
            host, 4 a host was unreachable (or refused for security) or the input is invalid, \
            99 interrupted (SIGINT, SIGTERM).
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var vault: VaultOptions

    @Flag(name: [.customShort("C"), .long], help: "Report what would change; change nothing.")
    var check = false

    @Flag(name: [.customShort("D"), .long], help: "Show the differences in the files changed.")
    var diff = false

    @Option(name: [.customShort("t"), .long], help: "Run only tasks with these tags (comma-separated).")
    var tags: [String] = []

    @Option(name: .customLong("skip-tags"), help: "Skip tasks with these tags (comma-separated).")
    var skipTags: [String] = []

    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: "Variables: key=value, @file.yml, or YAML/JSON; highest precedence.")
    var extraVars: [String] = []

    @Option(name: [.customShort("f"), .long], help: "Hosts running a task at once (default: all).")
    var forks: Int?

    @Flag(name: .customLong("list-tasks"), help: "List the tasks and exit.")
    var listTasks = false

    @Flag(name: .customLong("list-hosts"), help: "List each play's hosts and exit.")
    var listHosts = false

    @Flag(name: .customLong("syntax-check"), help: "Check the playbook and exit.")
    var syntaxCheck = false

    @Option(name: .customLong("start-at-task"), help: "Start at the task with this name.")
    var startAtTask: String?

    @Flag(name: .customLong("force-handlers"), help: "Run notified handlers even on hosts that failed.")
    var forceHandlers = false

    @Flag(help: "JSON lines instead of text: one per task result, then the recap.")
    var json = false

    @Flag(name: [.customShort("b"), .long], help: "Run tasks as another user (sudo), as `become: true`.")
    var become = false

    @Option(name: .customLong("become-user"), help: "The user to become (default: root).")
    var becomeUser: String?

    @Option(name: .customLong("become-method"), help: "How to become it: sudo (the only method yet).")
    var becomeMethod: String?

    @Flag(name: [.customShort("K"), .customLong("ask-become-pass")], help: "Ask for the sudo password (it goes to sudo's stdin only).")
    var askBecomePass = false

    @Argument(help: "The playbook.")
    var playbook: String

    func validate() throws {
        if let forks, forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let becomeMethod, !PlaybookLoader.becomeMethods.contains(PlaybookLoader.shortName(becomeMethod)) {
            throw ValidationError("--become-method '\(Printable.escaped(becomeMethod))' is not supported by cohort play yet (supported: sudo, su)")
        }
    }

    func run() async throws {
        verbosity.bootstrap()
        let (config, settings) = try Self.ansibleConfig()
        // Every file read from here on, while loading and while the play runs, is opened
        // with the vault passwords.
        try await Vault.$secrets.withValue(try vault.secrets(settings)) { try await play(config, settings) }
    }

    func play(_ config: AnsibleConfig?, _ settings: AnsibleConfig.Settings) async throws {
        var loader = PlaybookLoader(
            read: { try String(contentsOfFile: $0, encoding: .utf8) }, exists: { FileManager.default.fileExists(atPath: $0) })
        // roles_path (ansible.cfg, ANSIBLE_ROLES_PATH), else Ansible's default folders.
        let rolesPath = settings.rolesPath ?? ["~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]
        loader.rolesPath = rolesPath.map { ($0 as NSString).expandingTildeInPath }
        loader.gatherByDefault = settings.gathering != "explicit"
        loader.defaultStrategy = settings.strategy ?? "linear"
        let book = try loader.load(path: playbook)
        if syntaxCheck {
            print("\nplaybook: \(playbook)")
            return
        }
        // -i, else $COHORT_INVENTORY, else ansible.cfg's inventory (or ANSIBLE_INVENTORY).
        var inventoryOptions = self.inventoryOptions
        if inventoryOptions.inventory == nil, ProcessInfo.processInfo.environment["COHORT_INVENTORY"] == nil, let first = settings.inventory.first {
            if settings.inventory.count > 1 { throw ValidationError("several inventories (\(Printable.escaped(settings.inventory.joined(separator: ", ")))): cohort play reads one") }
            inventoryOptions.inventory = (first as NSString).expandingTildeInPath
        }
        var (inventory, _) = try inventoryOptions.load()
        try inventory.loadPlaybookVars(directory: PlaybookPaths.absoluteDirectory(of: playbook))
        do {
            try Self.checkLimit(inventoryOptions.limit, book: book, inventory: inventory)
        } catch let error as CohortError where error.code == .noHostsMatched {
            // ansible-playbook's general error, exit 1.
            Out.write(Array("cohort: \(error.shown)\n".utf8), toStderr: true)
            throw ExitCode(PlayExitCode.error)
        }
        var options = PlaybookRun.Options()
        options.check = check
        options.diff = diff
        options.limit = inventoryOptions.limit
        options.tags = tags.flatMap { $0.split(separator: ",").map(String.init) }
        options.skipTags = skipTags.flatMap { $0.split(separator: ",").map(String.init) }
        options.forks = forks ?? settings.forks
        options.configFile = config?.path
        options.startAtTask = startAtTask
        options.forceHandlers = forceHandlers
        options.verbosity = verbosity.verbose
        options.become = become ? true : settings.become
        options.becomeUser = becomeUser ?? settings.becomeUser
        options.becomeMethod = becomeMethod ?? settings.becomeMethod
        if askBecomePass || settings.becomeAskPass == true {
            options.becomePassword = try BecomePassword.ask()
        }
        for text in extraVars {
            for (key, value) in try ExtraVars.parse(text, read: { try String(contentsOfFile: $0, encoding: .utf8) }) { options.extraVars[key] = value }
        }
        inventory.overrides = try ExtraVars.connectionOverrides(options.extraVars)
        if listHosts || listTasks {
            print(try PlayListing.text(book, inventory: inventory, limit: inventoryOptions.limit, hosts: listHosts, tasks: listTasks))
            return
        }
        // Flags win over ansible.cfg and ANSIBLE_*, which win over the defaults.
        var connectionOptions = connection.options
        connectionOptions.user = connectionOptions.user ?? settings.remoteUser
        connectionOptions.privateKey = connectionOptions.privateKey ?? settings.privateKeyFile.map { ($0 as NSString).expandingTildeInPath }
        connectionOptions.connectTimeout = connectionOptions.connectTimeout ?? settings.timeout.map { .milliseconds(Int64($0 * 1000)) }
        // host_key_checking = False: unknown keys are accepted and recorded; a changed key is
        // still refused (Cohort never connects to a host whose key changed).
        if settings.hostKeyChecking == false { connectionOptions.acceptNewHostKeys = true }
        let run = PlaybookRun(playbook: book, inventory: inventory, options: options, connection: connectionOptions, worker: try WorkerBinary.locate())
        let printer = PlayPrinter(json: json, verbose: verbosity.verbose, diff: diff)
        PlayInterruption.install(progress: run.progress, printer: printer)
        let recap = try await run.run { printer.handle($0) }
        // Output that could not be written (a full disk, a closed pipe) is a failure.
        try Out.check()
        let code = PlayExitCode.of(recap)
        if code != PlayExitCode.ok { throw ExitCode(code) }
    }
}

/// `-K`: the sudo password, read from the terminal without echo (as ansible-playbook asks
/// for it); never put on a command line or printed.
enum BecomePassword {
    static func ask() throws -> String {
        guard let raw = getpass("BECOME password: ") else { throw ValidationError("--ask-become-pass needs a terminal to read the password from") }
        return String(cString: raw)
    }
}

/// ansible-playbook's exit codes, which `cohort play` keeps so that scripts written for it
/// work unchanged (the other commands keep Cohort's own, in the README).
enum PlayExitCode {
    static let ok: Int32 = 0
    /// An error before the run: a `--limit` that leaves no host.
    static let error: Int32 = 1
    static let hostFailed: Int32 = 2
    /// A host unreachable (refused for security included, as Ansible counts it), or a parse
    /// error of the playbook or the inventory.
    static let unreachableOrInvalid: Int32 = 4
    static let interrupted: Int32 = 99

    static func of(_ recap: [HostRecap]) -> Int32 {
        if recap.contains(where: { $0.unreachable > 0 || $0.refusedForSecurity }) { return unreachableOrInvalid }
        return recap.contains { $0.failed > 0 || $0.failedUncounted } ? hostFailed : ok
    }
}

/// SIGINT or SIGTERM during a play: "User interrupted execution", the recap so far, exit 99.
/// The hosts' workers notice their coordinator gone and stop what they run.
enum PlayInterruption {
    // nonisolated(unsafe): set once, before the run starts; kept so that the sources live.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(progress: PlayProgress, printer: PlayPrinter) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\n[ERROR]: User interrupted execution\n".utf8))
                printer.handle(.recap(progress.snapshot))
                Main.exit(PlayExitCode.interrupted)
            }
            source.resume()
            sources.append(source)
        }
    }
}

extension PlayCommand {
    /// ansible.cfg where Ansible looks for it, with the ANSIBLE_* variables over it; settings
    /// Cohort lacks are named in one warning.
    static func ansibleConfig() throws -> (AnsibleConfig?, AnsibleConfig.Settings) {
        let environment = ProcessInfo.processInfo.environment
        let files = FileManager.default
        let path = AnsibleConfig.locate(
            environment: environment, currentDirectory: files.currentDirectoryPath, home: NSHomeDirectory(),
            exists: { files.isReadableFile(atPath: $0) },
            isDirectory: { var directory: ObjCBool = false; return files.fileExists(atPath: $0, isDirectory: &directory) && directory.boolValue },
            worldWritable: { ((try? files.attributesOfItem(atPath: $0))?[.posixPermissions] as? Int).map { $0 & 0o002 != 0 } ?? false })
        let config = try path.map { path throws -> AnsibleConfig in
            guard let data = files.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CohortError(.invalidInput, "cannot read it as UTF-8 text", file: path)
            }
            return try AnsibleConfig.parse(text, file: path)
        }
        let settings = try AnsibleConfig.settings(config, environment: environment)
        if !settings.unsupported.isEmpty {
            FileHandle.standardError.write(Data("[WARNING]: cohort play does not support these settings yet and ignores them: \(settings.unsupported.joined(separator: "; "))\n".utf8))
        }
        return (config, settings)
    }

    /// As ansible-playbook: each term of the limit that matches no host is a warning (each
    /// play's are warned of as the play starts: `group_by` and `add_host` may have made them
    /// by then), and a `--limit` that leaves no inventory host is an error before anything runs
    /// (an empty inventory is not: its plays are skipped).
    static func checkLimit(_ limit: String?, book: Playbook, inventory: Inventory) throws {
        var warned: [String] = []
        for pattern in [limit].compactMap({ $0 }) where !pattern.contains("{{") {
            // The implicit localhost matches without being in the inventory.
            for term in HostPattern.unmatchedTerms(pattern, in: inventory) where !warned.contains(term) && !DelegateLinks.isImplicitLocal(term, in: inventory) {
                warned.append(term)
                FileHandle.standardError.write(Data("[WARNING]: Could not match supplied host pattern, ignoring: \(Printable.escaped(term))\n".utf8))
            }
        }
        guard let limit, !inventory.hostOrder.isEmpty else { return }
        if try FleetHosts.names(matching: "all", limit: limit, allowEmpty: true, in: inventory).isEmpty {
            throw CohortError(.noHostsMatched, "--limit '\(Printable.escaped(limit))' leaves no host of the inventory to target; nothing ran")
        }
    }
}

/// `--list-hosts` and `--list-tasks`, as ansible-playbook prints them.
enum PlayListing {
    static func text(_ book: Playbook, inventory: Inventory, limit: String?, hosts: Bool, tasks: Bool) throws -> String {
        var out = "\nplaybook: \(book.file)\n"
        for (index, play) in book.plays.enumerated() {
            out += "\n  play #\(index + 1) (\(play.hosts)): \(play.name)\tTAGS: [\(play.tags.joined(separator: ","))]\n"
            if hosts {
                let names = try FleetHosts.names(matching: play.hosts, limit: limit, allowEmpty: true, in: inventory)
                out += "    pattern: ['\(play.hosts)']\n    hosts (\(names.count)):\n"
                for name in names { out += "      \(name)\n" }
            }
            if tasks {
                out += "    tasks:\n"
                func walk(_ items: [TaskItem]) {
                    for item in items {
                        switch item {
                        case .task(let task): out += "      \(task.title)\tTAGS: [\(task.options.tags.joined(separator: ","))]\n"
                        case .block(let block): walk(block.block + block.rescue + block.always)
                        }
                    }
                }
                walk(play.preTasks + play.tasks + play.postTasks)
            }
        }
        return out
    }
}
