import Cohort
import CohortCore
import CohortInventory
import CohortScheduler
import Foundation

/// Shows a map's results: each task's output whole when it ends (never interleaved with
/// another's), in input order with --keep-order, tagged, as JSON lines, or into a joblog; and
/// the progress bar and losses on stderr.
final class MapPrinter: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock` (results come from the engine's actor,
    // events from connection tasks).
    private let lock = NSLock()
    private let inputs: MapInputs
    private let render: @Sendable (Int, Int?) -> String
    private let keepOrder: Bool
    /// The text before each output line (`--tag`, `--tagstring`), for a task and its slot.
    private let tag: (@Sendable (Int, Int?) -> String)?
    private let results: ResultFolders?
    /// Told once when `--results` cannot be written (the map then stops, as for output).
    private let onResultsFailure: @Sendable (String) -> Void
    private var resultsFailed = false
    private let json: Bool
    private let joblog: OutputSink?
    private var held: [Int: MapResult] = [:]
    private var nextInOrder = 0
    private let progress: ProgressBar?
    private var reportedLosses: Set<String> = []
    private var readyHosts: [String: Int] = [:]

    init(
        inputs: MapInputs, render: @escaping @Sendable (Int, Int?) -> String, keepOrder: Bool, tag: (@Sendable (Int, Int?) -> String)?,
        json: Bool, joblog: OutputSink?, results: ResultFolders? = nil, onResultsFailure: @escaping @Sendable (String) -> Void = { _ in },
        bar: Bool, total: Int
    ) {
        self.results = results
        self.onResultsFailure = onResultsFailure
        self.inputs = inputs
        self.render = render
        self.keepOrder = keepOrder
        self.tag = tag
        self.json = json
        self.joblog = joblog
        progress = bar ? ProgressBar(total: total) : nil
    }

    func result(_ result: MapResult) {
        lock.lock()
        defer { lock.unlock() }
        if let joblog, result.status != .halted {
            joblog.write(Array(JobLog.line(result, sequence: result.index + 1, command: render(result.index, result.slot)).utf8))
        }
        if let results, !resultsFailed, result.status != .halted {
            do {
                try results.write(values: inputs[result.index], sequence: result.index + 1, stdout: result.stdout.bytes, stderr: result.stderr.bytes)
            } catch {
                resultsFailed = true
                note(error.shown)
                onResultsFailure(error.shown)
            }
        }
        progress?.ended(result.status)
        guard keepOrder else { return show(result) }
        // A task halted before it ever started is a bit until its turn, not a held result: a
        // halt ends every task not yet started at once, and there may be 10^8 of them.
        if result.isHaltedBeforeStart {
            haltedUnstarted.insert(result.index)
        } else {
            held[result.index] = result
        }
        // Tasks skipped by --resume or a journal never come back: the order moves past them.
        while nextInOrder < inputs.count {
            if let ready = held.removeValue(forKey: nextInOrder) {
                show(ready)
            } else if haltedUnstarted.contains(nextInOrder) {
                show(.haltedBeforeStart(nextInOrder))
            } else if !skipped.contains(nextInOrder) {
                break
            }
            nextInOrder += 1
        }
    }

    /// Losses through a bastion, said once per cause at the end.
    private var bastionNotes = BastionNotes()

    /// Indices that will not come back (set before the run starts).
    var skipped = TaskBitmap()
    /// Tasks halted before they started, waiting for their turn under --keep-order.
    private var haltedUnstarted = TaskBitmap()

    func event(_ event: MapEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .hostReady(let host, let slots, _):
            readyHosts[host] = slots
            progress?.slotsChanged(by: slots, hosts: readyHosts.count)
        case .hostFailed(let host, let error):
            let text = notRun(error, host: host)
            if !bastionNotes.hold(host, text) { note("\(Printable.escaped(host)): \(text)") }
        case .slotLost(let host, _, let reason):
            slotGone(host)
            // One line per host and reason: a frozen 64-core host is one loss, not 64 lines;
            // and one per bastion: the hosts behind it are one loss too, said at the end.
            let cause = reason.hasPrefix(host + ": ") ? String(reason.dropFirst(host.count + 2)) : reason
            if reportedLosses.insert("\(host)\u{0}\(reason)").inserted,
                !bastionNotes.hold(host, "LOST: \(Printable.escaped(cause)); their tasks went to other hosts")
            {
                note("\(Printable.escaped(host)): LOST: \(Printable.escaped(reason)); its tasks go to other hosts")
            }
        case .workerDied(let host, _, let task, let reason):
            slotGone(host)
            let input = Printable.escaped(inputs[task].joined(separator: " "))
            note("\(Printable.escaped(host)): a worker died running task \(task + 1) (\(input)): \(Printable.escaped(reason)); the host keeps its other workers")
        case .halting(let reason, let now):
            note("\(reason): \(now ? "cancelling running tasks" : "waiting for running tasks"), starting no new one")
        case .journalFailed(let error):
            note("journal: \(error.shown) (a resumed run may repeat tasks)")
        }
    }

    private func slotGone(_ host: String) {
        if let slots = readyHosts[host] {
            readyHosts[host] = slots - 1 > 0 ? slots - 1 : nil
            progress?.slotsChanged(by: -1, hosts: readyHosts.count)
        }
    }

    func finish(_ summary: MapSummary) {
        lock.lock()
        defer { lock.unlock() }
        // Whatever --keep-order still holds (tasks after a gap that never filled) goes out.
        for index in held.keys.sorted() { show(held[index]!) }
        held = [:]
        progress?.clear()
        for line in bastionNotes.lines { Out.write(Array("cohort: \(line)\n".utf8), toStderr: true) }
        var parts = ["\(summary.succeeded) ok", "\(summary.failed) failed", "\(summary.timedOut) timed out", "\(summary.lost) lost"]
        if summary.halted > 0 { parts.append("\(summary.halted) halted") }
        if summary.skipped > 0 { parts.append("\(summary.skipped) skipped (done before)") }
        let hosts = "\(readyHosts.count) hosts, \(readyHosts.values.reduce(0, +)) workers at the end"
        let failures = summary.hostFailures.isEmpty ? "" : ", \(summary.hostFailures.count) unreachable (\(Printable.escaped(NodeSet.fold(summary.hostFailures.map(\.0)))))"
        Out.write(Array("cohort: \(inputs.count) tasks: \(parts.joined(separator: ", ")); \(hosts)\(failures)\n".utf8), toStderr: true)
    }

    private func note(_ text: String) {
        progress?.clear()
        Out.write(Array("cohort: \(text)\n".utf8), toStderr: true)
        progress?.draw(force: true)
    }

    private func show(_ result: MapResult) {
        progress?.clear()
        defer { progress?.draw(force: false) }
        if json { return Out.jsonLine(jsonFields(result)) }
        let prefix = tag.map { Array(($0(result.index, result.slot) + "\t").utf8) } ?? []
        for (output, toStderr) in [(result.stdout, false), (result.stderr, true)] {
            var atLineStart = true
            output.forEachChunk { chunk in
                guard !prefix.isEmpty else { return Out.write(chunk, toStderr: toStderr) }
                var tagged: [UInt8] = []
                tagged.reserveCapacity(chunk.count + prefix.count)
                for byte in chunk {
                    if atLineStart { tagged += prefix }
                    tagged.append(byte)
                    atLineStart = byte == UInt8(ascii: "\n")
                }
                Out.write(tagged, toStderr: toStderr)
            }
        }
        if let problem = Self.describe(result.status) {
            let input = Printable.escaped(inputs[result.index].joined(separator: " "))
            let place = result.host.map { " on \(Printable.escaped($0))" } ?? ""
            Out.write(Array("cohort: task \(result.index + 1) (\(input)): \(problem)\(place)\n".utf8), toStderr: true)
        }
    }

    /// A line for endings that leave no exit code of their own to explain them.
    static func describe(_ status: MapStatus) -> String? {
        switch status {
        case .exited, .halted: nil
        case .signaled(let number): "killed by signal \(number)"
        case .timedOut: "TIMED OUT"
        case .failedToStart(let why): "could not start: \(why)"
        case .failed(let why): "failed: \(why)"
        case .lost(let why): "LOST: \(why)"
        }
    }

    private func jsonFields(_ result: MapResult) -> [(String, InventoryValue)] {
        var fields: [(String, InventoryValue)] = [
            ("task", .int(result.index + 1)), ("input", .list(inputs[result.index].map(InventoryValue.string))),
            ("host", result.host.map(InventoryValue.string) ?? .null), ("slot", result.slot.map(InventoryValue.int) ?? .null),
        ]
        let (status, exit, signal): (String, Int?, Int?) =
            switch result.status {
            case .exited(let code): (code == 0 ? "ok" : "failed", Int(code), nil)
            case .signaled(let number): ("failed", nil, Int(number))
            case .timedOut: ("timed_out", nil, nil)
            case .failedToStart: ("failed_to_start", nil, nil)
            case .failed: ("failed", nil, nil)
            case .lost: ("lost", nil, nil)
            case .halted: ("halted", nil, nil)
            }
        fields += [
            ("status", .string(status)), ("exit", exit.map(InventoryValue.int) ?? .null), ("signal", signal.map(InventoryValue.int) ?? .null),
            ("duration", .double((result.duration.seconds * 1000).rounded() / 1000)), ("attempts", .int(result.attempts)),
        ]
        if case .failedToStart(let why) = result.status { fields.append(("error", .string(why))) }
        if case .failed(let why) = result.status { fields.append(("error", .string(why))) }
        if case .lost(let why) = result.status { fields.append(("error", .string(why))) }
        return fields + [jsonBytes("stdout", result.stdout.bytes), jsonBytes("stderr", result.stderr.bytes)]
    }
}
