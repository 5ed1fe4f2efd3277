import CohortTestSupport
import Foundation
import Synchronization
import Testing

/// `cohort play` where the oracle cannot be compared step for step: a host that dies in the
/// middle of a task, invalid playbooks (nothing contacted), and the listing flags.
@Suite(.serialized) struct PlayCLITests {
    static func cohort(_ arguments: [String]) async throws -> Shell.Result {
        try #require(FileManager.default.isExecutableFile(atPath: CLIRunTests.binary), "build the CLI first (make test does)")
        return try await Shell.run(CLIRunTests.binary, arguments)
    }

    static func write(_ text: String, in directory: String, name: String = "site.yml") throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The host's sshd and its sessions are killed while its task runs: it is reported
    /// UNREACHABLE in that task, with why, and runs nothing more; the other host goes on.
    @Test func aHostThatDiesMidPlayIsUnreachableFromThatTask() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let base = fleet.directory + "/play"
        let book = try Self.write("""
            - hosts: all
              gather_facts: false
              tasks:
                - file: path=\(base)/{{ inventory_hostname }} state=directory
                - shell: touch \(base)/{{ inventory_hostname }}/started; sleep {{ 20 if inventory_hostname == 'h2' else 0 }}
                - copy: content=after dest=\(base)/{{ inventory_hostname }}/after
            """, in: fleet.directory)
        let victim = fleet.hosts[1]
        let started = "\(base)/h2/started"
        let sessions: @Sendable () -> [Int32] = { fleet.sessionProcesses(of: victim) + [victim.sshdPID] }
        // The watcher is a thread of its own, not a task: under the parallel suite's load the
        // task pool can be busy for longer than h2's task runs (seen in a clean-clone CI).
        // It stops once the run has ended, so that it never kills a PID after its fleet is gone.
        let ended = Mutex(false)
        let finished = DispatchSemaphore(value: 0)
        let watcher = Thread {
            defer { finished.signal() }
            while !FileManager.default.fileExists(atPath: started) {
                if ended.withLock({ $0 }) { return }
                usleep(10_000)
            }
            for pid in sessions() { kill(pid, SIGKILL) }
        }
        watcher.start()
        let child = try ChildProcess(CLIRunTests.binary, ["play", "-i", fleet.inventory, "-F", "none", book])
        child.closeStdin()
        let stdout = try await offPool { String(decoding: ChildProcess.readAll(child.stdoutFD), as: UTF8.self) }
        let status = try await offPool { child.wait() }
        ended.withLock { $0 = true }
        try await offPool { finished.wait() }
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        let result = (status: status, stdout: stdout, stderr: stderr)
        #expect(result.status == 4, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("fatal: [h2]: UNREACHABLE!"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(base)/h1/after"))
        #expect(!FileManager.default.fileExists(atPath: "\(base)/h2/after"))
        #expect(result.stdout.contains("h2                         : ok=1    changed=1    unreachable=1"), "\(result.stdout)")
    }

    /// An invalid playbook exits 4 naming file:line:column, and no host is contacted.
    @Test func anInvalidPlaybookContactsNoHost() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let before = fleet.log(of: fleet.hosts[0]).components(separatedBy: "Accepted publickey").count
        let book = try Self.write("- hosts: all\n  tasks:\n    - systemd: name=nginx\n", in: fleet.directory)
        let result = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", book])
        #expect(result.status == 4)
        #expect(result.stderr.contains("\(book):3:16: module 'systemd' is not supported by cohort play yet (supported modules: "), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(fleet.log(of: fleet.hosts[0]).components(separatedBy: "Accepted publickey").count == before)
    }

    /// A vault file that no given password opens, or vault data with no password at all:
    /// exit 4 naming the file, and no host is contacted. The vars file is the oracle's
    /// (Tests/Playbooks/vault), made by ansible-vault.
    @Test func aVaultFileThatCannotBeOpenedContactsNoHost() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let before = fleet.log(of: fleet.hosts[0]).components(separatedBy: "Accepted publickey").count
        let vault = TestFleet.repositoryRoot + "/Tests/Playbooks/vault"
        let book = try Self.write(
            "- hosts: all\n  vars_files: [\(vault)/vars/runtime.yml]\n  tasks:\n    - copy: content=x dest=/tmp/never\n", in: fleet.directory)
        try "not-the-password\n".write(toFile: fleet.directory + "/wrong.txt", atomically: true, encoding: .utf8)
        let wrong = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", "--vault-password-file", fleet.directory + "/wrong.txt", book])
        #expect(wrong.status == 4, "\(wrong.stdout)\(wrong.stderr)")
        #expect(wrong.stderr.contains("\(vault)/vars/runtime.yml: decryption failed (no vault secrets were found that could decrypt)"), "\(wrong.stderr)")
        let none = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", book])
        #expect(none.status == 4, "\(none.stdout)\(none.stderr)")
        #expect(none.stderr.contains("vault-encrypted data, and no vault password was given"), "\(none.stderr)")
        #expect(wrong.stdout.isEmpty && none.stdout.isEmpty)
        #expect(fleet.log(of: fleet.hosts[0]).components(separatedBy: "Accepted publickey").count == before)
    }

    @Test func anUndefinedVariableFailsTheTaskNamingItAndWhere() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        // The value's own place (as Ansible's Origin), and the task it is in.
        let book = try Self.write(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ nowhere }}\"\n      ignore_errors: true\n"
                + "    - name: named\n      debug:\n        msg: |\n          first\n          {{ nowhere2 }}\n", in: fleet.directory)
        let result = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", book])
        #expect(result.status == 2)
        #expect(
            result.stdout.contains("fatal: [h1]: FAILED! => {\"changed\": false, \"failed\": true, \"msg\": \"\(book):4:14: 'nowhere' is undefined (in the task 'debug' at \(book):4:7)\"}"),
            "\(result.stdout)")
        #expect(
            result.stdout.contains("\"msg\": \"\(book):8:14: line 2 of the value: 'nowhere2' is undefined (in the task 'named' at \(book):6:7)\"}"), "\(result.stdout)")
    }

    @Test func listingFlagsPrintWithoutConnecting() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let book = try Self.write("- name: p\n  hosts: all\n  tasks:\n    - name: one\n      debug: msg=x\n      tags: [t]\n", in: fleet.directory)
        let hosts = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", "--list-hosts", book])
        #expect(hosts.status == 0 && hosts.stdout.contains("hosts (2):\n      h1\n      h2"), "\(hosts.stdout)")
        let tasks = try await Self.cohort(["play", "-i", fleet.inventory, "-F", "none", "--list-tasks", book])
        #expect(tasks.status == 0 && tasks.stdout.contains("      one\tTAGS: [t]"), "\(tasks.stdout)")
        let syntax = try await Self.cohort(["play", "-F", "none", "--syntax-check", book])
        #expect(syntax.status == 0 && syntax.stdout.contains("playbook: \(book)"), "\(syntax.stdout)")
    }

    /// A host whose key is not known is refused, reported UNREACHABLE with the fingerprint's
    /// words, and the run exits 4 (ansible-playbook's code for an unreachable host); the known
    /// host runs its tasks.
    @Test func anUnknownHostKeyIsRefusedAsUnreachable() async throws {
        let fleet = try TestFleet.start(hosts: 2)
        defer { fleet.stop() }
        let known = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8).split(separator: "\n")
        let trimmed = fleet.directory + "/known-one"
        try (known.filter { $0.contains(":\(fleet.hosts[0].port)") }.joined(separator: "\n") + "\n").write(toFile: trimmed, atomically: true, encoding: .utf8)
        let book = try Self.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n", in: fleet.directory)
        let inventory = fleet.directory + "/inventory-one-key.ini"
        try (try String(contentsOfFile: fleet.inventory, encoding: .utf8)).replacingOccurrences(of: fleet.knownHosts, with: trimmed)
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try await Self.cohort(["play", "-i", inventory, "-F", "none", book])
        #expect(result.status == 4, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("fatal: [h2]: UNREACHABLE!"), "\(result.stdout)")
        #expect(result.stdout.contains("h1                         : ok=1    changed=1"), "\(result.stdout)")
    }

    /// `playbook_dir` is the playbook folder's absolute path whatever the playbook was called
    /// by (issue 22: `site.yml` gave "", so `{{ playbook_dir }}/reports` was `/reports`); the
    /// lookups look beside it too (`lookup('file')` of `site.yml` looked in /files/).
    @Test func playbookDirIsAbsolute() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let folder = fleet.directory + "/project/sub"
        try FileManager.default.createDirectory(atPath: folder + "/files", withIntermediateDirectories: true)
        try "beside\n".write(toFile: folder + "/files/note.txt", atomically: true, encoding: .utf8)
        _ = try Self.write(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: content=\"{{ playbook_dir }} {{ lookup('file', 'note.txt') }}\" dest=\"{{ playbook_dir }}/seen\"\n",
            in: folder)
        for (cwd, name) in [(folder, "site.yml"), (folder, "./site.yml"), (fleet.directory + "/project", "sub/../sub/site.yml")] {
            try? FileManager.default.removeItem(atPath: folder + "/seen")
            let result = try await Shell.run(
                "/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" play -i \"$2\" -F none \"$3\"", CLIRunTests.binary, cwd, fleet.inventory, name])
            #expect(result.status == 0, "\(name): \(result.stdout)\(result.stderr)")
            let seen = try String(contentsOfFile: folder + "/seen", encoding: .utf8)
            let real = URL(fileURLWithPath: folder).standardizedFileURL.path
            #expect(seen == real + " beside", "\(name): \(seen)")
        }
    }

    /// A `--limit` that leaves no host is an error before anything runs (it exited 0 with
    /// "skipping: no hosts matched"); each unmatched term is warned of, as ansible-playbook
    /// does (a play's as it starts); an empty inventory only skips its plays.
    @Test func aLimitMatchingNothingIsAnErrorAndAnEmptyInventoryIsNot() async throws {
        let scratch = try CLIUsageTests.Scratch()
        // Port 1 of 127.0.0.1: nothing listens, so a contact would be an unreachable host.
        let inventory = try Self.write("[web]\nh1 ansible_host=127.0.0.1 ansible_port=1\n", in: scratch.dir, name: "hosts.ini")
        let book = try Self.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n- hosts: nomatch\n  tasks: []\n", in: scratch.dir)
        let limited = try await Self.cohort(["play", "-i", inventory, "-F", "none", "-l", "wbe", book])
        #expect(limited.status == 1, "\(limited.stdout)\(limited.stderr)")
        #expect(limited.stdout.isEmpty, "\(limited.stdout)")
        #expect(limited.stderr.contains("[WARNING]: Could not match supplied host pattern, ignoring: wbe\n"), "\(limited.stderr)")
        // A play's pattern is warned of as the play starts (group_by or add_host may have made
        // it by then), and with no host to target no play starts: as ansible-playbook.
        #expect(!limited.stderr.contains("ignoring: nomatch"), "\(limited.stderr)")
        #expect(limited.stderr.contains("cohort: --limit 'wbe' leaves no host of the inventory to target; nothing ran"), "\(limited.stderr)")
        let empty = try Self.write("", in: scratch.dir, name: "empty.ini")
        let skipped = try await Self.cohort(["play", "-i", empty, "-F", "none", "-l", "wbe", book])
        #expect(skipped.status == 0, "\(skipped.stdout)\(skipped.stderr)")
        #expect(skipped.stdout.contains("skipping: no hosts matched"), "\(skipped.stdout)")
        #expect(skipped.stderr.contains("[WARNING]: Could not match supplied host pattern, ignoring: nomatch\n"), "\(skipped.stderr)")
    }

    /// Connection variables given as extra vars win over the inventory's, as in Ansible (they
    /// were ignored): a wrong key and port in the inventory, the right ones after -e.
    @Test func connectionVariablesFromExtraVarsWin() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let inventory = fleet.directory + "/wrong.ini"
        let text = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        let key = try #require(text.split(separator: "\n").first { $0.hasPrefix("ansible_ssh_private_key_file=") }).split(separator: "=")[1]
        try text.replacingOccurrences(of: "ansible_port=\(host.port)", with: "ansible_port=1")
            .replacingOccurrences(of: "ansible_ssh_private_key_file=\(key)", with: "ansible_ssh_private_key_file=/nonexistent/key")
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let book = try Self.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n", in: fleet.directory)
        let wrong = try await Self.cohort(["play", "-i", inventory, "-F", "none", book])
        #expect(wrong.status == 4, "\(wrong.stdout)\(wrong.stderr)")
        let right = try await Self.cohort(["play", "-i", inventory, "-F", "none", "-e", "ansible_port=\(host.port) ansible_ssh_private_key_file=\(key)", book])
        #expect(right.status == 0, "\(right.stdout)\(right.stderr)")
        #expect(right.stdout.contains("h1                         : ok=1    changed=1"), "\(right.stdout)")
        let templated = try await Self.cohort(["play", "-i", inventory, "-F", "none", "-e", "ansible_port={{ p }}", book])
        #expect(templated.status == 4 && templated.stderr.contains("-e ansible_port: a connection variable cannot be a template"), "\(templated.stderr)")
    }

    /// SIGINT mid-task: "User interrupted execution" and the recap so far, exit 99 (as
    /// ansible-playbook), and the task's command on the host is stopped with the run.
    @Test func anInterruptedPlayPrintsTheRecapAndStopsItsTasks() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let token = "cohort-interrupt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let started = fleet.directory + "/started"
        let book = try Self.write(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=first\n    - shell: cp /bin/sleep \(fleet.directory)/\(token) && touch \(started) && exec \(fleet.directory)/\(token) 300\n",
            in: fleet.directory)
        let child = try ChildProcess(CLIRunTests.binary, ["play", "-i", fleet.inventory, "-F", "none", book])
        child.closeStdin()
        func sleepers() -> [Int32] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
                guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
                return String(decoding: cmdline, as: UTF8.self).hasPrefix(fleet.directory + "/" + token) ? pid : nil
            }
        }
        // Conditions, polled: the task has started and its sleep is running.
        for _ in 0..<6000 where !(FileManager.default.fileExists(atPath: started) && !sleepers().isEmpty) { usleep(10_000) }
        try #require(!sleepers().isEmpty, "the task never started")
        kill(child.pid, SIGINT)
        let stdout = try await offPool { String(decoding: ChildProcess.readAll(child.stdoutFD), as: UTF8.self) }
        let status = try await offPool { child.wait() }
        let stderr = String(decoding: ChildProcess.readAll(child.stderrFD), as: UTF8.self)
        #expect(status == 99, "\(stdout)\(stderr)")
        #expect(stderr.contains("[ERROR]: User interrupted execution"), "\(stderr)")
        #expect(stdout.contains("PLAY RECAP") && stdout.contains("h1                         : ok=1    changed=0"), "\(stdout)")
        // The host's worker sees its coordinator gone and stops the command (polled).
        for _ in 0..<6000 where !sleepers().isEmpty { usleep(10_000) }
        #expect(sleepers().isEmpty, "the task's command outlived the run: \(sleepers())")
    }

    /// ansible.cfg in the working folder gives the inventory, the user, the key (none of them
    /// on the command line or in the inventory) and the strategy, and a setting Cohort lacks
    /// is named in one warning.
    @Test func ansibleCfgInTheWorkingFolderIsRead() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let project = fleet.directory + "/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        let key = try #require(text.split(separator: "\n").first { $0.hasPrefix("ansible_ssh_private_key_file=") }).split(separator: "=")[1]
        let stripped = text.split(separator: "\n").filter { !$0.hasPrefix("ansible_ssh_private_key_file=") && !$0.hasPrefix("ansible_user=") }
        try (stripped.joined(separator: "\n") + "\n").write(toFile: project + "/hosts.ini", atomically: true, encoding: .utf8)
        try "[defaults]\ninventory = hosts.ini\nremote_user = root\nprivate_key_file = \(key)\nstrategy = free\nlibrary = ./library\n"
            .write(toFile: project + "/ansible.cfg", atomically: true, encoding: .utf8)
        _ = try Self.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: id -un\n      register: who\n    - debug: var=who.stdout\n", in: project)
        let result = try await Shell.run(
            "/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" play -F none site.yml", CLIRunTests.binary, project],
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ANSIBLE_") && $0.key != "COHORT_INVENTORY" })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\"who.stdout\": \"root\""), "\(result.stdout)")
        // strategy = free is read (the play runs free); library is not here yet.
        #expect(result.stderr.contains("[WARNING]: cohort play does not support these settings yet and ignores them: \(project)/ansible.cfg: [defaults] library"), "\(result.stderr)")
        #expect(!result.stderr.contains("strategy"), "\(result.stderr)")
    }

    /// A play's remote_user is the login where the inventory sets no ansible_user, over -u; a
    /// later play with another remote_user connects again as that user (here one sshd refuses:
    /// the host is unreachable in that play only).
    @Test func remoteUserOfAPlayIsTheLogin() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let text = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        let inventory = fleet.directory + "/no-user.ini"
        try (text.split(separator: "\n").filter { !$0.hasPrefix("ansible_user=") }.joined(separator: "\n") + "\n")
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let book = try Self.write(
            """
            - hosts: all
              remote_user: root
              gather_facts: false
              tasks:
                - command: id -un
                  register: who
                - debug: var=who.stdout
            - hosts: all
              remote_user: cohort-no-such-user
              gather_facts: false
              tasks:
                - command: "true"
            """, in: fleet.directory)
        let result = try await Self.cohort(["play", "-i", inventory, "-F", "none", "-u", "cohort-nobody-either", book])
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\"who.stdout\": \"root\""), "\(result.stdout)")
        #expect(result.stdout.contains("fatal: [h1]: UNREACHABLE!") && result.stdout.contains("cohort-no-such-user"), "\(result.stdout)")
        #expect(result.stdout.contains("h1                         : ok=2    changed=1    unreachable=1"), "\(result.stdout)")
    }
}
