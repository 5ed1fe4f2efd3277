import ArgumentParser
import Cohort
import CohortCore
import CohortInventory
import CohortScheduler
import Foundation

struct MapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Run a command once per input over every core of the fleet (GNU parallel's syntax).",
        discussion: """
            cohort map -i INVENTORY [OPTIONS] COMMAND ::: a b c :::: FILE   (:::+ ::::+ link a source to the one before)
            Options come before the command. With no ::: or ::::, inputs are the lines of stdin. \
            Replacement strings: {} {.} {/} {//} {/.} {#} {%} {1} {2} ...; values are shell-quoted.
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions

    @Option(
        name: [.long, .customShort("j"), .customLong("jobs")], parsing: .unconditional,
        help: "Worker processes per host: N, or +N, -N, N% of its cores (default: its cores, or its cohort_slots variable).")
    var slots: String?

    @Option(parsing: .unconditional, help: "Worker channels per SSH connection (sshd's MaxSessions, 10 by default); more slots open more connections.")
    var sessionsPerConnection = 10

    @Option(parsing: .unconditional, help: "Times a task is re-run after its worker or host died while running it.")
    var retries = 2

    @Option(parsing: .unconditional, help: "Seconds a task may run: then TERM to its process group, 2 s, KILL; it is TIMED OUT.")
    var timeout: Double?

    @Flag(name: [.customShort("k"), .long], help: "Print results in input order, not as they finish.")
    var keepOrder = false

    @Flag(help: "Prefix each output line with the task's input and a tab.")
    var tag = false

    @Option(help: "Prefix each output line with this text and a tab; replacement strings as in the command, unquoted.")
    var tagstring: String?

    @Option(name: [.customShort("a"), .customLong("arg-file")], help: "An input source read from FILE, one value per line (before any ::: source).")
    var argFiles: [String] = []

    @Flag(name: [.long, .customLong("xapply")], help: "Link the input sources: the n-th values together, shorter sources wrapping around.")
    var link = false

    @Option(name: .customShort("N"), parsing: .unconditional, help: "Values per task, from the one input source ({1} {2}...).")
    var valuesPerTask: Int?

    @Option(name: [.customShort("C"), .long], help: "Split each input value into columns {1} {2}... at this regular expression.")
    var colsep: String?

    @Option(help: "Run each command in this directory on its host (cd DIR first; relative to the remote home).")
    var wd: String?

    @Option(help: "Write each task's stdout, stderr and seq under DIR/1/<value>/..., as GNU parallel does.")
    var results: String?

    @Flag(help: "Print one JSON line per task (task, input, host, slot, exit, signal, duration, stdout, stderr).")
    var json = false

    @Option(help: "Append one line per finished task to FILE, in GNU parallel's joblog format.")
    var joblog: String?

    @Flag(help: "Skip the tasks the --joblog file lists.")
    var resume = false

    @Flag(help: "Skip the tasks the --joblog file lists as succeeded; run the others again.")
    var resumeFailed = false

    @Option(help: "Journal FILE: record finished tasks; a rerun with the same command and inputs skips them.")
    var journal: String?

    @Option(help: "Stop after failures: now|soon,fail=N or fail=N% (now cancels running tasks).")
    var halt: String?

    @Flag(help: "Print the commands that would run, and run nothing.")
    var dryRun = false

    @Flag(help: "Show a progress bar with ETA on stderr (when it is a terminal).")
    var bar = false

    @Argument(parsing: .captureForPassthrough, help: "COMMAND ::: INPUTS (or :::: FILES, or stdin lines).")
    var words: [String] = []

    func validate() throws {
        // Options come before the command (as in GNU parallel): a first word that looks like
        // one is an option that none of the above matched, or a request for help.
        if let first = words.first, first != "--", first.hasPrefix("-") {
            if first == "-h" || first == "--help" { throw CleanExit.helpRequest(self) }
            throw ValidationError("unknown option '\(Printable.escaped(first))' (options go before the command; put -- before a command that starts with '-')")
        }
        if json && (tag || tagstring != nil) { throw ValidationError("--json and --tag/--tagstring cannot be combined") }
        if tag && tagstring != nil { throw ValidationError("--tag and --tagstring cannot be combined") }
        if let valuesPerTask, valuesPerTask < 1 { throw ValidationError("-N must be at least 1") }
        if wd == "..." { throw ValidationError("--wd ... (a temporary folder per task) is not supported; give a folder") }
        if let wd, wd.isEmpty { throw ValidationError("--wd is empty") }
        if (resume || resumeFailed) && joblog == nil { throw ValidationError("--resume and --resume-failed read the --joblog file: give --joblog FILE") }
        if let slots, SlotCount(parsing: slots) == nil {
            throw ValidationError("--slots (-j) takes N (at least 1), +N, -N or N% of a host's cores, not '\(Printable.escaped(slots))'")
        }
        if sessionsPerConnection < 1 { throw ValidationError("--sessions-per-connection must be at least 1") }
        if retries < 0 { throw ValidationError("--retries cannot be negative") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        if let joblog { try Self.checkWritable(joblog, what: "--joblog") }
        if let journal { try Self.checkWritable(journal, what: "--journal") }
        if let halt, HaltPolicy(halt) == nil {
            throw ValidationError("--halt takes now|soon,fail=N or now|soon,fail=N%, not '\(Printable.escaped(halt))'")
        }
    }

    func run() async throws {
        verbosity.bootstrap()
        var syntax = try ParallelSyntax(
            arguments: (words.first == "--" ? Array(words.dropFirst()) : words) + CommandLineSplit.mapSources, files: argFiles, linkAll: link)
        syntax.perTask = valuesPerTask ?? 1
        syntax.columnSeparator = colsep
        let inputs = try syntax.inputs(stdin: { try ParallelSyntax.lines(readingAll: 0, name: "standard input") })
        let template = CommandTemplate(syntax.command)
        let render: @Sendable (Int, Int) -> String = { index, slot in template.render(inputs: inputs[index], sequence: index + 1, slot: slot) }
        // --wd: the command as shown stays the user's; the host runs it after a cd.
        let directory = wd.map { "cd \(Self.remoteFolder($0)) && " } ?? ""
        let execute: @Sendable (Int, Int) -> String = { directory + render($0, $1) }
        let tagText: (@Sendable (Int, Int?) -> String)?
        if let tagstring {
            let tagTemplate = CommandTemplate([tagstring], quotes: false, appendsInputs: false)
            tagText = { index, slot in tagTemplate.render(inputs: inputs[index], sequence: index + 1, slot: slot ?? 1) }
        } else if tag {
            tagText = { index, _ in inputs[index].joined(separator: " ") }
        } else {
            tagText = nil
        }
        if dryRun {
            for index in inputs.indices { Out.write(Array((render(index, 1) + "\n").utf8)) }
            try Out.check()
            return
        }
        var options = MapOptions()
        options.slotCount = slots.flatMap(SlotCount.init(parsing:))
        options.sessionsPerConnection = sessionsPerConnection
        options.retries = retries
        options.timeout = timeout.map { .milliseconds(Int64($0 * 1000)) }
        options.halt = halt.flatMap(HaltPolicy.init)
        if let joblog, resume || resumeFailed {
            let done = try JobLog.done(readingFile: joblog, taskCount: inputs.count)
            options.skip = resume ? done.listed : done.succeeded
        }
        if let results {
            // Made before any host is contacted: a folder that cannot be is bad input, exit 4.
            do { try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true) } catch {
                throw CohortError(.invalidInput, "--results: cannot make the folder: \(error.localizedDescription)", file: results)
            }
        }
        if let journal {
            options.journal = try Journal(
                path: journal, fingerprint: Journal.fingerprint(command: syntax.command.joined(separator: " "), inputs: inputs), taskCount: inputs.count)
        }
        let (inventory, _) = try inventoryOptions.load()
        let connectionOptions = connection.options
        let hosts = try inventoryOptions.hosts(matching: "all", in: inventory, options: connectionOptions).map { ($0.connection, $0.slots) }
        let worker = try WorkerBinary.locate()
        var joblogSink: OutputSink?
        if let joblog {
            joblogSink = try Self.openJoblog(joblog, append: resume || resumeFailed)
        }
        defer { if let joblogSink { close(joblogSink.fd) } }
        // Output that cannot be written stops the map as --halt now would: no result is lost
        // silently, and the journal stays consistent with what was shown.
        let stop = MapStop()
        options.stop = stop
        for sink in [Out.stdout] + (joblogSink.map { [$0] } ?? []) {
            sink.onFailure { stop.request($0) }
        }
        let printer = MapPrinter(
            inputs: inputs, render: { render($0, $1 ?? 1) }, keepOrder: keepOrder, tag: tagText, json: json, joblog: joblogSink,
            results: results.map(ResultFolders.init), onResultsFailure: { stop.request($0) }, bar: bar && isatty(2) == 1, total: inputs.count)
        printer.skipped = options.alreadyDone
        let map = TaskMap(hosts: hosts, connectionOptions: connectionOptions, options: options, worker: worker)
        let summary = await map.run(count: inputs.count, command: execute, onResult: printer.result, onEvent: printer.event)
        printer.finish(summary)
        try Out.check(joblogSink.map { [$0] } ?? [])
        if summary.exitCode != .ok { throw ExitCode(summary.exitCode.rawValue) }
    }

    /// A remote folder as a shell word: `~` and `~/…` keep meaning the remote home.
    static func remoteFolder(_ path: String) -> String {
        if path == "~" { return "~" }
        if path.hasPrefix("~/") { return "~/" + ShellQuote.quote(String(path.dropFirst(2))) }
        return ShellQuote.quote(path)
    }

    /// A file Cohort will write must be creatable before anything runs: bad input, exit 4.
    static func checkWritable(_ path: String, what: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw CohortError(.invalidInput, "\(what) names a directory, not a file", file: path) }
            guard access(path, W_OK) == 0 else { throw CohortError(.invalidInput, "\(what) file is not writable", file: path) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CohortError(.invalidInput, "\(what): directory \(folder) does not exist", file: path)
        }
        guard access(folder, W_OK) == 0 else { throw CohortError(.invalidInput, "\(what): directory \(folder) is not writable", file: path) }
    }

    static func openJoblog(_ path: String, append: Bool) throws -> OutputSink {
        let fresh = !append || !FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else {
            throw CohortError(.invalidInput, "cannot write the joblog: \(String(cString: strerror(errno)))", file: path)
        }
        let sink = OutputSink(fd: fd, name: "the joblog \(path)")
        if fresh { sink.write(Array(JobLog.header.utf8)) }
        if let failure = sink.failure {
            close(fd)
            throw CohortError(.invalidInput, failure, file: path)
        }
        return sink
    }
}
