import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `debconf`: a package's answers read with `debconf-show` and set with
/// `debconf-set-selections`, as ansible-core 2.19's module drives them, with its result fields
/// (`current`, `previous`, `msg`, the diff) and its comparisons (booleans lowered, multiselect
/// lists sorted, passwords read with `debconf-get-selections`).
enum DebconfModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let package = args["name"]?.pythonString ?? ""
        let question = args["question"].flatMap { $0 == .none ? nil : $0.pythonString }
        let vtype = args["vtype"].flatMap { $0 == .none ? nil : $0.pythonString }
        var value = args["value"].flatMap { $0 == .none ? nil : $0 }
        let unseen = SystemModules.bool(args["unseen"])
        let given = [question, vtype, value?.pythonString].filter { $0 != nil }.count
        if given > 0, given < 3 { return FileModules.failure("parameters are required together: question, vtype, value") }

        let shown = try await SystemModules.run(["debconf-show", package], call)
        if shown.rc != 0 { return FileModules.failure(shown.err) }
        var previous = Dict()
        for line in Strings.lines(shown.out) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var key = Substring(line[..<colon])
            while key.first == "*" { key.removeFirst() }
            previous[key.trimmingCharacters(in: .whitespaces)] = .string(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard let question, let vtype, var wanted = value else { return ["changed": false, "msg": "", "current": .dict(previous)] }

        if vtype == "boolean" { wanted = .string(wanted.pythonString.lowercased()) }
        var changed = false
        if let existing0 = previous[question] {
            var existing = existing0
            if vtype == "boolean" {
                existing = .string(existing0.pythonString.lowercased())
            } else if vtype == "password" {
                existing = .string(try await password(package, question, vtype, call))
            } else if vtype == "multiselect", case .list(let items) = wanted {
                wanted = .list(items.sorted { $0.pythonString < $1.pythonString })
                existing = .list(existing0.pythonString.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }.sorted {
                    $0.pythonString < $1.pythonString
                })
            }
            // Python's `!=`: a number never equals the text debconf gives back.
            changed = wanted != existing
        } else {
            changed = true
        }
        guard changed else { return ["changed": false, "msg": "", "current": .dict(previous)] }
        value = wanted
        var message = ""
        if !call.check {
            var text = wanted.pythonString
            if vtype == "multiselect", case .list(let items) = wanted {
                text = items.map(\.pythonString).joined(separator: ", ")
                // As Ansible's module: the joined text is what `current` reports once set.
                value = .string(text)
            }
            let data = [package, question, vtype, text].joined(separator: " ") + "\n"
            let argv = ["debconf-set-selections"] + (unseen ? ["-u"] : [])
            let output = try await call.host.shell(
                "printf %s " + ShellQuote.quote(data) + " | LC_ALL=C " + argv.map(ShellQuote.quote).joined(separator: " "))
            if output.rc != 0 { return FileModules.failure(String(decoding: output.stderr, as: UTF8.self)) }
            message = String(decoding: output.stdout, as: UTF8.self)
        }
        let current: Dict = [question: value ?? .string("")]
        var before = previous
        if let old = previous[question] { before = [question: old] } else { before[question] = "" }
        var result: Dict = ["changed": true, "msg": .string(message), "current": .dict(current), "previous": .dict(before)]
        if call.diff {
            var after = before
            after[question] = value ?? .string("")
            result["diff"] = ["before": .dict(before), "after": .dict(after)]
        } else {
            result["diff"] = .dict([:])
        }
        return .dict(result)
    }

    /// A password's stored answer: `debconf-get-selections` (debconf-utils), as Ansible's
    /// module reads it; empty when the line has none.
    static func password(_ package: String, _ question: String, _ vtype: String, _ call: ModuleCall) async throws -> String {
        let selections = try await SystemModules.run(["debconf-get-selections"], call)
        if selections.rc == 127 { throw TemplateError("Failed to find required executable \"debconf-get-selections\"") }
        if selections.rc != 0 { throw TemplateError("Failed to get the value '\(question)' from '\(package)': \(selections.err)") }
        for line in Strings.lines(selections.out) where line.hasPrefix(package) {
            let fields = line.components(separatedBy: "\t")
            if fields.count <= 3 { return "" }
            if fields[1] == question, fields[2] == vtype { return fields[3] }
        }
        return ""
    }
}

/// `dpkg_selections`: a package's selection read with `dpkg --get-selections` and set with
/// `dpkg --set-selections`, as ansible-core 2.19's module does (results `before`, `after`).
enum DpkgSelectionsModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let name = args["name"]?.pythonString ?? ""
        let selection = args["selection"]?.pythonString ?? ""
        guard try await SystemModules.binPath("dpkg", call) != nil else { return SystemModules.missingExecutable("dpkg") }
        let got = try await SystemModules.run(["dpkg", "--get-selections", name], call)
        if got.rc != 0 {
            return FileModules.failure(got.err.isEmpty ? got.out : got.err, ["rc": .int(got.rc), "stdout": .string(got.out), "stderr": .string(got.err)])
        }
        if got.err.contains("no packages found matching") {
            return FileModules.failure("Failed to find package '\(name)' to perform selection '\(selection)'.")
        }
        let fields = got.out.split(whereSeparator: \.isWhitespace)
        let current = got.out.isEmpty ? "not present" : (fields.count > 1 ? String(fields[1]) : "")
        let changed = current != selection
        let result: Dict = ["changed": .bool(changed), "before": .string(current), "after": .string(selection)]
        if call.check || !changed { return .dict(result) }
        let set = try await call.host.shell("LC_ALL=C dpkg --set-selections", stdin: Array("\(name) \(selection)".utf8))
        if set.rc != 0 {
            let err = String(decoding: set.stderr, as: UTF8.self)
            return FileModules.failure(err, ["rc": .int(set.rc), "stderr": .string(err)])
        }
        return .dict(result)
    }
}
