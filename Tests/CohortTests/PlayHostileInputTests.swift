import CohortTestSupport
import Foundation
import Testing

/// `cohort play` under hostile input (issue 21): NUL bytes in paths (from the playbook or a
/// host's output), shell code in `environment:` names, stdin kept off command lines, secrets
/// under `no_log` on every output path, `debug` verbosity, output over the bound, and a
/// full standard output. Each failed before its fix.
@Suite(.serialized) struct PlayHostileInputTests {
    static func play(_ fleet: TestFleet, _ text: String, _ extra: [String] = []) async throws -> (Shell.Result, String) {
        let book = try PlayCLITests.write(text, in: fleet.directory, name: "hostile-\(UUID().uuidString.prefix(8)).yml")
        return (try await PlayCLITests.cohort(["play", "-i", fleet.inventory, "-F", "none"] + extra + [book]), book)
    }

    @Test func nulBytesAndShellNamesAreRefusedAndNothingWrongIsTouched() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let dir = fleet.directory + "/nul"
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - shell: mkdir -p \(dir) && touch \(dir)/keep \(dir)/keep2 && echo data > \(dir)/target
                - file:
                    path: "\(dir)/keep\\0.tmp"
                    state: absent
                  ignore_errors: true
                - shell: printf '\(dir)/keep2\\000'
                  register: out
                - file:
                    path: "{{ out.stdout }}.bak"
                    state: absent
                  ignore_errors: true
                - copy:
                    content: new
                    dest: "\(dir)/target\\0.new"
                  ignore_errors: true
                - shell: touch \(dir)/ran
                  environment:
                    "a;touch \(dir)/pwned;b": x
                  ignore_errors: true
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "embedded null byte").count - 1 == 3, "\(result.stdout)")
        #expect(result.stdout.contains("is not a valid variable name"), "\(result.stdout)")
        for name in ["keep", "keep2", "target"] { #expect(FileManager.default.fileExists(atPath: dir + "/" + name), "\(name) is gone") }
        #expect(try String(contentsOfFile: dir + "/target", encoding: .utf8) == "data\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/ran"))
    }

    /// stdin reaches the command on its standard input: its command line (readable by every
    /// local user in /proc/PID/cmdline) does not hold it.
    @Test func stdinIsNotOnTheCommandLine() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let out = fleet.directory + "/stdin-out"
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - shell: "tr '\\\\000' ' ' < /proc/$$/cmdline; echo; cat"
                  args:
                    stdin: s3cret-value
                  register: r
                - copy:
                    content: "{{ r.stdout }}"
                    dest: \(out)
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[0].contains("/proc/") && !lines[0].contains("s3cret") && lines[1] == "s3cret-value", "\(lines)")
    }

    /// `no_log` hides results, loop labels, errors and diffs on every output path, text and
    /// JSON; `debug` with a verbosity above -v's is skipped.
    @Test func noLogHidesTheSecretEverywhere() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let book = """
            - hosts: all
              gather_facts: false
              vars:
                secret: hunter2-s3cret
              tasks:
                - debug: msg="{{ item }}"
                  loop: ["{{ secret }}"]
                  no_log: true
                - debug: msg="{{ secret }}"
                  loop: "{{ secret }}"
                  no_log: true
                  ignore_errors: true
                - copy:
                    content: "{{ secret }}"
                    dest: \(fleet.directory)/secret-file
                  no_log: true
                - debug:
                    msg: only at -vv
                    verbosity: 2
            """
        for extra in [["--diff"], ["--diff", "-v"], ["--json"]] {
            let (result, _) = try await Self.play(fleet, book, extra)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(!result.stdout.contains("hunter2") && !result.stderr.contains("hunter2"), "\(extra): \(result.stdout)")
            #expect(!result.stdout.contains("only at -vv"), "\(extra): \(result.stdout)")
            if extra == ["--diff"] { #expect(result.stdout.contains("(item=None)"), "\(result.stdout)") }
        }
        let (loud, _) = try await Self.play(fleet, book, ["-vv"])
        #expect(loud.stdout.contains("only at -vv") && !loud.stdout.contains("hunter2"), "\(loud.stdout)")
    }

    /// A command printing past the 64 MiB bound fails that task; the host stays reachable and
    /// runs the next one.
    @Test func outputPastTheBoundFailsTheTaskNotTheHost() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - shell: head -c 70000000 /dev/zero; sleep 30
                  ignore_errors: true
                  register: big
                  no_log: true
                - debug: msg="{{ big.msg }}, {{ big.stdout | length }} bytes kept"
                - command: echo next
            """)
        #expect(result.status == 0, "\(result.stdout.suffix(2000))\(result.stderr)")
        #expect(result.stdout.contains("printed more than 67108864 bytes on its stdout"), "\(result.stdout.suffix(2000))")
        #expect(result.stdout.contains("67108864 bytes kept") && result.stdout.contains("ok=3") && result.stdout.contains("unreachable=0"), "\(result.stdout.suffix(2000))")
    }

    @Test func aFullStandardOutputIsAFailure() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let book = try PlayCLITests.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n", in: fleet.directory, name: "full.yml")
        let result = try await Shell.run("/bin/sh", ["-c", "exec \"$0\" play -i \"$1\" -F none \"$2\" > /dev/full", CLIRunTests.binary, fleet.inventory, book])
        #expect(result.status != 0, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write standard output"), "\(result.stderr)")
    }

    /// FIFOs as sources and destinations, a 10 GB sparse file, a `..` in fetch's src: each
    /// fails its task at once with why, nothing hangs. Files past a frame's 16 MiB go through
    /// the streaming kinds or in pieces (copy, slurp, fetch of 20 MB); a request that still
    /// cannot fit (a text edit of a 20 MB file) fails its task. The host stays reachable.
    @Test func awkwardFilesFailTheirTaskNotTheHost() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let d = fleet.directory + "/awkward"
        try FileManager.default.createDirectory(atPath: d + "/local", withIntermediateDirectories: true)
        #expect(try await Shell.run("/bin/sh", ["-c", "head -c 20971520 /dev/urandom > '\(d)/local/big'"]).status == 0)
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - shell: mkfifo \(d)/fifo && head -c 20000000 /dev/urandom > \(d)/big && truncate -s 10G \(d)/sparse && yes line | head -c 20000000 > \(d)/lines
                - copy: content=x dest=\(d)/fifo
                  ignore_errors: true
                - lineinfile: path=\(d)/fifo line=x
                  ignore_errors: true
                - slurp: src=\(d)/fifo
                  ignore_errors: true
                - fetch: src=\(d)/fifo dest=\(d)/out
                  ignore_errors: true
                - fetch: src=\(d)/sparse dest=\(d)/out
                  ignore_errors: true
                - fetch: src=\(d)/x/../../../../etc/hostname dest=\(d)/out
                  ignore_errors: true
                - lineinfile: path=\(d)/lines line=last
                  ignore_errors: true
                - slurp: src=\(d)/big
                  register: slurped
                - copy:
                    content: "{{ slurped.content | length }}"
                    dest: \(d)/slurped-length
                - fetch: src=\(d)/big dest=\(d)/fetched/ flat=true
                - copy: src=\(d)/local/big dest=\(d)/copied
                - copy: src=\(d)/local/big dest=\(d)/copied
                  register: again
                - command: echo {{ again.changed }}
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("exists and is not a regular file"), "\(out)")
        #expect(out.components(separatedBy: "is not a regular file (a FIFO)").count - 1 >= 2, "\(out)")
        #expect(out.contains("remote file \(d)/fifo is not a regular file"), "\(out)")
        #expect(out.contains("over the 67108864-byte limit of the fetch module"), "\(out)")
        #expect(out.contains("holds a '..' segment"), "\(out)")
        #expect(out.contains("over the 16777216-byte frame limit"), "\(out)")
        #expect(out.contains("ok=14   changed=5    unreachable=0    failed=0") && out.contains("ignored=7"), "\(out)")
        #expect(!FileManager.default.fileExists(atPath: d + "/out"))
        #expect(try String(contentsOfFile: d + "/slurped-length", encoding: .utf8) == "26666668")
        #expect(FileManager.default.contentsEqual(atPath: d + "/big", andPath: d + "/fetched/big"))
        #expect(FileManager.default.contentsEqual(atPath: d + "/local/big", andPath: d + "/copied"))
    }

    /// A coordinator killed while its worker hashes a 1 TB (sparse) file: the worker notices its
    /// channel is gone between chunks and exits, instead of hashing on for minutes.
    @Test func aWorkerWhoseCoordinatorIsKilledStopsItsLongWork() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let sparse = fleet.directory + "/sparse"
        #expect(FileManager.default.createFile(atPath: sparse, contents: nil) && truncate(sparse, 1 << 40) == 0)
        let book = try PlayCLITests.write(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - stat: path=\(sparse)\n", in: fleet.directory, name: "hash.yml")
        let cohort = try ChildProcess(CLIRunTests.binary, ["play", "-i", fleet.inventory, "-F", "none", book])
        // The worker under the host's sshd, once it has read 50 MB of the file.
        func hashingWorker() -> Int32? {
            Processes.descendants(of: fleet.hosts[0].sshdPID).first { pid in
                guard (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("cohort-worker") == true,
                    let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
                    let line = io.split(separator: "\n").first(where: { $0.hasPrefix("rchar:") }),
                    let read = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
                else { return false }
                return read > 50_000_000
            }
        }
        var worker: Int32?
        for _ in 0..<6000 where worker == nil {
            worker = hashingWorker()
            if worker == nil { usleep(20_000) }
        }
        let busy = try #require(worker, "the worker never started hashing")
        kill(cohort.pid, SIGKILL)
        _ = cohort.wait()
        // Gone within its next chunks; the limit only turns a regression into a failure.
        var gone = false
        for _ in 0..<3000 where !gone {
            gone = kill(busy, 0) != 0
            if !gone { usleep(20_000) }
        }
        #expect(gone, "the worker (pid \(busy)) went on after its coordinator was killed")
    }

    /// A worker that says nothing, not even its heartbeat, while a task waits on it (stuck in
    /// a read that never returns, say, though its SSH connection answers keepalives): the host
    /// is UNREACHABLE within the bound, and the play ends.
    @Test func aSilentWorkerIsUnreachableWithinTheBound() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let real = (CLIRunTests.binary as NSString).deletingLastPathComponent + "/cohort-worker"
        let script = fleet.directory + "/silent-worker.sh"
        // Passes the worker's hello through, then nothing: its results and heartbeats are dropped.
        let filter = """
            import struct, sys
            i, o = sys.stdin.buffer, sys.stdout.buffer
            head = i.read(4)
            o.write(head + i.read(struct.unpack(">I", head)[0])); o.flush()
            while i.read(65536): pass
            """
        try "#!/bin/sh\n\"\(real)\" \"$@\" | python3 -c '\(filter)'\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let book = try PlayCLITests.write("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n", in: fleet.directory, name: "silent.yml")
        let result = try await Shell.run(
            CLIRunTests.binary, ["play", "-i", fleet.inventory, "-F", "none", "--heartbeat-timeout", "5", book],
            environment: ProcessInfo.processInfo.environment.merging(["COHORT_WORKER": script]) { $1 })
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("UNREACHABLE!") && result.stdout.contains("not even its heartbeat: it is stuck"), "\(result.stdout)")
    }

    /// A script left in the cache by a worker that is gone (its coordinator killed mid-task)
    /// is removed by the next script task; one of a live worker is left alone. Numbers that
    /// are not numbers are not wait cycles: a hostile `wait_for` or `pause` is an error.
    @Test func staleScriptsAreSweptAndHostileWaitsRefused() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let cache = CopyFetchTests.home(fleet, fleet.hosts[0]) + "/.cache/cohort"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let stale = cache + "/script-999999999-1E2D", old = cache + "/script-5F0C2B7A-9A1B", live = cache + "/script-\(getpid())-ABCD"
        for path in [stale, old, live] { FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8)) }
        let scripts = fleet.directory + "/files"
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        try "#!/bin/sh\necho ran \"$@\"\n".write(toFile: scripts + "/hello.sh", atomically: true, encoding: .utf8)
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - script: hello.sh one
                - wait_for: path=/ timeout="{{ 1e300 }}"
                  ignore_errors: true
                - wait_for: path=/ delay="{{ 'nan' | float }}"
                  ignore_errors: true
                - pause: minutes="{{ 999999999999999999 }}"
                  ignore_errors: true
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale) && !FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(result.stdout.components(separatedBy: "must be a number of seconds").count - 1 == 3, "\(result.stdout)")
        let left = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("script-") }
        #expect(left == ["script-\(getpid())-ABCD"], "the task's own script is removed after it ran: \(left)")
    }

    /// `find` past one answer's frame comes in pages: every file once (issue 21: 50,000
    /// files made a reachable host UNREACHABLE).
    @Test func aBigFindComesInPages() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let long = String(repeating: "f", count: 200)
        let tree = fleet.directory + "/many/" + long
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        for i in 0..<13_000 { FileManager.default.createFile(atPath: tree + "/\(long)-\(i)", contents: nil) }
        let out = fleet.directory + "/found"
        let (result, _) = try await Self.play(
            fleet,
            """
            - hosts: all
              gather_facts: false
              tasks:
                - find: paths=\(fleet.directory)/many recurse=yes
                  register: found
                - copy:
                    content: "{{ found.matched }} {{ found.files | map(attribute='path') | unique | length }} {{ found.examined }}"
                    dest: \(out)
            """)
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\(result.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "13000 13000 13001")
    }
}
