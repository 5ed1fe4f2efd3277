import CohortTestSupport
import Foundation
import Testing

/// ansible-playbook is the oracle: every playbook in Tests/Playbooks runs twice with each
/// tool on the same loopback fleet, each into its own folder, and after each run the recap
/// per host and the end state (paths, types, modes, contents, link targets) must be the same.
/// A playbook's `# args:` line gives the flags both runs take (`--check`, `--tags`, `-e`).
/// The playbooks run in two serialized halves side by side (`Half0`, `Half1`): one chain
/// alone left the second core idle for the last several minutes of `make test`.
@Suite struct PlaybookOracleTests {
    static let folder = TestFleet.repositoryRoot + "/Tests/Playbooks"

    /// Every `.yml` here, and every `DIR/site.yml` (a project with its own group_vars/,
    /// host_vars/, roles/). An unreadable folder is an empty list, which the next test fails.
    static let allPlaybooks: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { name in
        if name.hasSuffix(".yml") { return name }
        return FileManager.default.fileExists(atPath: folder + "/" + name + "/site.yml") ? name + "/site.yml" : nil
    }.sorted()

    /// `COHORT_ORACLE_ONLY=a.yml,b.yml` runs just those while working on them; unset, all.
    static let playbooks: [String] = {
        guard let only = ProcessInfo.processInfo.environment["COHORT_ORACLE_ONLY"], !only.isEmpty else { return allPlaybooks }
        let wanted = Set(only.split(separator: ",").map(String.init))
        return allPlaybooks.filter { wanted.contains($0) }
    }()

    /// Without this, a folder that cannot be read would make the oracle pass with no case.
    @Test func theOraclePlaybooksAreThere() {
        #expect(Self.allPlaybooks.count >= 36, "\(Self.allPlaybooks)")
        #expect(Self.allPlaybooks.contains("layout/site.yml"))
        #expect(!Self.playbooks.isEmpty, "COHORT_ORACLE_ONLY names no oracle playbook")
    }

    static func ansiblePlaybook() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["COHORT_ANSIBLE_INVENTORY"] {
            return (configured as NSString).deletingLastPathComponent + "/ansible-playbook"
        }
        let local = TestFleet.repositoryRoot + "/.build-oracle/venv/bin/ansible-playbook"
        guard FileManager.default.isExecutableFile(atPath: local) else {
            throw FleetError("ansible-core is not installed: run `make test` (it installs it into .build-oracle/venv)")
        }
        return local
    }

    /// The flags of a playbook's `# args:` line.
    static func arguments(of playbook: String) throws -> [String] {
        let text = try String(contentsOfFile: folder + "/" + playbook, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# args:") }) else { return [] }
        // `{dir}` is Tests/Playbooks, for files named in flags (`-e @{dir}/vars/x.yml`).
        return line.dropFirst("# args:".count).split(separator: " ").map { $0.replacingOccurrences(of: "{dir}", with: folder) }
    }

    /// Tests/Playbooks/http_server.py for a playbook with a `# http-server` line: started
    /// here, its port read from its first line (it binds port 0), stopped by its PID.
    static func httpServer(for playbook: String) throws -> HTTPServer? {
        let text = try String(contentsOfFile: folder + "/" + playbook, encoding: .utf8)
        guard text.split(separator: "\n").contains(where: { $0.hasPrefix("# http-server") }) else { return nil }
        return try loopbackServer([folder + "/http_server.py"])
    }

    /// A Python server of Tests/Playbooks started with `arguments`: its port read from its
    /// first line (it binds port 0), stopped by its PID.
    static func loopbackServer(_ arguments: [String]) throws -> HTTPServer {
        // ChildProcess, not Foundation's Process: its wait needs a Dispatch thread (see there).
        let child = try ChildProcess("/usr/bin/python3", arguments)
        var line: [UInt8] = []
        while !line.contains(10) {
            let piece = ChildProcess.readSome(child.stdoutFD)
            if piece.isEmpty { break }
            line += piece
        }
        let first = String(decoding: line, as: UTF8.self)
        let server = HTTPServer(child: child, port: 0)
        guard first.hasPrefix("PORT "), let port = Int(first.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            server.stop()
            throw FleetError("the test server \(arguments) did not say its port: \(first)")
        }
        return HTTPServer(child: child, port: port)
    }

    struct HTTPServer {
        let child: ChildProcess
        let port: Int
        func stop() {
            // SIGKILL: a signal mask inherited from the test runner may block SIGTERM in it.
            kill(child.pid, SIGKILL)
            child.wait()
        }
    }

    /// One host, or the `# fleet-size: N` line's N: a playbook about hosts (their variables,
    /// order, delegation, batches, one host failing) says how many it needs. A second host
    /// that only repeats the first doubles ansible-playbook's cost, the bulk of `make test`'s
    /// CPU (its Python module runs: about 0.2 s each).
    static func fleetSize(of playbook: String) throws -> Int {
        let text = try String(contentsOfFile: folder + "/" + playbook, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# fleet-size: ") }) else { return 1 }
        return Int(line.dropFirst("# fleet-size: ".count).trimmingCharacters(in: .whitespaces)) ?? 2
    }

    /// The fleet's inventory, plus (for a playbook with a `# unreachable-host` line) a host
    /// that nothing answers: port 1 of 127.0.0.1, where nothing listens; and the text of the
    /// playbook's `# inventory: LINE` lines (group vars of the inventory's own); without the
    /// fleet's `ansible_user` for a playbook with an `# inventory-without-user` line.
    static func inventory(_ fleet: TestFleet, for playbook: String) throws -> String {
        let text = try String(contentsOfFile: folder + "/" + playbook, encoding: .utf8)
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("# inventory: ") }.map { $0.dropFirst("# inventory: ".count) }
        var extra = lines.isEmpty ? "" : "\n" + lines.joined(separator: "\n") + "\n"
        if text.contains("\n# unreachable-host") || text.hasPrefix("# unreachable-host") {
            extra += "\n[fleet]\ndead ansible_host=127.0.0.1 ansible_port=1\n"
        }
        // `# inventory-without-user`: the fleet's `ansible_user` left out, so that the
        // playbook's `remote_user` decides the login.
        let withoutUser = text.contains("\n# inventory-without-user")
        guard !extra.isEmpty || withoutUser else { return fleet.inventory }
        var base = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        if withoutUser { base = base.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("ansible_user=") }.joined(separator: "\n") }
        let path = fleet.directory + "/inventory-extended.ini"
        try (base + extra).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Each host's recap counts, from ansible-playbook's text (cohort prints the same).
    static func recap(_ output: String) -> [String: String] {
        var out: [String: String] = [:]
        guard let start = output.range(of: "PLAY RECAP") else { return out }
        for line in output[start.upperBound...].split(separator: "\n") where line.contains(" : ok=") {
            let parts = line.split(separator: ":", maxSplits: 1)
            out[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].split(separator: " ").joined(separator: " ")
        }
        return out
    }

    /// The `--diff` blocks of a run's output (from `--- before` to the blank line after it),
    /// with the run's folder written BASE, sorted (hosts finish in any order).
    static func diffBlocks(_ output: String, base: String) -> [String] {
        var blocks: [String] = []
        var current: String?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--- before") { current = "" }
            guard current != nil else { continue }
            if line.isEmpty {
                blocks.append(current!.replacingOccurrences(of: base, with: "BASE"))
                current = nil
            } else if line.hasPrefix("+++ after: "), line.hasSuffix(".j2") {
                // A template's after header: Ansible names its rendered temporary copy, Cohort
                // the template; both are the template's name here.
                current! += "+++ after: TEMPLATE/" + (line.split(separator: "/").last.map(String.init) ?? "") + "\n"
            } else {
                current! += line + "\n"
            }
        }
        return blocks.sorted()
    }

    /// Every path under `root`: type, permission bits, owner and group, content (with `root`
    /// written as BASE) and link target.
    static func state(_ root: String) -> [String] {
        var out: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
        while let found = walker.nextObject() as? String {
            let path = root + "/" + found
            // fetch's layout repeats the host's absolute path: written as BASE too.
            let relative = found.replacingOccurrences(of: String(root.dropFirst()), with: "BASE")
                .replacingOccurrences(of: "play/ansible", with: "play/TOOL").replacingOccurrences(of: "play/cohort", with: "play/TOOL")
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let mode = String(info.st_mode & 0o7777, radix: 8) + " \(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFDIR: out.append("dir \(mode) \(relative)")
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                out.append("link \(relative) -> \(target.replacingOccurrences(of: root, with: "BASE"))")
            default:
                let content = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "<unreadable>"
                out.append("file \(mode) \(relative) links=\(info.st_nlink) \(content.replacingOccurrences(of: root, with: "BASE").debugDescription)")
            }
        }
        return out.sorted()
    }

    /// Every other playbook of `list`, from the `half`th: the two halves' shares of the work.
    static func half(_ half: Int, of list: [String] = playbooks) -> [String] {
        list.enumerated().filter { $0.offset % 2 == half }.map(\.element)
    }

    @Suite(.serialized) struct Half0 {
        @Test(arguments: PlaybookOracleTests.half(0))
        func sameRecapAndEndStateAsAnsible(playbook: String) async throws { try await PlaybookOracleTests.compare(playbook) }
    }

    @Suite(.serialized) struct Half1 {
        @Test(arguments: PlaybookOracleTests.half(1))
        func sameRecapAndEndStateAsAnsible(playbook: String) async throws { try await PlaybookOracleTests.compare(playbook) }
    }

    static func compare(_ playbook: String) async throws {
        let fleet = try TestFleet.start(hosts: try Self.fleetSize(of: playbook))
        defer { fleet.stop() }
        let path = Self.folder + "/" + playbook
        var args = try Self.arguments(of: playbook)
        // A `# http-server` playbook gets `http`, the URL of a loopback server of its own.
        let server = try Self.httpServer(for: playbook)
        defer { server?.stop() }
        if let server { args += ["-e", "http=http://127.0.0.1:\(server.port)"] }
        let inventory = try Self.inventory(fleet, for: playbook)
        let root = fleet.directory + "/play"
        let ansibleBase = root + "/ansible", cohortBase = root + "/cohort"
        // Check mode writes nothing: the folders exist first, for both.
        for base in [ansibleBase, cohortBase] {
            for host in fleet.hosts { try FileManager.default.createDirectory(atPath: base + "/" + host.name, withIntermediateDirectories: true) }
        }
        // A short ControlPath: a socket's path may not exceed 108 bytes. %C hashes host, port
        // and user, and every fleet has its own ports, so no two runs share a master.
        let environment = [
            "ANSIBLE_SSH_ARGS":
                "-F \(fleet.directory)/ssh_config -o UserKnownHostsFile=\(fleet.knownHosts) -o ControlMaster=auto -o ControlPersist=30s -o ControlPath=/tmp/cohort-cp-%C",
            "ANSIBLE_PIPELINING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_LOCALHOST_WARNING": "False",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        // A project with its own ansible.cfg: both tools read it through ANSIBLE_CONFIG.
        let config = (path as NSString).deletingLastPathComponent + "/ansible.cfg"
        var ourEnvironment = ProcessInfo.processInfo.environment
        var theirEnvironment = environment
        if playbook.contains("/"), FileManager.default.fileExists(atPath: config) {
            ourEnvironment["ANSIBLE_CONFIG"] = config
            theirEnvironment["ANSIBLE_CONFIG"] = config
        }
        for round in 1...2 {
            let theirs = try await Shell.run(
                try Self.ansiblePlaybook(), ["-i", inventory, path, "-e", "base=\(ansibleBase)/{{ inventory_hostname }}"] + args,
                environment: theirEnvironment)
            let ours = try await Shell.run(
                CLIRunTests.binary, ["play", "-i", inventory, "-F", "none", path, "-e", "base=\(cohortBase)/{{ inventory_hostname }}"] + args,
                environment: ourEnvironment)
            let (expected, got) = (Self.recap(theirs.stdout), Self.recap(ours.stdout))
            try #require(!expected.isEmpty, "ansible-playbook printed no recap (run \(round)):\n\(theirs.stdout)\n\(theirs.stderr)")
            #expect(got == expected, "run \(round) of \(playbook): recaps differ\n--- ansible\n\(theirs.stdout)\n--- cohort\n\(ours.stdout)\n\(ours.stderr)")
            #expect(ours.status == theirs.status,
                "run \(round): exit \(ours.status), ansible-playbook exit \(theirs.status)\n\(ours.stderr)")
            if args.contains("--diff") {
                let (a, c) = (Self.diffBlocks(theirs.stdout, base: ansibleBase), Self.diffBlocks(ours.stdout, base: cohortBase))
                #expect(a == c, "run \(round) of \(playbook): --diff output differs\n--- ansible\n\(a.joined())\n--- cohort\n\(c.joined())")
            }
            for host in fleet.hosts {
                let (a, c) = (Self.state(ansibleBase + "/" + host.name), Self.state(cohortBase + "/" + host.name))
                #expect(a == c, "run \(round) of \(playbook) on \(host.name): end states differ\n--- ansible\n\(a.joined(separator: "\n"))\n--- cohort\n\(c.joined(separator: "\n"))")
            }
        }
    }
}
