import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `apt: deb=FILE[,FILE…]`: a package file on the host installed with `dpkg -i`, its missing
/// dependencies first through `apt-get install`, skipped when the same version is installed,
/// as ansible-core's `install_deb`. python-apt's DebPackage check is read as: each `Depends`/
/// `Pre-Depends` group satisfied by an installed alternative, else by the first one apt can
/// install; a lower version than the installed one refused unless `allow_downgrade`/`force`.
enum AptDeb {
    static func install(_ debs: String, _ args: Dict, _ options: AptModule.Options, _ recommends: Bool?, _ call: ModuleCall) async throws -> Value {
        let force = SystemModules.bool(args["force"]), downgrade = SystemModules.bool(args["allow_downgrade"])
        var needed: [String] = [], files: [String] = []
        for file in debs.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            var fields: [String: String] = [:]
            for field in ["Package", "Version", "Depends", "Pre-Depends", "Recommends"] {
                let got = try await SystemModules.run(["dpkg", "--field", file, field], call)
                if got.rc != 0 {
                    if field == "Package" || field == "Version" {
                        return FileModules.failure("Unable to install package: \(got.err.trimmingCharacters(in: .whitespacesAndNewlines))")
                    }
                    continue
                }
                fields[field] = got.out.trimmingCharacters(in: .newlines)
            }
            let name = fields["Package"] ?? "", version = fields["Version"] ?? ""
            let groups = [fields["Pre-Depends"], fields["Depends"]].compactMap { $0 }.flatMap(dependencyGroups)
            let known = try await AptModule.statuses([name] + Array(Set(groups.flatMap { $0.map(\.name) })).sorted(), call)
            if let current = known[name]?.installedVersion, known[name]?.installed == true {
                let order = DebianVersion.compare(version, current)
                if order == 0 { continue }
                if order < 0, !(force || downgrade) { return FileModules.failure("A later version is already installed") }
            }
            for group in groups {
                let satisfied = group.contains { alternative in
                    guard let package = known[alternative.name], package.installed, let current = package.installedVersion else { return false }
                    return alternative.accepts(current)
                }
                if satisfied { continue }
                guard let first = group.first(where: { known[$0.name]?.candidate.map($0.accepts) ?? false }) else {
                    if force { continue }
                    return FileModules.failure("Dependency is not satisfiable: \(group.map(\.text).joined(separator: " | "))\n")
                }
                if !needed.contains(first.name) { needed.append(first.name) }
            }
            if recommends == true, let recommended = fields["Recommends"] {
                needed += recommended.split(separator: " ").map { $0.trimmingCharacters(in: .whitespaces) }
            }
            files.append(file)
        }
        var before: Dict = [:]
        var changed = false
        if !needed.isEmpty {
            let installed: Value
            do {
                installed = try await AptModule.install(needed, args, options, recommends, upgrade: false, call)
            } catch let error as TemplateError {
                return FileModules.failure(error.message)
            }
            guard case .dict(let fields) = installed else { return installed }
            if fields["failed"] == true { return installed }
            before = fields
            changed = fields["changed"] == true
        }
        guard !files.isEmpty else {
            return ["changed": .bool(changed), "stdout": before["stdout"] ?? "", "stderr": before["stderr"] ?? "", "diff": before["diff"] ?? ""]
        }
        let dpkgOptions = (args["dpkg_options"].flatMap { $0 == .none ? nil : $0.pythonString } ?? AptModule.dpkgDefaults)
            .split(separator: ",", omittingEmptySubsequences: false).map { "--\($0)" }
        var words = dpkgOptions
        if options.check { words.append("--simulate") }
        if force { words.append("--force-all") }
        let command = "dpkg " + words.joined(separator: " ") + " -i " + files.joined(separator: " ")
        let ran = try await AptModule.runApt(["dpkg"] + words + ["-i"] + files, options, call)
        let stdout = (before["stdout"]?.pythonString ?? "") + ran.out, stderr = (before["stderr"]?.pythonString ?? "") + ran.err
        var diff: Value = options.diff ? AptModule.prepared(ran.out) : .dict([:])
        if case .dict(var prior)? = before["diff"] {
            if let text = prior["prepared"] { prior["prepared"] = .string(text.pythonString + "\n\n" + ran.out) }
            diff = .dict(prior)
        }
        if ran.rc != 0 { return FileModules.failure("\(command) failed", ["stdout": .string(stdout), "stderr": .string(stderr)]) }
        return ["changed": true, "stdout": .string(stdout), "stderr": .string(stderr), "diff": diff]
    }

    /// One alternative of a dependency: a name and an optional `(OP VERSION)`.
    struct Alternative {
        var name: String
        var relation: String?
        var version: String?
        var text: String

        func accepts(_ installed: String) -> Bool {
            guard let relation, let version else { return true }
            let order = DebianVersion.compare(installed, version)
            switch relation {
            case ">=": return order >= 0
            case "<=": return order <= 0
            case ">>", ">": return order > 0
            case "<<", "<": return order < 0
            default: return order == 0
            }
        }
    }

    /// `a (>= 1), b | c` as groups of alternatives (architecture qualifiers dropped).
    static func dependencyGroups(_ field: String) -> [[Alternative]] {
        field.split(separator: ",").map { group in
            group.split(separator: "|").map { raw in
                let text = raw.trimmingCharacters(in: .whitespaces)
                var name = text, relation: String?, version: String?
                if let open = text.firstIndex(of: "("), let close = text.firstIndex(of: ")"), open < close {
                    name = text[..<open].trimmingCharacters(in: .whitespaces)
                    let inner = text[text.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
                    let op = inner.prefix { "<>=".contains($0) }
                    relation = String(op)
                    version = inner.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                }
                if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
                return Alternative(name: name, relation: relation, version: version, text: text)
            }
        }
    }
}
