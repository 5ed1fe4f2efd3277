import CohortTestSupport
import Foundation
import Testing

/// ansible-playbook is the oracle on separate hosts: each playbook in Tests/Playbooks/rootfs
/// runs twice with each tool, ansible-playbook on one fresh `testfleet --rootfs` fleet and
/// `cohort play` on another made from the same Debian root; after each run the recaps, the exit
/// codes and each host's changes (its overlay's upper layer: every path created, changed or
/// deleted anywhere on the host) must be the same. Needs root (mounts, namespaces). Two
/// serialized halves run side by side, as PlaybookOracleTests'.
@Suite(.enabled(if: geteuid() == 0, "separate hosts need root (testfleet --rootfs)"))
struct SeparateHostOracleTests {
    static let folder = PlaybookOracleTests.folder + "/rootfs"

    /// Every `.yml` here, and every `DIR/site.yml` (a project with its roles and group_vars).
    static let allPlaybooks: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { name in
        if name.hasSuffix(".yml") { return "rootfs/" + name }
        return FileManager.default.fileExists(atPath: folder + "/" + name + "/site.yml") ? "rootfs/" + name + "/site.yml" : nil
    }.sorted()

    /// `COHORT_ORACLE_ONLY=rootfs/a.yml,…` runs just those while working on them; unset, all.
    static let playbooks: [String] = {
        guard let only = ProcessInfo.processInfo.environment["COHORT_ORACLE_ONLY"], !only.isEmpty else { return allPlaybooks }
        let wanted = Set(only.split(separator: ",").map(String.init))
        return allPlaybooks.filter { wanted.contains($0) }
    }()

    @Test func thePlaybooksAreThere() {
        #expect(Self.allPlaybooks.count >= 4, "\(Self.allPlaybooks)")
        #expect(Self.allPlaybooks.contains("rootfs/webapp/site.yml"))
        #expect(!Self.playbooks.isEmpty, "COHORT_ORACLE_ONLY names no playbook here")
    }

    /// What the tools leave for themselves (their caches and temporary files, Ansible's async
    /// job files), the harness's own files and sudo's timestamps: not the playbook's doing.
    static func ignored(_ relative: String) -> Bool {
        let parts = relative.split(separator: "/")
        if parts.contains(where: { $0 == ".cache" || $0 == ".ansible" || $0 == ".ansible_async" || $0.hasPrefix("ansible-tmp-") || $0.hasPrefix("ansible_") }) { return true }
        // apt's binary caches: rebuilt by whichever program opens the cache, byte for byte its own.
        return ["var/log", "var/lib/sudo", "etc/ssh", "run", "etc/hostname", "etc/hosts", "var/cache/apt"].contains { relative == $0 || relative.hasPrefix($0 + "/") }
    }

    /// Every path of a host's upper layer: type, mode, owner, content or link target; a
    /// deletion as such. A folder only copied up (same mode and owner as below) is left out:
    /// a tool's cache inside it put it there.
    static func changes(upper: String, base: String) -> [String] {
        var out: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: upper) else { return ["<cannot read \(upper)>"] }
        while let relative = walker.nextObject() as? String {
            if ignored(relative) { continue }
            var info = stat(), below = stat()
            guard lstat(upper + "/" + relative, &info) == 0 else { continue }
            let owner = String(info.st_mode & 0o7777, radix: 8) + " \(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if lstat(base + "/" + relative, &below) == 0, below.st_mode == info.st_mode, below.st_uid == info.st_uid, below.st_gid == info.st_gid { continue }
                out.append("dir \(owner) \(relative)")
            case S_IFCHR where info.st_rdev == 0:
                out.append("deleted \(relative)")
            case S_IFLNK:
                out.append("link \(relative) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: upper + "/" + relative)) ?? "?")")
            default:
                var bytes = FileManager.default.contents(atPath: upper + "/" + relative) ?? Data()
                if relative.hasPrefix("var/spool/cron/crontabs/") { bytes = withoutInstallStamp(bytes) }
                out.append("file \(owner) \(relative) \(String(decoding: bytes.prefix(4096), as: UTF8.self).debugDescription) (\(bytes.count) bytes)")
            }
        }
        return out.sorted()
    }

    /// crontab heads each crontab it installs with the file it read and the time: neither is
    /// the playbook's doing (Ansible hands it a temporary file, Cohort its standard input).
    static func withoutInstallStamp(_ bytes: Data) -> Data {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let kept = lines.filter { !($0.hasPrefix("# (") && $0.contains(" installed on ")) }
        return Data(kept.joined(separator: "\n").utf8)
    }

    @Suite(.serialized) struct Half0 {
        @Test(arguments: PlaybookOracleTests.half(0, of: SeparateHostOracleTests.playbooks))
        func sameRecapAndHostChangesAsAnsible(playbook: String) async throws { try await SeparateHostOracleTests.compare(playbook) }
    }

    @Suite(.serialized) struct Half1 {
        @Test(arguments: PlaybookOracleTests.half(1, of: SeparateHostOracleTests.playbooks))
        func sameRecapAndHostChangesAsAnsible(playbook: String) async throws { try await SeparateHostOracleTests.compare(playbook) }
    }

    static func compare(_ playbook: String) async throws {
        let size = try PlaybookOracleTests.fleetSize(of: playbook)
        let theirFleet = try TestFleet.start(hosts: size, rootfs: true)
        defer { theirFleet.stop() }
        let ourFleet = try TestFleet.start(hosts: size, rootfs: true)
        defer { ourFleet.stop() }
        let base = TestFleet.rootfsBase
        let path = PlaybookOracleTests.folder + "/" + playbook
        var args = try PlaybookOracleTests.arguments(of: playbook)
        // An `# apt-repository` playbook gets `repo`, the URL of a package repository built and
        // served on loopback for this run (Tests/Playbooks/apt_repo.py), the same for both fleets.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var repository: PlaybookOracleTests.HTTPServer?
        if text.split(separator: "\n").contains(where: { $0.hasPrefix("# apt-repository") }) {
            let folder = theirFleet.directory + "/apt-repository"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            repository = try PlaybookOracleTests.loopbackServer([PlaybookOracleTests.folder + "/apt_repo.py", folder])
            args += ["-e", "repo=http://127.0.0.1:\(repository!.port)"]
        }
        defer { repository?.stop() }
        let environment = [
            // One SSH connection per host and login for the run, as PlaybookOracleTests (see there).
            "ANSIBLE_SSH_ARGS":
                "-F \(theirFleet.directory)/ssh_config -o UserKnownHostsFile=\(theirFleet.knownHosts) -o ControlMaster=auto -o ControlPersist=30s -o ControlPath=/tmp/cohort-cp-%C",
            "ANSIBLE_PIPELINING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        for round in 1...2 {
            let theirs = try await Shell.run(
                try PlaybookOracleTests.ansiblePlaybook(), ["-i", try PlaybookOracleTests.inventory(theirFleet, for: playbook), path] + args,
                environment: environment)
            let ours = try await Shell.run(
                CLIRunTests.binary, ["play", "-i", try PlaybookOracleTests.inventory(ourFleet, for: playbook), "-F", "none", path] + args)
            let (expected, got) = (PlaybookOracleTests.recap(theirs.stdout), PlaybookOracleTests.recap(ours.stdout))
            try #require(!expected.isEmpty, "ansible-playbook printed no recap (run \(round)):\n\(theirs.stdout)\n\(theirs.stderr)")
            #expect(got == expected, "run \(round) of \(playbook): recaps differ\n--- ansible\n\(theirs.stdout)\n--- cohort\n\(ours.stdout)\n\(ours.stderr)")
            #expect(ours.status == theirs.status, "run \(round): exit \(ours.status), ansible-playbook exit \(theirs.status)\n\(ours.stderr)")
            for (their, our) in zip(theirFleet.hosts, ourFleet.hosts) {
                let (a, c) = (Self.changes(upper: theirFleet.upper(of: their), base: base), Self.changes(upper: ourFleet.upper(of: our), base: base))
                // Outside check mode, a playbook here changes its hosts: an empty list would
                // mean the comparison saw nothing.
                if !args.contains("--check") { #expect(!a.isEmpty, "ansible-playbook changed nothing on \(their.name)") }
                #expect(a == c, "run \(round) of \(playbook) on \(our.name): host changes differ\n--- ansible\n\(a.joined(separator: "\n"))\n--- cohort\n\(c.joined(separator: "\n"))")
            }
        }
    }
}
