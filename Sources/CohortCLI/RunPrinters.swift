import Cohort
import CohortCore
import CohortInventory
import CohortSSH
import Foundation

/// How `cohort run` shows results. Called from many tasks at once; implementations lock.
protocol RunPrinter: Sendable {
    func event(_ host: String, _ event: ProcessEvent)
    func done(_ outcome: HostOutcome)
    func finish(_ summary: RunSummary)
}

/// A JSON field for output bytes: `name` as text when they are UTF-8, else `name_base64`, so
/// that no byte is ever altered.
func jsonBytes(_ name: String, _ bytes: [UInt8]) -> (String, InventoryValue) {
    if let text = String(validating: bytes, as: UTF8.self) { return (name, .string(text)) }
    return (name + "_base64", .string(Data(bytes).base64EncodedString()))
}

func describe(_ outcome: HostOutcome) -> String? {
    switch outcome.result {
    case .finished(let status) where status.isSuccess: return nil
    case .finished(.exited(let code)): return "FAILED (exit \(code))"
    case .finished(.signaled(let name, _)): return "FAILED (killed by signal \(name))"
    case .notRun(let error):
        return notRun(error, host: outcome.host)
    }
}

/// `UNREACHABLE: connection refused …` or `REFUSED: …`, for a line already tagged with the
/// host: the host's name is not repeated, and the text is escaped.
func notRun(_ error: CohortError, host: String) -> String {
    var text = error.shown
    let shown = Printable.escaped(host)
    if text.hasPrefix(shown + ": ") { text.removeFirst(shown.count + 2) }
    return "\(error.isSecurityRefusal ? "REFUSED" : "UNREACHABLE"): \(text)"
}

func summaryLine(_ summary: RunSummary) -> String {
    func part(_ label: String, _ hosts: [String]) -> String {
        hosts.isEmpty ? "\(label) 0" : "\(label) \(hosts.count) (\(Printable.escaped(NodeSet.fold(hosts))))"
    }
    var parts = ["ok \(summary.ok.count)", part("failed", summary.failed), part("unreachable", summary.unreachable)]
    if !summary.refused.isEmpty { parts.append(part("refused", summary.refused)) }
    return parts.joined(separator: ", ")
}

/// `host | line` on stdout, `host ! line` on stderr, each line whole.
final class TaggedPrinter: RunPrinter, @unchecked Sendable {
    // @unchecked: `partial` is guarded by `lock`.
    private let lock = NSLock()
    private var partial: [String: [UInt8]] = [:]
    private let width: Int

    /// Each host's `host | ` and `host ! ` prefixes, made once: they go before every line.
    private let tags: [String: (out: [UInt8], err: [UInt8])]

    init(hosts: [String]) {
        let width = hosts.map { Printable.escaped($0).count }.max() ?? 0
        self.width = width
        tags = Dictionary(hosts.map { host in (host, (Self.tag(host, "|", width), Self.tag(host, "!", width))) }) { first, _ in first }
    }

    /// `host | `: the name escaped, so that a name from the inventory cannot forge lines.
    private static func tag(_ host: String, _ mark: String, _ width: Int) -> [UInt8] {
        let shown = Printable.escaped(host)
        return Array((shown + String(repeating: " ", count: max(0, width - shown.count)) + " \(mark) ").utf8)
    }

    private func tag(_ host: String, _ mark: String) -> [UInt8] {
        guard let known = tags[host] else { return Self.tag(host, mark, width) }
        return mark == "|" ? known.out : known.err
    }

    func event(_ host: String, _ event: ProcessEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .stdout(let bytes): emit(host, bytes, stderr: false)
        case .stderr(let bytes): emit(host, bytes, stderr: true)
        case .exit: flush(host)
        }
    }

    private func emit(_ host: String, _ bytes: [UInt8], stderr: Bool) {
        let key = host + (stderr ? "!" : "|")
        let buffer = (partial.removeValue(forKey: key) ?? []) + bytes
        let prefix = tag(host, stderr ? "!" : "|")
        // One pass over the bytes: each whole line goes out behind its tag; the rest waits.
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + buffer.count / 8)
        var lineStart = 0
        buffer.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            // memchr finds the newlines: this loop carries W4's whole stream (see benchmarks.md).
            while lineStart < bytes.count, let hit = memchr(base + lineStart, 0x0A, bytes.count - lineStart) {
                let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
                out += prefix
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<end]))
                lineStart = end
            }
        }
        var rest = Array(buffer[lineStart...])
        // A line longer than this is shown in pieces, so that an endless line cannot grow
        // memory without bound (--json keeps every byte as produced).
        if rest.count > 64 * 1024 {
            out += prefix + rest + [UInt8(ascii: "\n")]
            rest.removeAll()
        }
        if !rest.isEmpty { partial[key] = rest }
        if !out.isEmpty { Out.write(out, toStderr: stderr) }
    }

    private func flush(_ host: String) {
        for stderr in [false, true] {
            let key = host + (stderr ? "!" : "|")
            if let rest = partial.removeValue(forKey: key), !rest.isEmpty {
                Out.write(tag(host, stderr ? "!" : "|") + rest + [UInt8(ascii: "\n")], toStderr: stderr)
            }
        }
    }

    /// Failures through a bastion, said once per cause at the end.
    private var bastionNotes = BastionNotes()

    func done(_ outcome: HostOutcome) {
        lock.lock()
        defer { lock.unlock() }
        flush(outcome.host)
        guard let text = describe(outcome), !bastionNotes.hold(outcome.host, text) else { return }
        Out.write(tag(outcome.host, "!") + Array((text + "\n").utf8), toStderr: true)
    }

    func finish(_ summary: RunSummary) {
        lock.lock()
        defer { lock.unlock() }
        for line in bastionNotes.lines { Out.write(Array("cohort: \(line)\n".utf8), toStderr: true) }
        Out.write(Array("cohort: \(summaryLine(summary))\n".utf8), toStderr: true)
    }
}

/// One JSON object per line: output chunks as they arrive, then one result per host.
final class JSONPrinter: RunPrinter, @unchecked Sendable {
    // @unchecked: writes are serialised by `lock`.
    private let lock = NSLock()

    private func line(_ fields: [(String, InventoryValue)]) {
        lock.lock()
        defer { lock.unlock() }
        Out.jsonLine(fields)
    }

    func event(_ host: String, _ event: ProcessEvent) {
        switch event {
        case .stdout(let bytes), .stderr(let bytes):
            let stream = if case .stdout = event { "stdout" } else { "stderr" }
            var fields: [(String, InventoryValue)] = [("host", .string(host)), ("stream", .string(stream))]
            fields.append(jsonBytes("data", bytes))
            line(fields)
        case .exit:
            break
        }
    }

    func done(_ outcome: HostOutcome) {
        let ms = outcome.duration.seconds * 1000
        var fields: [(String, InventoryValue)] = [("host", .string(outcome.host)), ("duration_ms", .double((ms * 10).rounded() / 10))]
        switch outcome.result {
        case .finished(let status):
            fields.append(("status", .string(status.isSuccess ? "ok" : "failed")))
            switch status {
            case .exited(let code): fields += [("exit", .int(Int(code))), ("signal", .null)]
            case .signaled(let name, _): fields += [("exit", .null), ("signal", .string(name))]
            }
        case .notRun(let error):
            fields += [
                ("status", .string(error.isSecurityRefusal ? "refused" : "unreachable")),
                ("error", .string(error.message)), ("code", .string(error.code.rawValue)),
            ]
        }
        line(fields)
    }

    func finish(_ summary: RunSummary) {
        let list = { (hosts: [String]) in InventoryValue.list(hosts.map(InventoryValue.string)) }
        line([("summary", .dict([
            ("ok", list(summary.ok)), ("failed", list(summary.failed)),
            ("unreachable", list(summary.unreachable)), ("refused", list(summary.refused)),
        ]))])
    }
}

/// Folds identical results: each distinct (stdout, stderr, status) once, under its node set.
/// Lines are folded as they arrive (`OutputTree`): a thousand hosts printing the same thing hold
/// it once.
final class GatherPrinter: RunPrinter, @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private struct Output {
        var stdout: OutputTree.Cursor
        var stderr: OutputTree.Cursor
        var status = ""
    }

    /// What makes two hosts' results one block: the same output paths and status.
    private struct Key: Hashable {
        var stdout: ObjectIdentifier
        var stderr: ObjectIdentifier
        var status: String
    }

    private let lock = NSLock()
    private let tree = OutputTree()
    private var outputs: [String: Output] = [:]
    private var order: [String] = []

    private func output(_ host: String) -> Output {
        if let output = outputs[host] { return output }
        order.append(host)
        return Output(stdout: tree.start(), stderr: tree.start())
    }

    func event(_ host: String, _ event: ProcessEvent) {
        lock.lock()
        defer { lock.unlock() }
        var output = output(host)
        switch event {
        case .stdout(let bytes): tree.append(bytes, to: &output.stdout)
        case .stderr(let bytes): tree.append(bytes, to: &output.stderr)
        case .exit: break
        }
        outputs[host] = output
    }

    func done(_ outcome: HostOutcome) {
        lock.lock()
        defer { lock.unlock() }
        var output = output(outcome.host)
        tree.finish(&output.stdout)
        tree.finish(&output.stderr)
        output.status = describe(outcome) ?? "ok"
        outputs[outcome.host] = output
    }

    func finish(_ summary: RunSummary) {
        lock.lock()
        defer { lock.unlock() }
        var groups: [Key: [String]] = [:]
        var firstSeen: [(Key, Output)] = []
        for host in order {
            var output = outputs[host]!
            tree.finish(&output.stdout)
            tree.finish(&output.stderr)
            let key = Key(stdout: ObjectIdentifier(output.stdout.node), stderr: ObjectIdentifier(output.stderr.node), status: output.status)
            if groups[key] == nil { firstSeen.append((key, output)) }
            groups[key, default: []].append(host)
        }
        for (key, output) in firstSeen {
            let title = "\(Printable.escaped(NodeSet.fold(groups[key]!))) (\(output.status))"
            let rule = String(repeating: "-", count: min(78, max(15, title.count)))
            let stdout = tree.bytes(upTo: output.stdout.node)
            let stderr = tree.bytes(upTo: output.stderr.node)
            var block = Array("\(rule)\n\(title)\n\(rule)\n".utf8) + stdout
            if let last = stdout.last, last != UInt8(ascii: "\n") { block.append(UInt8(ascii: "\n")) }
            if !stderr.isEmpty {
                block += Array("[stderr]\n".utf8) + stderr
                if stderr.last != UInt8(ascii: "\n") { block.append(UInt8(ascii: "\n")) }
            }
            Out.write(block)
        }
        Out.write(Array("cohort: \(summaryLine(summary))\n".utf8), toStderr: true)
    }
}
