import ArgumentParser
import Cohort
import CohortCore
import CohortInventory
import CohortWire
import Foundation

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy local files (directories with -r) to every matching host at once.",
        discussion: """
            cohort copy -i INVENTORY PATTERN SRC... DEST
            Each file lands atomically (a reader never sees half a file; a failed copy leaves the \
            old one); a file whose SHA-256 on the host already matches is not sent.
            With -r a directory lands by its own name, the same on every host and every run \
            (rsync's and Ansible copy's rule): DIR becomes DEST/DIR, DIR/ copies what DIR holds \
            into DEST; DEST is made if missing. A file lands inside DEST when DEST is a \
            directory on the host, when several sources are given, or when DEST ends in /; \
            otherwise it becomes DEST.
            """)

    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var verbosity: VerbosityOptions
    @OptionGroup var transfer: TransferFlags

    @Option(help: "Mode for every file, in octal (default: each file's own).")
    var mode: String?

    @Option(help: "Owner on the hosts (a name or a number).")
    var owner: String?

    @Option(help: "Group on the hosts (a name or a number).")
    var group: String?

    @Argument(help: "Host pattern.")
    var pattern: String

    @Argument(help: "SRC... DEST")
    var paths: [String] = []

    func validate() throws {
        if paths.count < 2 { throw ValidationError("give at least one source and a destination: cohort copy PATTERN SRC... DEST") }
        if let mode, UInt32(mode, radix: 8).map({ $0 <= 0o7777 }) != true { throw ValidationError("--mode takes an octal mode such as 0644, not '\(Printable.escaped(mode))'") }
    }

    func run() async throws {
        verbosity.bootstrap()
        let (inventory, _) = try inventoryOptions.load()
        let connectionOptions = connection.options
        let hosts = try inventoryOptions.hosts(matching: pattern, in: inventory, options: connectionOptions)
        var options = FileCopy.Options()
        options.recursive = transfer.recursive
        options.followLinks = transfer.followLinks
        options.mode = mode.flatMap { UInt32($0, radix: 8) }
        options.owner = owner ?? ""
        options.group = group ?? ""
        options.connectRate = connectionOptions.connectRate
        let copy = try FileCopy(
            hosts: hosts, sources: Array(paths.dropLast()), destination: paths.last!, options: options, worker: try WorkerBinary.locate())
        let printer = FilePrinter(json: transfer.json, verb: "copied")
        // On a terminal, unless --json: a progress line on stderr, as scp draws one.
        let meter = !transfer.json && isatty(2) == 1 ? TransferMeter(total: copy.totalBytes * UInt64(hosts.count), hosts: hosts.count) : nil
        let reports = await copy.run(onFile: { report in
            if report.failure != nil { meter?.clear() }  // a failure's line, then the meter again
            printer.file(report)
        }, onProgress: { meter?.advance($0) })
        meter?.clear()
        let code = printer.finish(reports)
        try Out.check()
        if code != .ok { throw ExitCode(code.rawValue) }
    }
}

/// The flags `copy` and `fetch` share.
struct TransferFlags: ParsableArguments {
    @Flag(name: .short, help: "Directories with what they hold.")
    var recursive = false

    @Flag(name: .customShort("L"), help: "What symlinks point to, not the links.")
    var followLinks = false

    @Flag(help: "Print one JSON line per file and per host.")
    var json = false
}

/// `copy` and `fetch` results: failures as they happen, one line per host, a summary.
final class FilePrinter: Sendable {
    let json: Bool
    let verb: String

    init(json: Bool, verb: String) {
        self.json = json
        self.verb = verb
    }

    func file(_ report: FileCopy.FileReport) {
        if json {
            var fields: [(String, InventoryValue)] = [("host", .string(report.host)), ("path", .string(Printable.nameBytesEscaped(report.path)))]
            fields.append(("status", .string(report.outcome?.rawValue ?? "failed")))
            fields.append(("bytes", .int(Int(report.bytesSent))))
            if let failure = report.failure { fields.append(("error", .string(failure))) }
            Out.jsonLine(fields)
        } else if let failure = report.failure {
            Out.write(Array("\(Printable.escaped(report.host)) ! FAILED \(Printable.escaped(report.path)): \(Printable.escaped(failure))\n".utf8), toStderr: true)
        }
    }

    func finish(_ reports: [FileCopy.HostReport]) -> CohortExitCode {
        var summary = RunSummary()
        for report in reports {
            let host = Printable.escaped(report.host)
            let status: String
            if let error = report.error {
                status = error.isSecurityRefusal ? "refused" : "unreachable"
                if error.isSecurityRefusal { summary.refused.append(report.host) } else { summary.unreachable.append(report.host) }
                if !json { Out.write(Array("\(host) ! \(notRun(error, host: report.host))\n".utf8), toStderr: true) }
            } else if !report.failed.isEmpty {
                status = "failed"
                summary.failed.append(report.host)
            } else {
                status = report.changed > 0 ? "changed" : "unchanged"
                summary.ok.append(report.host)
            }
            if json {
                var fields: [(String, InventoryValue)] = [
                    ("host", .string(report.host)), ("status", .string(status)), ("changed", .int(report.changed)),
                    ("unchanged", .int(report.unchanged)), ("failed", .int(report.failed.count)), ("bytes", .int(Int(report.bytesSent))),
                ]
                if let error = report.error { fields += [("error", .string(error.message)), ("code", .string(error.code.rawValue))] }
                Out.jsonLine(fields)
            } else if report.error == nil {
                let line = "\(host) | \(status): \(report.changed) changed, \(report.unchanged) unchanged, \(report.failed.count) failed, \(Self.size(report.bytesSent)) \(verb)\n"
                Out.write(Array(line.utf8))
            }
        }
        Out.write(Array("cohort: \(summaryLine(summary))\n".utf8), toStderr: true)
        return summary.exitCode
    }

    static func size(_ bytes: UInt64) -> String {
        if bytes < 1 << 10 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }
}
