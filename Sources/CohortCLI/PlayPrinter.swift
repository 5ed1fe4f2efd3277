import Cohort
import CohortCore
import CohortTemplate
import Foundation
import Synchronization

/// ansible-playbook's output: banners, a line per host result, the recap; or JSON lines.
final class PlayPrinter: Sendable {
    let json: Bool
    let verbose: Int
    let diff: Bool
    private let current = Mutex<(play: String, task: String)>(("", ""))
    /// Warnings already printed: each text once per run.
    private let warned = Mutex<Set<String>>([])

    init(json: Bool, verbose: Int, diff: Bool) {
        self.json = json
        self.verbose = verbose
        self.diff = diff
    }

    static func banner(_ text: String) -> String {
        "\n" + text + " " + String(repeating: "*", count: max(3, 79 - text.count))
    }

    func handle(_ event: PlayEvent) {
        switch event {
        case .play(let name):
            current.withLock { $0.play = name }
            if !json { Out.write(Array((Self.banner("PLAY [\(Printable.escaped(name))]") + "\n").utf8)) }
        case .noHosts:
            if !json { Out.write(Array("skipping: no hosts matched\n".utf8)) }
        case .noHostsRemaining:
            if !json { Out.write(Array((Self.banner("NO MORE HOSTS LEFT") + "\n").utf8)) }
        case .included(let path, let hosts, let label):
            if json {
                var dict: Dict = ["included": .string(path), "hosts": .list(hosts.map { .string($0) })]
                if let label { dict["item"] = .string(label) }
                Out.write(Array((Self.dump(.dict(dict)) + "\n").utf8))
            } else {
                Out.write(Array("included: \(Printable.escaped(path)) for \(Printable.escaped(hosts.joined(separator: ", ")))\(label.map { " => (item=\(Printable.escaped($0)))" } ?? "")\n".utf8))
            }
        case .warning(let text):
            guard warned.withLock({ $0.insert(text).inserted }) else { return }
            Out.write(Array("[WARNING]: \(Printable.escaped(text))\n".utf8), toStderr: true)
        case .unmatchedPattern(let term):
            Out.write(Array("[WARNING]: Could not match supplied host pattern, ignoring: \(Printable.escaped(term))\n".utf8), toStderr: true)
        case .task(let title, let handler):
            current.withLock { $0.task = title }
            if !json { Out.write(Array((Self.banner("\(handler ? "RUNNING HANDLER" : "TASK") [\(Printable.escaped(title))]") + "\n").utf8)) }
        case .result(let host, let outcome):
            let shown = Self.censored(outcome)
            // A delegated task names both hosts, as ansible-playbook: `[web1 -> localhost]`.
            let named = Printable.escaped(outcome.delegate.map { "\(host) -> \($0)" } ?? host)
            Out.write(Array((json ? jsonLine(host, shown) : text(named, shown)).utf8))
            // A module's warnings, as ansible-playbook prints them: on standard error.
            if !json, !shown.hidden {
                let warnings = ([shown.result] + shown.items.map(\.result)).flatMap { result -> [Value] in
                    if case .list(let list)? = result.dict?["warnings"] { return list }
                    return []
                }
                for warning in warnings { Out.write(Array("[WARNING]: \(Printable.escaped(warning.pythonString))\n".utf8), toStderr: true) }
            }
        case .recap(let recap):
            if json {
                var dict = Dict()
                for line in recap {
                    dict[line.host] = [
                        "ok": .int(line.ok), "changed": .int(line.changed), "unreachable": .int(line.unreachable), "failed": .int(line.failed),
                        "skipped": .int(line.skipped), "rescued": .int(line.rescued), "ignored": .int(line.ignored),
                    ]
                }
                Out.write(Array(((try? Value.dict(["recap": .dict(dict)]).json()) ?? "{}").utf8 + [10]))
                return
            }
            var out = Self.banner("PLAY RECAP") + "\n"
            for line in recap {
                let name = Printable.escaped(line.host)
                let host = name.padding(toLength: max(26, name.count), withPad: " ", startingAt: 0)
                func field(_ name: String, _ value: Int) -> String { (name + "=" + String(value)).padding(toLength: name.count + 1 + max(4, String(value).count), withPad: " ", startingAt: 0) }
                out += "\(host) : \(field("ok", line.ok)) \(field("changed", line.changed)) \(field("unreachable", line.unreachable)) "
                out += "\(field("failed", line.failed)) \(field("skipped", line.skipped)) \(field("rescued", line.rescued)) \(field("ignored", line.ignored))\n"
            }
            Out.write(Array((out + "\n").utf8))
        }
    }

    static func dump(_ value: Value, indent: Int? = nil) -> String {
        (try? value.json(indent: indent, sortKeys: true)) ?? "{}"
    }

    /// The one censoring step every output path (text, JSON, diffs, items, errors) goes
    /// through: under `no_log` each result becomes Ansible's notice, each item's label
    /// `None`, and no diff is left to print.
    static func censored(_ outcome: TaskOutcome) -> TaskOutcome {
        guard outcome.hidden else { return outcome }
        var out = outcome
        out.result = notice(outcome.result)
        out.items = outcome.items.map { item in
            var hidden = item
            hidden.label = "None"
            hidden.result = notice(item.result)
            return hidden
        }
        return out
    }

    /// ansible-playbook's callback takes a failure's `exception` out before it prints the
    /// result (and shows the traceback only with -vvv).
    static func withoutException(_ result: Value) -> Value {
        guard var dict = result.dict, dict["exception"] != nil else { return result }
        dict["exception"] = nil
        return .dict(dict)
    }

    static func notice(_ result: Value) -> Value {
        ["censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
            "changed": result.dict?["changed"] ?? false]
    }

    private func text(_ host: String, _ outcome: TaskOutcome) -> String {
        var out = ""
        for item in outcome.items {
            let word = Self.word(item.status)
            let shown = item.result
            // An item delegated to its own host names it, as ansible-playbook does.
            let host = item.delegate.map { "\(host) -> \(Printable.escaped($0))" } ?? host
            if item.status == .failed {
                out += "failed: [\(host)] (item=\(Printable.escaped(item.label))) => \(Self.dump(Self.withoutException(shown)))\n"
            } else if verbose > 0 || outcome.module == "debug" {
                out += "\(word): [\(host)] => (item=\(Printable.escaped(item.label))) => \(Self.dump(shown))\n"
            } else {
                out += "\(word): [\(host)] => (item=\(Printable.escaped(item.label)))\n"
            }
        }
        let result = outcome.result
        // --diff: each item's diff (after the item lines), or the task's, before its line.
        if diff, !outcome.hidden {
            if outcome.items.isEmpty {
                if let d = result.dict?["diff"] { out += DiffText.render(d) }
            } else {
                for item in outcome.items { if let d = item.result.dict?["diff"] { out += DiffText.render(d) } }
            }
        }
        switch outcome.status {
        case .unreachable:
            out += "fatal: [\(host)]: UNREACHABLE! => \(Self.dump(result))\n"
        case .failed:
            var summary = result
            if !outcome.items.isEmpty, !outcome.hidden, let whole = outcome.result.dict {
                summary = .dict(Dict(strings: [("changed", whole["changed"] ?? .bool(false)), ("msg", whole["msg"] ?? .string(""))]))
            }
            out += "fatal: [\(host)]: FAILED! => \(Self.dump(Self.withoutException(summary)))\n"
            if outcome.ignored { out += "...ignoring\n" }
        default:
            if !outcome.items.isEmpty {
                if outcome.status == .skipped, outcome.items.allSatisfy({ $0.status == .skipped }) { out += "skipping: [\(host)]\n" }
                break
            }
            let word = Self.word(outcome.status)
            if outcome.module == "debug", outcome.status != .skipped {
                var dict = result.dict ?? Dict()
                dict["changed"] = nil
                dict["failed"] = nil
                out += "\(word): [\(host)] => \(Self.dump(.dict(dict), indent: 4))\n"
            } else if verbose > 0, outcome.status != .skipped {
                out += "\(word): [\(host)] => \(Self.dump(result))\n"
            } else {
                out += "\(word): [\(host)]\n"
            }
        }
        return out
    }

    static func word(_ status: TaskOutcome.Status) -> String {
        switch status {
        case .ok: "ok"
        case .changed: "changed"
        case .failed: "failed"
        case .skipped: "skipping"
        case .unreachable: "unreachable"
        }
    }

    private func jsonLine(_ host: String, _ outcome: TaskOutcome) -> String {
        let (play, task) = current.withLock { ($0.play, $0.task) }
        let line: Value = [
            "play": .string(play), "task": .string(task), "host": .string(host), "status": .string(outcome.status.rawValue),
            "ignored": .bool(outcome.ignored), "result": outcome.result,
        ]
        return Self.dump(line) + "\n"
    }
}

/// `--diff` as ansible-playbook's default callback prints a result's `diff`: a unified diff
/// (Python's difflib, 3 lines of context) of `before` and `after` under `--- before[: HEADER]`
/// and `+++ after[: HEADER]`; dictionaries as sorted, indented JSON; a missing final newline
/// said as difflib does.
enum DiffText {
    /// One result's diff (a dictionary, or a list of them).
    static func render(_ diff: Value) -> String {
        if case .list(let list) = diff { return list.map(render).joined() }
        guard case .dict(let d) = diff else { return "" }
        if let prepared = d["prepared"] { return prepared.pythonString + "\n" }
        let beforeHeader = d["before_header"].map { "before: " + $0.pythonString } ?? "before"
        let afterHeader = d["after_header"].map { "after: " + $0.pythonString } ?? "after"
        func text(_ value: Value?) -> String {
            guard let value else { return "" }
            if case .dict = value { return ((try? value.json(indent: 4, sortKeys: true)) ?? value.pythonString) + "\n" }
            return value.pythonString
        }
        guard d["before"] != nil || d["after"] != nil else { return "" }
        return unified(text(d["before"]), text(d["after"]), from: beforeHeader, to: afterHeader)
    }

    /// difflib.unified_diff(…, n=3) of the two texts' lines (kept with their newlines).
    static func unified(_ before: String, _ after: String, from: String, to: String) -> String {
        func lines(_ text: String) -> [String] {
            var out: [String] = []
            var current = ""
            for c in text {
                current.append(c)
                if c == "\n" {
                    out.append(current)
                    current = ""
                }
            }
            if !current.isEmpty { out.append(current + "\n\\ No newline at end of file\n") }
            return out
        }
        let a = lines(before), b = lines(after)
        guard a != b else { return "" }
        // Longest common subsequence, enough for the files playbooks edit.
        guard a.count * b.count <= 4_000_000 else { return "--- \(from)\n+++ \(to)\n(too large to show)\n\n" }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        // The edit script; in each changed run the removed lines come before the added ones.
        enum Op { case same(Int, Int), removed(Int), added(Int) }
        var ops: [Op] = []
        var (i, j) = (0, 0)
        var removed: [Op] = [], added: [Op] = []
        func flush() {
            ops += removed + added
            removed = []
            added = []
        }
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                flush()
                ops.append(.same(i, j))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] {
                removed.append(.removed(i))
                i += 1
            } else {
                added.append(.added(j))
                j += 1
            }
        }
        flush()
        // Hunks: changes with up to 3 lines of context, joined when 6 or fewer apart.
        let changed = ops.indices.filter { if case .same = ops[$0] { false } else { true } }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - 3)...min(ops.count - 1, index + 3)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        func position(_ op: Op) -> (Int?, Int?) {
            switch op {
            case .same(let x, let y): (x, y)
            case .removed(let x): (x, nil)
            case .added(let y): (nil, y)
            }
        }
        func span(_ start: Int?, _ count: Int, before first: Int) -> String {
            let begin = (start ?? first) + 1
            if count == 1 { return "\(begin)" }
            return count == 0 ? "\(begin - 1),0" : "\(begin),\(count)"
        }
        var out = "--- \(from)\n+++ \(to)\n"
        for hunk in hunks {
            let slice = ops[hunk]
            let aLines = slice.filter { position($0).0 != nil }.count
            let bLines = slice.filter { position($0).1 != nil }.count
            // Where the hunk starts in each file (for an empty side, the line before it).
            let aStart = slice.lazy.compactMap { position($0).0 }.first
            let bStart = slice.lazy.compactMap { position($0).1 }.first
            let aBefore = ops[..<hunk.lowerBound].filter { position($0).0 != nil }.count
            let bBefore = ops[..<hunk.lowerBound].filter { position($0).1 != nil }.count
            out += "@@ -\(span(aStart, aLines, before: aBefore)) +\(span(bStart, bLines, before: bBefore)) @@\n"
            for op in slice {
                switch op {
                case .same(let x, _): out += " " + a[x]
                case .removed(let x): out += "-" + a[x]
                case .added(let y): out += "+" + b[y]
                }
            }
        }
        return out + "\n"
    }
}
