import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation
import Glibc

/// `ping`, `tempfile` and `setup`: small modules people put at the top of a playbook, answered
/// by the host's worker so that they prove what Ansible's prove (the host runs code for us).
enum HostProbeModules {
    /// `ping`: a round trip to the worker; `data: crash` fails the task, as Ansible's module
    /// raises on it.
    static func ping(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let data = args["data"].flatMap { $0 == .none ? nil : $0.pythonString } ?? "pong"
        _ = try await FileModules.one(.stat(path: "/", checksum: false), call, check: false)
        if data == "crash" { return FileModules.failure("boom") }
        return ["changed": false, "ping": .string(data)]
    }

    /// `wait_for_connection` on a host Cohort is connected to: after `delay` seconds, a round
    /// trip to its worker (ansible-core's ping test); `elapsed` in whole seconds. A host whose
    /// connection is lost is unreachable, as for any task: Cohort does not connect again
    /// within the task (it waits for no reboot). Skipped in check mode, as the action is.
    static func waitForConnection(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        if call.check { return ["changed": false, "skipped": true] }
        for name in ["connect_timeout", "sleep", "timeout"] { _ = try SystemModules.int(args[name], name) }
        let delay = try SystemModules.int(args["delay"], "delay") ?? 0
        guard (0...86_400).contains(delay) else { return FileModules.failure("delay: \(delay) is outside 0 to 86400 seconds") }
        let start = ContinuousClock.now
        if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
        _ = try await FileModules.one(.stat(path: "/", checksum: false), call, check: false)
        let elapsed = ContinuousClock.now - start
        return ["changed": false, "elapsed": .int(Int(elapsed.components.seconds))]
    }

    /// `tempfile`: `mktemp` on the host (mode 0600, a folder 0700, in `path`, else $TMPDIR or
    /// /tmp, as Python's mkstemp and mkdtemp choose). Ansible's module has no check mode: the
    /// task is skipped there.
    static func tempfile(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        if call.check { return ["changed": false, "skipped": true, "msg": "remote module (tempfile) does not support check mode"] }
        let prefix = args["prefix"].flatMap { $0 == .none ? nil : $0.pythonString } ?? "ansible."
        let suffix = args["suffix"].flatMap { $0 == .none ? nil : $0.pythonString } ?? ""
        for (name, part) in [("prefix", prefix), ("suffix", suffix)] where part.contains("/") {
            return FileModules.failure("\(name) must be a valid file name component, got '\(part)'")
        }
        // mktemp replaces the whole run of X at the template's end: a prefix ending in X would
        // lose its own.
        if prefix.hasSuffix("X") { return FileModules.failure("prefix ending in 'X' is not supported by cohort play, got '\(prefix)'") }
        var argv = ["mktemp"]
        if args["state"]?.pythonString == "directory" { argv.append("-d") }
        if let folder = args["path"].flatMap({ $0 == .none ? nil : $0.pythonString }) { argv += ["-p", folder] } else { argv.append("-t") }
        if !suffix.isEmpty { argv.append("--suffix=" + suffix) }
        argv.append(prefix + "XXXXXXXX")
        let made = try await SystemModules.run(argv, call)
        guard made.rc == 0 else { return FileModules.failure(Strings.lines(made.err).first ?? "mktemp failed") }
        return ["changed": true, "path": .string(Strings.lines(made.out).first ?? "")]
    }

    /// `setup` (and `gather_facts` as a task): the facts `gather_facts` gives, named
    /// `ansible_…` in the result as Ansible's module names them, kept where `filter`'s shell
    /// patterns (fnmatch, as Python's) match the name; the runner makes them the host's facts.
    /// `gather_subset`, `gather_timeout` and `fact_path` are taken: Cohort has one set of facts.
    static func setup(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let answer = try await FactCompletion.facts(call.host)
        let patterns: [String] =
            switch args["filter"] {
            case nil, .none?: []
            case .list(let items)?: items.map(\.pythonString)
            case let text?: text.pythonString.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        var facts = Dict()
        for (key, value) in answer.dict?.pairs ?? [] {
            let name = "ansible_" + key.pythonString
            if patterns.isEmpty || patterns.contains(where: { fnmatch($0, name, 0) == 0 }) { facts[name] = value }
        }
        return ["changed": false, "ansible_facts": .dict(facts)]
    }
}
