import ArgumentParser
import Cohort
import CohortCore
import Foundation

/// `cohort cache`: what `cohort map` and library programs left in each host's worker cache.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List, or prune, the cached workers (~/.cache/cohort) on every matching host.",
        discussion: """
            Lists each cached copy (hash, program, size, last use), most recent first. --prune \
            removes all but the most recently used copy of each program; --prune --all removes \
            every copy (the next map uploads its worker again). Uploads already keep only the \
            newest older copy of their own program.
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions

    @Flag(help: "Remove all but the most recently used copy of each program.")
    var prune = false

    @Flag(help: "With --prune: remove every copy.")
    var all = false

    @Argument(help: "Host pattern: all, group, glob, a:b, a:&b, a:!b, ~regex.")
    var pattern: String

    func validate() throws {
        if all && !prune { throw ValidationError("--all goes with --prune") }
    }

    func run() async throws {
        verbosity.bootstrap()
        let (inventory, _) = try inventoryOptions.load()
        let options = connection.options
        let fleet = try inventoryOptions.hosts(matching: pattern, in: inventory, options: options)
        if fleet.isEmpty {
            Out.write(Array("cohort: no hosts matched\n".utf8), toStderr: true)
            return
        }
        let printer = TaggedPrinter(hosts: fleet.map(\.name))
        let script = prune ? WorkerCache.pruneScript(all: all) : WorkerCache.listScript
        let outcomes = await AdHocRun(command: script, options: options).run(on: fleet.map(\.connection), onEvent: printer.event, onDone: printer.done)
        let summary = RunSummary(outcomes)
        printer.finish(summary)
        try Out.check()
        if summary.exitCode != .ok { throw ExitCode(summary.exitCode.rawValue) }
    }
}
