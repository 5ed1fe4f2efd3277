import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// Modules that change or read the system's accounts, driven through the host's own tools
/// (`groupadd`, `getent`…) as Ansible's modules drive them on Linux, with their result
/// fields, so that `register` and `when` see what they would see in Ansible.
enum SystemModules {
    /// One command on the host, its words quoted, in the C locale (as Ansible's
    /// `run_command` reads tools' messages).
    static func run(_ argv: [String], _ call: ModuleCall) async throws -> (rc: Int, out: String, err: String) {
        let output = try await call.host.shell("LC_ALL=C " + argv.map(ShellQuote.quote).joined(separator: " "))
        return (output.rc, String(decoding: output.stdout, as: UTF8.self), String(decoding: output.stderr, as: UTF8.self))
    }

    /// Where ansible-core's `get_bin_path` looks, as its failure names the places.
    static let searchPath = "/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin"

    /// `get_bin_path(name)`: the tool's path on the host, nil when it has none.
    static func binPath(_ name: String, _ call: ModuleCall) async throws -> String? {
        let found = try await run(["sh", "-c", "command -v " + ShellQuote.quote(name)], call)
        let path = String(found.out.split(whereSeparator: \.isNewline).first ?? "")
        return found.rc == 0 && !path.isEmpty ? path : nil
    }

    /// `get_bin_path(name, required=True)`'s failure.
    static func missingExecutable(_ name: String, _ extra: Dict = Dict()) -> Value {
        FileModules.failure("Failed to find required executable \"\(name)\" in paths: \(searchPath)", extra)
    }

    /// `run_command(argv, check_rc=True)`: nil when it succeeded, else the module's failure
    /// (`cmd` as Python's `shlex.quote` joins it, `rc`, `stdout`, `stderr`, `msg` the
    /// stderr without its trailing whitespace).
    static func runChecked(_ argv: [String], _ call: ModuleCall) async throws -> Value? {
        let ran = try await run(argv, call)
        guard ran.rc != 0 else { return nil }
        return FileModules.failure(PythonText.rstrip(ran.err), [
            "cmd": .string(argv.map(pythonShlexQuote).joined(separator: " ")), "rc": .int(ran.rc), "stdout": .string(ran.out), "stderr": .string(ran.err),
        ])
    }

    static func int(_ value: Value?, _ name: String) throws(TemplateError) -> Int? {
        switch value {
        case nil, .none?: return nil
        case .int(let n)?: return n
        case .string(let text)?:
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else { throw TemplateError("\(name): '\(text)' is not an integer") }
            return n
        case let other?: throw TemplateError("\(name): \(other.typeName) is not an integer")
        }
    }

    static func bool(_ value: Value?) -> Bool { value.flatMap(PlaybookLoader.boolean) ?? false }

    /// A group's entry as NSS gives it (`getent group NAME`, as Python's `grp.getgrnam`).
    static func groupEntry(_ name: String, _ call: ModuleCall) async throws -> [String]? {
        let (rc, out, _) = try await run(["getent", "group", name], call)
        guard rc == 0, let line = Strings.lines(out).first else { return nil }
        return line.components(separatedBy: ":")
    }

    /// `group`: groupadd, groupmod -g, groupdel [-f]; check mode as Ansible's module (a new or
    /// removed group: just `changed`; a gid change: changed, the old gid reported).
    static func group(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let name = args["name"]?.pythonString ?? ""
        let state = args["state"]?.pythonString ?? "present"
        let gid = try int(args["gid"], "gid")
        let nonUnique = bool(args["non_unique"])
        if nonUnique, gid == nil { return FileModules.failure("non_unique is True but all of the following are missing: gid") }
        var result: Dict = ["name": .string(name), "state": .string(state)]
        var ran: (rc: Int, out: String, err: String)?
        let existing = try await groupEntry(name, call)
        if state == "absent" {
            if existing != nil {
                if call.check { return ["changed": true] }
                ran = try await run(["groupdel"] + (bool(args["force"]) ? ["-f"] : []) + [name], call)
            }
        } else if existing == nil {
            if call.check { return ["changed": true] }
            var argv = ["groupadd"]
            if let gid { argv += ["-g", String(gid)] + (nonUnique ? ["-o"] : []) }
            if bool(args["system"]) { argv.append("-r") }
            if let low = try int(args["gid_min"], "gid_min") { argv += ["-K", "GID_MIN=\(low)"] }
            if let high = try int(args["gid_max"], "gid_max") { argv += ["-K", "GID_MAX=\(high)"] }
            ran = try await run(argv + [name], call)
        } else if let gid, existing.map({ $0.count > 2 ? Int($0[2]) : nil }) != gid {
            ran = call.check ? (0, "", "") : try await run(["groupmod", "-g", String(gid)] + (nonUnique ? ["-o"] : []) + [name], call)
        }
        if let ran, ran.rc != 0 { return ["failed": true, "changed": false, "name": .string(name), "msg": .string(ran.err)] }
        result["changed"] = .bool(ran != nil)
        if let ran, !ran.out.isEmpty { result["stdout"] = .string(ran.out) }
        if let ran, !ran.err.isEmpty { result["stderr"] = .string(ran.err) }
        if let entry = try await groupEntry(name, call), entry.count > 2, let number = Int(entry[2]) {
            result["system"] = .bool(bool(args["system"]))
            result["gid"] = .int(number)
        }
        return .dict(result)
    }

    /// `getent`: the database's entries as `getent_DATABASE` facts, each key's fields split
    /// as Python's `str.split` (`:` for passwd, shadow, group, gshadow; else whitespace);
    /// several entries under one key become a list of them.
    static func getent(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let database = args["database"]?.pythonString ?? ""
        let key = args["key"].flatMap { $0 == .none ? nil : $0.pythonString }
        var argv = ["getent", database] + (key.map { [$0] } ?? [])
        if let service = args["service"].flatMap({ $0 == .none ? nil : $0.pythonString }) { argv += ["-s", service] }
        let split = args["split"].flatMap { $0 == .none ? nil : $0.pythonString }
            ?? (["passwd", "shadow", "group", "gshadow"].contains(database) ? ":" : nil)
        let (rc, out, _) = try await run(argv, call)
        var tree = Dict()
        switch rc {
        case 0:
            var seen: [String: Int] = [:]
            for line in Strings.lines(out) {
                var record = Strings.split(line, separator: split, limit: nil, fromRight: false)
                if split == nil { record = record.filter { !$0.isEmpty } }
                // Python's "".split() is [] and record[0] an IndexError: the module fails there.
                guard let first = record.first else { return FileModules.failure("list index out of range") }
                let fields = Value.list(record.dropFirst().map { .string($0) })
                let count = seen[first, default: 0]
                if count == 0 {
                    tree[.string(first)] = fields
                } else {
                    var list: [Value] = []
                    if count == 1 { list = [tree[.string(first)] ?? .none] } else if case .list(let earlier)? = tree[.string(first)] { list = earlier }
                    list.append(fields)
                    tree[.string(first)] = .list(list)
                }
                seen[first] = count + 1
            }
            return ["changed": false, "ansible_facts": .dict(Dict([(.string("getent_" + database), .dict(tree))]))]
        case 2:
            let message = "One or more supplied key could not be found in the database."
            if args["fail_key"].flatMap(PlaybookLoader.boolean) == false {
                tree[.string(key ?? "")] = Value.none
                return ["changed": false, "msg": .string(message), "ansible_facts": .dict(Dict([(.string("getent_" + database), .dict(tree))]))]
            }
            return FileModules.failure(message)
        case 1: return FileModules.failure("Missing arguments, or database unknown.")
        case 3: return FileModules.failure("Enumeration not supported on this database.")
        default: return FileModules.failure("Unexpected failure!")
        }
    }
}
