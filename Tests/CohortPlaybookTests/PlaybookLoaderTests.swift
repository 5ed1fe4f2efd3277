import CohortCore
import CohortTemplate
import Testing

@testable import CohortPlaybook

/// Every problem in a playbook is found before anything runs, and said as
/// `file:line:column: what is wrong`.
@Suite struct PlaybookLoaderTests {
    static func load(_ text: String, files: [String: String] = [:]) throws -> Playbook {
        var all = files
        all["/p/site.yml"] = text
        let loader = PlaybookLoader(
            read: { path in
                guard let text = all[path] else { throw CohortError(.io, "no such file") }
                return text
            }, exists: { all[$0] != nil })
        return try loader.load(path: "/p/site.yml")
    }

    static func error(_ text: String, files: [String: String] = [:]) -> String {
        do {
            _ = try load(text, files: files)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    /// import_playbook splices the other file's plays in; a cycle, a missing file, a key it
    /// does not take and a templated name are load errors with their place.
    @Test func importedPlaybooksAreSplicedInAndCheckedAtLoad() throws {
        let other = "- hosts: web\n  vars: {a: play}\n  tasks:\n    - debug: msg=x\n"
        let book = try Self.load(
            "- hosts: all\n- import_playbook: sub/other.yml\n  vars: {a: import}\n  tags: [t]\n  when: x\n",
            files: ["/p/sub/other.yml": other])
        #expect(book.plays.map(\.hosts) == ["all", "web"])
        #expect(book.plays[1].vars.last.map { "\($0.0)=\($0.1.pythonString)" } == "a=import")
        #expect(book.plays[1].tags.contains("t"))
        if case .task(let task)? = book.plays[1].tasks.first { #expect(task.options.when == ["x"]) } else { Issue.record("no task") }
        #expect(Self.error("- import_playbook: site.yml\n").hasPrefix("/p/site.yml:1:20: import_playbook: 'site.yml' imports itself"))
        #expect(Self.error("- import_playbook: a.yml\n", files: ["/p/a.yml": "- import_playbook: site.yml\n"])
            .hasPrefix("/p/a.yml:1:20: import_playbook: 'site.yml' imports itself (through /p/site.yml -> /p/a.yml)"))
        #expect(Self.error("- import_playbook: nope.yml\n") == "/p/site.yml:1:20: import_playbook: could not find 'nope.yml' (looked beside /p/site.yml)")
        #expect(Self.error("- import_playbook: a.yml\n  become: true\n", files: ["/p/a.yml": "- hosts: all\n"])
            .hasPrefix("/p/site.yml:2:11: 'become' is not a valid attribute for a PlaybookInclude"))
        #expect(Self.error("- import_playbook: \"{{ x }}.yml\"\n").hasSuffix("a templated file name is not supported by cohort play yet"))
    }

    @Test func aGoodPlaybookLoadsWithItsStructure() throws {
        let book = try Self.load("""
            - name: web
              hosts: [web, db]
              vars: {port: 80}
              tasks:
                - name: conf
                  ansible.builtin.copy: {content: x, dest: /tmp/x}
                  notify: restart
                - command: ls -l chdir=/tmp
                - block:
                    - debug: msg=hi
                  rescue:
                    - fail: msg=no
                  when: port > 1
              handlers:
                - name: restart
                  debug: msg=restarted
            """)
        let play = try #require(book.plays.first)
        #expect(play.hosts == "web:db")
        #expect(play.vars.first?.0 == "port" && play.vars.first?.1 == .int(80))
        #expect(play.tasks.count == 3)
        guard case .task(let copy) = play.tasks[0], case .task(let command) = play.tasks[1], case .block(let block) = play.tasks[2] else {
            Issue.record("wrong shapes")
            return
        }
        #expect(copy.module == "copy" && copy.moduleAsWritten == "ansible.builtin.copy" && copy.notify == ["restart"])
        #expect(command.args["_raw_params"] == "ls -l" && command.args["chdir"] == "/tmp")
        #expect(block.options.when == ["port > 1"] && block.rescue.count == 1)
        #expect(copy.location == Location(file: "/p/site.yml", line: 5, column: 7))
    }

    @Test func eachProblemIsNamedWithItsPlace() throws {
        #expect(Self.error("- hosts: all\n  tasks:\n    - systemd: name=x\n") == "/p/site.yml:3:16: module 'systemd' is not supported by cohort play yet (supported modules: \(ModuleSpec.names.joined(separator: ", ")))")
        #expect(Self.error("- hosts: all\n  tasks:\n    - debug: msg=x\n      colour: red\n") == "/p/site.yml:4:15: 'colour' is neither a task keyword nor a supported module (supported modules: \(ModuleSpec.names.joined(separator: ", ")))")
        #expect(try Self.load("- hosts: all\n  strategy: free\n").plays[0].strategy == "free")
        #expect(Self.error("- hosts: all\n  strategy: debug\n")
            == "/p/site.yml:2:13: strategy must be one of: free, host_pinned, linear (others are not supported by cohort play yet)")
        // A module that bypasses the host loop stops Ansible's free strategy: refused at load.
        #expect(Self.error("- hosts: all\n  strategy: free\n  tasks:\n    - block:\n        - add_host: name=x\n")
            == "/p/site.yml:5:11: the 'add_host' module bypasses the host loop, which the free strategy does not support (ansible-playbook stops there too)")
        #expect(Self.error("- hosts: all\n  strategy: host_pinned\n  handlers:\n    - name: p\n      pause: seconds=1\n").contains("'pause' module bypasses"))
        var loader = PlaybookLoader(read: { _ in "- hosts: all\n" }, exists: { _ in true })
        loader.defaultStrategy = "free"
        #expect(try loader.load(path: "/p/site.yml").plays[0].strategy == "free")
        #expect(Self.error("- tasks: []\n") == "/p/site.yml:1:3: the field 'hosts' is required but was not set")
        #expect(Self.error("- hosts: all\n  tasks:\n    - copy: {dest: /x}\n") == "/p/site.yml:3:7: copy: one of the following is required: src, content")
        #expect(Self.error("- hosts: all\n  tasks:\n    - copy: {content: x, dest: /x, backup: [1]}\n")
            == "/p/site.yml:3:7: copy: argument 'backup' must be a boolean (yes/no, true/false), not [1]")
        #expect(Self.error("- hosts: all\n  tasks:\n    - file: {path: /x, state: gone}\n")
            == "/p/site.yml:3:7: file: value of state must be one of: file, directory, absent, touch, link, hard, got: gone")
        #expect(Self.error("- hosts: all\n  tasks:\n    - file: {path: /x, colour: red}\n").hasPrefix("/p/site.yml:3:7: Unsupported parameters for (file) module: colour."))
        #expect(Self.error("- hosts: all\n  tasks:\n    - user: {name: a, generate_ssh_key: true}\n") == "/p/site.yml:3:7: 'generate_ssh_key' of module user is not supported by cohort play yet")
        #expect(Self.error("- hosts: all\n  tasks:\n    - template: {src: nope.j2, dest: /x}\n")
            == "/p/site.yml:3:7: template: could not find 'nope.j2' (looked in templates/ beside the playbook, then beside it)")
        #expect(Self.error("- hosts: all\n  vars_files: [missing.yml]\n") == "/p/site.yml:2:16: vars file missing.yml was not found (looked for /p/missing.yml)")
        #expect(Self.error("- hosts: all\n  tasks:\n    - debug: msg=x\n      notify: ghost\n")
            == "/p/site.yml:3:7: the handler 'ghost' that this task notifies is not defined in the play's handlers")
        #expect(Self.error("- hosts: all\n  tasks:\n    - debug: msg=x\n      copy: {content: x, dest: /x}\n") == "/p/site.yml:4:13: conflicting action statements: debug, copy")
        #expect(Self.error("- hosts: all\n  tasks:\n    - file: path=/x oops\n") == "/p/site.yml:3:7: file takes key=value arguments; 'oops' is not one")
        #expect(Self.error("- hosts: all\n  tasks:\n    - meta: reboot\n").hasPrefix("/p/site.yml:3:7: meta: invalid meta action requested: reboot"))
        #expect(Self.error("- hosts: all\n  tasks: [ {debug: {msg: x}\n").hasPrefix("/p/site.yml:3:1: YAML:"))
        #expect(Self.error("hosts: all\n") == "/p/site.yml:1:1: a playbook must be a list of plays")
        #expect(Self.error("- hosts: all\n  tasks:\n    - name: x\n") == "/p/site.yml:3:7: no module/action detected in task")
    }

    @Test func templatesAndVarsFilesAreFoundBesideThePlaybook() throws {
        let book = try Self.load(
            "- hosts: all\n  vars_files: [vars/a.yml]\n  tasks:\n    - template: {src: t.j2, dest: /x}\n",
            files: ["/p/templates/t.j2": "x", "/p/vars/a.yml": "answer: 42\n"])
        #expect(book.plays[0].varsFiles.first?.first?.1 == .int(42))
        guard case .task(let task) = book.plays[0].tasks[0] else {
            Issue.record("the first item is not a task: \(book.plays[0].tasks[0])")
            return
        }
        #expect(task.args["_src_path"] == "/p/templates/t.j2")
    }

    /// Python filter or test plugins beside the playbook: a name only they could provide is
    /// refused at load, with where it is used and the folder named (it failed every host at run
    /// time); names the engine has, and playbooks without such folders, load as before.
    @Test func aFilterOnlyAPythonPluginHasIsRefusedAtLoad() throws {
        let plugin = ["/p/filter_plugins": "", "/p/filter_plugins/colors.py": "class FilterModule: ..."]
        let book = "- hosts: all\n  tasks:\n    - debug: msg={{ x | to_json }}\n    - debug:\n        msg: \"{{ x | paint('blue') }}\"\n"
        #expect(Self.error(book, files: plugin)
            == "/p/site.yml:5:14: filter 'paint' is not known to cohort play; the filter_plugins/ beside the playbook hold Python plugins, which cohort cannot run")
        let test = ["/p/test_plugins": ""]
        #expect(Self.error("- hosts: all\n  tasks:\n    - debug: msg=x\n      when: x is blue\n", files: test)
            == "/p/site.yml:4:13: test 'blue' is not known to cohort play; the test_plugins/ beside the playbook hold Python plugins, which cohort cannot run")
        #expect(Self.error("- hosts: all\n  tasks:\n    - assert:\n        that:\n          - x is defined\n          - y is version('1', '>')\n", files: test) == "loaded")
        #expect(Self.error("- hosts: all\n  tasks:\n    - debug: msg={{ x | to_nice_yaml | hash('sha1') }}\n", files: plugin) == "loaded")
        #expect(Self.error(book) == "loaded")
    }

    @Test func keyValueArgumentsAreReadAsAnsibleReadsThem() throws {
        let at = Location(file: "f", line: 1, column: 1)
        let pairs = try KeyValueArguments.parse(#"dest=/tmp/x content="a b\n" mode=0644"#, freeForm: false, known: [], at: at)
        #expect(pairs.map(\.0) == ["dest", "content", "mode"])
        #expect(pairs[1].1 == "a b\n")
        #expect(pairs[2].1 == "0644")
        let free = try KeyValueArguments.parse("echo {{ a }} x=1 chdir=/tmp", freeForm: true, known: ["chdir"], at: at)
        #expect(free.first { $0.0 == "_raw_params" }?.1 == "echo {{ a }} x=1")
        #expect(free.first { $0.0 == "chdir" }?.1 == "/tmp")
    }

    @Test func aHostileYAMLFileIsRefusedInBoundedTime() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 { text += "l\(level): &l\(level) [" + Array(repeating: level == 1 ? "*a" : "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        text += "- hosts: all\n"
        #expect(Self.error("- hosts: all\n  vars:\n" + text.split(separator: "\n").dropLast().map { "    " + $0 }.joined(separator: "\n") + "\n")
            .contains("more than 1000000 values"))
    }
}

/// The per-host cursor: block, rescue, always, and where failures go.
@Suite struct HostCursorTests {
    static func task(_ name: String) -> TaskItem {
        .task(PlayTask(name: name, module: "debug", moduleAsWritten: "debug", args: Dict(), options: TaskOptions(), location: Location(file: "f", line: 1, column: 1)))
    }

    static func block(_ body: [TaskItem], rescue: [TaskItem] = [], always: [TaskItem] = []) -> TaskItem {
        .block(Block(name: nil, block: body, rescue: rescue, always: always, options: TaskOptions(), location: Location(file: "f", line: 1, column: 1)))
    }

    /// Runs the list, failing the tasks named in `failing`; returns the names run.
    static func walk(_ items: [TaskItem], failing: Set<String>) -> ([String], HostCursor) {
        var cursor = HostCursor(TaskProgram(items))
        var ran: [String] = []
        while let next = cursor.next() {
            ran.append(next.task.name!)
            if failing.contains(next.task.name!) { cursor.fail() }
        }
        return (ran, cursor)
    }

    @Test func aFailureGoesToTheRescueThenAlways() {
        let items = [Self.block([Self.task("a"), Self.task("b")], rescue: [Self.task("r")], always: [Self.task("z")]), Self.task("after")]
        let (ran, cursor) = Self.walk(items, failing: ["a"])
        #expect(ran == ["a", "r", "z", "after"])
        #expect(!cursor.failed && cursor.rescued == 1)
    }

    @Test func aFailureInRescueRunsAlwaysAndFailsTheHost() {
        let items = [Self.block([Self.task("a")], rescue: [Self.task("r")], always: [Self.task("z")]), Self.task("after")]
        let (ran, cursor) = Self.walk(items, failing: ["a", "r"])
        #expect(ran == ["a", "r", "z"])
        #expect(cursor.failed)
    }

    @Test func anOuterRescueCatchesWhatAnInnerOneLetGo() {
        let inner = Self.block([Self.task("a")], rescue: [Self.task("r1")], always: [Self.task("z1")])
        let items = [Self.block([inner, Self.task("skipped")], rescue: [Self.task("r2")]), Self.task("after")]
        var cursor = HostCursor(TaskProgram(items))
        var ran: [String] = []
        var rescuedFlags: [Bool] = []
        while let next = cursor.next() {
            ran.append(next.task.name!)
            if ["a", "r1"].contains(next.task.name!) {
                rescuedFlags.append(cursor.failureWouldBeRescued)
                cursor.fail()
            }
        }
        #expect(ran == ["a", "r1", "z1", "r2", "after"])
        #expect(rescuedFlags == [true, true])
        #expect(!cursor.failed && cursor.rescued == 2)
    }

    @Test func withoutRescueAlwaysRunsAndTheHostFails() {
        let (ran, cursor) = Self.walk([Self.block([Self.task("a"), Self.task("b")], always: [Self.task("z")]), Self.task("after")], failing: ["a"])
        #expect(ran == ["a", "z"])
        #expect(cursor.failed)
    }

    @Test func tasksAreNumberedInProgramOrder() {
        let program = TaskProgram([Self.task("a"), Self.block([Self.task("b")], rescue: [Self.task("c")], always: [Self.task("d")]), Self.task("e")])
        var cursor = HostCursor(program)
        var numbers: [Int] = []
        while let next = cursor.next() { numbers.append(next.number.path[0]) }
        #expect(numbers == [0, 1, 3, 4])
        #expect(program.count == 5)
    }
}

/// `lineinfile`'s decisions on text, without a host.
@Suite struct LineInFileTests {
    static func apply(_ text: String, _ configure: (inout LineInFile.Arguments) -> Void) throws -> LineInFile.Outcome {
        var args = LineInFile.Arguments()
        configure(&args)
        return try LineInFile.apply(text, args)
    }

    @Test func theLastMatchIsReplacedAndAnAbsentLineIsAppended() throws {
        let replaced = try Self.apply("a=1\nb=2\na=3\n") { $0.regexp = "^a="; $0.line = "a=9" }
        #expect(replaced == LineInFile.Outcome(text: "a=1\nb=2\na=9\n", changed: true, message: "line replaced", found: nil))
        let added = try Self.apply("x\ny") { $0.line = "z" }
        #expect(added.text == "x\ny\nz\n" && added.message == "line added")
        let same = try Self.apply("x\nz\n") { $0.line = "z" }
        #expect(!same.changed)
    }

    @Test func insertBeforeAndAfterUseTheLastMatchUnlessFirstmatch() throws {
        let after = try Self.apply("[a]\n[b]\n[a]\n") { $0.line = "k=v"; $0.insertAfter = "^\\[a\\]" }
        #expect(after.text == "[a]\n[b]\n[a]\nk=v\n")
        let first = try Self.apply("[a]\n[b]\n[a]\n") { $0.line = "k=v"; $0.insertAfter = "^\\[a\\]"; $0.firstMatch = true }
        #expect(first.text == "[a]\nk=v\n[b]\n[a]\n")
        let before = try Self.apply("x\ny\n") { $0.line = "top"; $0.insertBefore = "BOF" }
        #expect(before.text == "top\nx\ny\n")
    }

    @Test func backrefsAndAbsent() throws {
        let back = try Self.apply("key = value\n") { $0.regexp = "^key = (\\w+)$"; $0.line = "key = \\1-x"; $0.backrefs = true }
        #expect(back.text == "key = value-x\n")
        let none = try Self.apply("other\n") { $0.regexp = "^key"; $0.line = "key=1"; $0.backrefs = true }
        #expect(!none.changed)
        let gone = try Self.apply("a\nb\na\n") { $0.line = "a"; $0.present = false }
        #expect(gone == LineInFile.Outcome(text: "b\n", changed: true, message: "2 line(s) removed", found: 2))
    }

    /// Roles: found in roles/ beside the playbook, compiled as a block per entry (dependencies
    /// first), a role listed twice with the same parameters once; a missing role, a loop of
    /// dependencies and a keyword Cohort lacks are errors at load with file:line:column.
    @Test func rolesCompileAndTheirErrorsSayWhere() throws {
        let files = [
            "/p/roles/a/tasks/main.yml": "- debug: msg=a\n", "/p/roles/a/tasks": "", "/p/roles/a/meta/main.yml": "dependencies: [b]\n",
            "/p/roles/a/meta": "", "/p/roles/b/tasks": "", "/p/roles/b/tasks/main.yml": "- name: bee\n  debug: msg=b\n",
            "/p/roles/b/defaults": "", "/p/roles/b/defaults/main.yml": "x: 1\n",
        ]
        let book = try PlaybookLoaderTests.load("- hosts: all\n  roles: [a, a, {role: b, y: 2}]\n  tasks:\n    - debug: msg=t\n", files: files)
        func titles(_ items: [TaskItem]) -> [String] {
            items.flatMap { item -> [String] in
                switch item {
                case .task(let task): [task.title]
                case .block(let block): titles(block.block)
                }
            }
        }
        #expect(titles(book.plays[0].tasks) == ["b : bee", "a : debug", "b : bee", "debug"])
        #expect(book.plays[0].roleDefaults.map { $0.0 } == ["x", "x"])
        #expect(PlaybookLoaderTests.error("- hosts: all\n  roles:\n    - nope\n", files: files).hasPrefix("/p/site.yml:3:7: the role 'nope' was not found (looked in: /p/roles/nope,"))
        #expect(PlaybookLoaderTests.error("- hosts: all\n  roles:\n    - role: a\n      become_flags: -E\n", files: files)
            == "/p/site.yml:4:21: 'become_flags' is not supported by cohort play yet")
        var loop = files
        loop["/p/roles/b/meta"] = ""
        loop["/p/roles/b/meta/main.yml"] = "dependencies:\n  - a\n"
        #expect(PlaybookLoaderTests.error("- hosts: all\n  roles: [a]\n", files: loop) == "/p/roles/b/meta/main.yml:2:5: role dependencies loop or nest too deep: /p/roles/a -> /p/roles/b -> /p/roles/a")
    }

    /// import_tasks is its file's tasks in a block with the import's keywords; include_tasks
    /// keeps its file read and checked at load; a missing file, an import of itself, a loop
    /// on an import and an error inside an included file are load errors naming the place.
    @Test func importsAndIncludesAreReadAtLoad() throws {
        let files = ["/p/t.yml": "- debug: msg=t\n", "/p/bad.yml": "- debug: msg=x\n  bogus: 1\n", "/p/self.yml": "- import_tasks: self.yml\n"]
        let book = try PlaybookLoaderTests.load("- hosts: all\n  tasks:\n    - import_tasks: t.yml\n      when: x\n    - include_tasks: t.yml\n", files: files)
        guard case .block(let block) = book.plays[0].tasks[0], case .task(let include) = book.plays[0].tasks[1] else {
            Issue.record("not a block then a task: \(book.plays[0].tasks)")
            return
        }
        #expect(block.options.when == ["x"] && block.block.count == 1)
        #expect(include.module == "include_tasks" && include.included?.count == 1)
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - import_tasks: nope.yml\n", files: files)
            == "/p/site.yml:3:7: could not find the tasks file 'nope.yml' (looked in: /p/nope.yml)")
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - include_tasks: bad.yml\n", files: files)
            .hasPrefix("/p/bad.yml:2:10: 'bogus' is neither a task keyword nor a supported module"))
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - import_tasks: self.yml\n", files: files)
            == "/p/self.yml:1:3: 'self.yml' imports itself: /p/self.yml -> /p/self.yml")
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - import_tasks: t.yml\n      loop: [1]\n", files: files)
            .hasPrefix("/p/site.yml:3:7: You cannot use loops on 'import_tasks' statements."))
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - include_tasks: \"{{ f }}.yml\"\n", files: files) == "loaded")
    }

    /// A keyword or module Ansible has and Cohort lacks is said to be unsupported (not
    /// invalid), every place in one run, the first as the error's location.
    @Test func everyUnsupportedPlaceIsReportedAtOnce() {
        let book = "- hosts: all\n  become_method: doas\n  tasks:\n    - systemd: name=nginx\n      timeout: 10\n    - community.general.ufw: rule=allow\n    - block:\n        - debug: msg=x\n      become_exe: bob\n"
        let expected = """
            /p/site.yml:2:18: become_method 'doas' is not supported by cohort play yet (supported: sudo, su)
            /p/site.yml:4:16: module 'systemd' is not supported by cohort play yet (supported modules: \(ModuleSpec.names.joined(separator: ", ")))
            /p/site.yml:5:16: 'timeout' is not supported by cohort play yet
            /p/site.yml:6:30: module 'community.general.ufw' is not supported by cohort play yet
            /p/site.yml:9:19: 'become_exe' is not supported by cohort play yet
            """
        #expect(PlaybookLoaderTests.error(book) == expected)
    }

    /// become, become_user and become_method are read on plays, blocks, role entries and
    /// tasks (templates kept for the run); a value that cannot be one is refused at load.
    @Test func becomeKeywordsAreReadAtEveryLevel() throws {
        let files = ["/p/roles/a/tasks": "", "/p/roles/a/tasks/main.yml": "- debug: msg=a\n"]
        let book = try PlaybookLoaderTests.load(
            "- hosts: all\n  become: true\n  roles:\n    - role: a\n      become_user: www\n  tasks:\n    - block:\n        - debug: msg=x\n          become: false\n      become_user: \"{{ who }}\"\n      become_method: sudo\n",
            files: files)
        let play = book.plays[0]
        #expect(play.become.become == .bool(true) && play.become.user == nil)
        guard case .block(let role) = play.tasks[0], case .block(let block) = play.tasks[1], case .task(let task) = block.block[0] else {
            Issue.record("not a role block, then a block with a task: \(play.tasks)")
            return
        }
        #expect(role.options.become.user == .string("www"))
        #expect(block.options.become.user == .string("{{ who }}") && block.options.become.method == .string("sudo"))
        #expect(task.options.become.become == .bool(false))
        #expect(PlaybookLoaderTests.error("- hosts: all\n  tasks:\n    - debug: msg=x\n      become: maybe\n")
            == "/p/site.yml:4:15: become must be a boolean, not 'maybe'")
        #expect(PlaybookLoaderTests.error("- hosts: all\n  become_user: [a]\n  tasks: []\n") == "/p/site.yml:2:16: become_user must be a user name")
    }
}
