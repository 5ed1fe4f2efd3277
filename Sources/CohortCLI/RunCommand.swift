import ArgumentParser
import Cohort
import CohortCore
import CohortInventory
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command on every matching host at once and stream its output.",
        discussion: """
            cohort run -i INVENTORY [OPTIONS] PATTERN [OPTIONS] -- COMMAND [ARGS...]
            Options go anywhere before --. One word after -- is a command line for the remote \
            shell (as with ssh host 'cmd'); several words are quoted so that the remote runs \
            exactly that argv. Without --, the words after the pattern are the command, and none \
            of them may start with '-'.
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions

    @Flag(help: "Print JSON lines (host, stream, data, exit status, timing) instead of tagged text.")
    var json = false

    @Flag(help: "Print each distinct output once, with the hosts that produced it (like clush -b).")
    var gather = false

    @Argument(help: "Host pattern: all, group, glob, a:b, a:&b, a:!b, ~regex.")
    var pattern: String

    @Argument(help: "-- COMMAND [ARGS...] (without --, no word of it may start with '-').")
    var bareCommand: [String] = []

    func validate() throws {
        if json && gather { throw ValidationError("--json and --gather cannot be combined") }
        if let command = CommandLineSplit.runCommand, !bareCommand.isEmpty {
            throw ValidationError(
                "the command is '\(bareCommand.joined(separator: " "))' or '\(command.joined(separator: " "))', not both: put it all after --")
        }
        if commandWords.isEmpty { throw ValidationError("no command given: cohort run PATTERN -- COMMAND") }
    }

    private var commandWords: [String] { CommandLineSplit.runCommand ?? bareCommand }

    func run() async throws {
        verbosity.bootstrap()
        let (inventory, _) = try inventoryOptions.load()
        let options = connection.options
        // Everything is resolved before anything runs: one bad host variable stops the run.
        let fleet = try inventoryOptions.hosts(matching: pattern, in: inventory, options: options)
        let names = fleet.map(\.name)
        let hosts = fleet.map(\.connection)
        if hosts.isEmpty {
            Out.write(Array("cohort: no hosts matched\n".utf8), toStderr: true)
            return
        }
        let printer: any RunPrinter
        if json {
            printer = JSONPrinter()
        } else if gather {
            printer = GatherPrinter()
        } else {
            printer = TaggedPrinter(hosts: names)
        }
        let run = AdHocRun(command: ShellQuote.commandLine(commandWords), options: options)
        let outcomes = await run.run(on: hosts, onEvent: printer.event, onDone: printer.done)
        let summary = RunSummary(outcomes)
        printer.finish(summary)
        try Out.check()
        if summary.exitCode != .ok { throw ExitCode(summary.exitCode.rawValue) }
    }
}
