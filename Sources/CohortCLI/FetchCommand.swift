import ArgumentParser
import Cohort
import CohortCore
import Foundation

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Bring files (directories with -r) from every matching host into LOCALDIR/HOST/<remote path>.",
        discussion: """
            cohort fetch -i INVENTORY PATTERN REMOTE... LOCALDIR
            Ansible fetch's layout. Each file is written atomically; a file already the same here \
            is not sent. Nothing a host sends can write outside LOCALDIR/HOST.
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var transfer: TransferFlags

    @Argument(help: "Host pattern.")
    var pattern: String

    @Argument(help: "REMOTE... LOCALDIR")
    var paths: [String] = []

    func validate() throws {
        if paths.count < 2 { throw ValidationError("give at least one remote path and a local folder: cohort fetch PATTERN REMOTE... LOCALDIR") }
    }

    func run() async throws {
        verbosity.bootstrap()
        let (inventory, _) = try inventoryOptions.load()
        let connectionOptions = connection.options
        let hosts = try inventoryOptions.hosts(matching: pattern, in: inventory, options: connectionOptions)
        var options = FileFetch.Options()
        options.recursive = transfer.recursive
        options.followLinks = transfer.followLinks
        options.connectRate = connectionOptions.connectRate
        let fetch = try FileFetch(
            hosts: hosts, remotes: Array(paths.dropLast()), localDirectory: paths.last!, options: options, worker: try WorkerBinary.locate())
        let printer = FilePrinter(json: transfer.json, verb: "fetched")
        PartialFiles.removeOnSignals(what: "fetch")
        // On a terminal, unless --json: the progress line copy draws, its total growing as the
        // hosts' listings arrive.
        let meter = !transfer.json && isatty(2) == 1 ? TransferMeter(total: 0, hosts: hosts.count, direction: "from") : nil
        let reports = await fetch.run(onFile: { report in
            if report.failure != nil { meter?.clear() }
            printer.file(report)
        }, onProgress: { meter?.advance($1, expected: $0) })
        meter?.clear()
        let code = printer.finish(reports)
        try Out.check()
        if code != .ok { throw ExitCode(code.rawValue) }
    }
}
