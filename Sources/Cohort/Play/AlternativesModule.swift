import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire

/// `alternatives` (community.general.alternatives, collection 12.3.0): a link group read with
/// `update-alternatives --display` (`AlternativesDisplay`) and changed with its `--install`,
/// `--set`, `--auto` and `--remove`, deciding as the module decides, with its messages, its
/// `diff` (always in the result, as the module returns it) and check mode.
enum AlternativesModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func text(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }
        let name = text("name") ?? ""
        let path = text("path"), family = text("family")
        let state = text("state") ?? "selected"
        guard path != nil || family != nil else { return FileModules.failure("one of the following is required: path, family") }
        let wantedPriority = try SystemModules.int(args["priority"], "priority")
        let wantedSubcommands: [AlternativesDisplay.Subcommand]?
        do { wantedSubcommands = try subcommands(args["subcommands"]) } catch { return FileModules.failure(error.message) }
        guard let tool = try await SystemModules.binPath("update-alternatives", call) else { return SystemModules.missingExecutable("update-alternatives") }
        let shown = try await SystemModules.run([tool, "--display", name], call)
        let given = Dictionary((wantedSubcommands ?? []).map { ($0.name, $0.link ?? "") }) { $1 }
        let current: AlternativesDisplay
        do { current = shown.rc == 0 ? try AlternativesDisplay.parse(shown.out, given: given) : AlternativesDisplay() } catch { return FileModules.failure(error.message) }

        var before = Dict(), after = Dict()
        var messages: [String] = []
        var changed = false
        let known = path.flatMap { current.alternatives[$0] }
        func described(_ subcommands: [AlternativesDisplay.Subcommand]) -> Value {
            .list(subcommands.map { ["name": .string($0.name), "path": .string($0.path), "link": $0.link.map(Value.string) ?? .none] })
        }
        // The module reads its diff's "before" only when the group was shown with a mode.
        if call.diff, current.mode != nil {
            if let path, let known {
                before = ["state": "present", "path": .string(path), "priority": .int(known.priority), "link": current.currentLink.map(Value.string) ?? .none]
                if !known.subcommands.isEmpty { before["subcommands"] = described(known.subcommands) }
                if current.mode == "manual", current.currentPath != path { before["state"] = "selected" }
            } else {
                before = ["state": "absent"]
            }
        }
        /// update-alternatives, unless in check mode; a failure as `run_command(check_rc=True)`.
        func execute(_ argv: [String]) async throws -> Value? {
            call.check ? nil : try await SystemModules.runChecked(argv, call)
        }

        if state != "absent" {
            if let path, known == nil || (wantedPriority != nil && known?.priority != wantedPriority)
                || (wantedSubcommands.map { wanted in !sameMembers(known?.subcommands ?? [], wanted) } ?? false)
            {
                let exists = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
                guard exists["exists"]?.truthy == true else { return FileModules.failure("Specified path \(path) does not exist") }
                guard let link = text("link").flatMap({ $0.isEmpty ? nil : $0 }) ?? current.currentLink.flatMap({ $0.isEmpty ? nil : $0 }) else {
                    return FileModules.failure("Needed to install the alternative, but unable to do so as we are missing the link")
                }
                let priority = wantedPriority ?? known?.priority ?? 50
                var argv = [tool, "--install", link, name, path, String(priority)]
                if let family { argv += ["--family", family] }
                for follower in wantedSubcommands ?? [] { argv += ["--slave", follower.link ?? "", follower.name, follower.path] }
                changed = true
                messages.append("Install alternative '\(path)' for '\(name)'.")
                if let failed = try await execute(argv) { return failed }
                if call.diff {
                    after = ["state": "present", "path": .string(path), "family": family.map(Value.string) ?? .none, "priority": .int(priority), "link": .string(link)]
                    let followers = wantedSubcommands ?? known?.subcommands ?? []
                    if !followers.isEmpty { after["subcommands"] = described(followers) }
                }
            }
            let samePath = path != nil && current.currentPath == path
            let sameFamily = current.currentPath.flatMap { current.alternatives[$0] }.map { $0.family == family } ?? false
            if state == "selected", !(samePath || sameFamily), let chosen = path ?? family {
                changed = true
                messages.append("Set alternative '\(chosen)' for '\(name)'.")
                if let failed = try await execute([tool, "--set", name, chosen]) { return failed }
                if call.diff { after["state"] = "selected" }
            }
            if state == "auto", current.mode == "manual" {
                changed = true
                messages.append("Set alternative to auto for '\(name)'.")
                if let failed = try await execute([tool, "--auto", name]) { return failed }
                if call.diff { after["state"] = "present" }
            }
        } else if let path, known != nil {
            changed = true
            messages.append("Remove alternative '\(path)' from '\(name)'.")
            if let failed = try await execute([tool, "--remove", name, path]) { return failed }
            if call.diff { after = ["state": "absent"] }
        }
        return ["changed": .bool(changed), "diff": ["before": .dict(before), "after": .dict(after)], "msg": .string(messages.joined(separator: " "))]
    }

    /// Each of one list in the other (Python's `all(s in b for s in a)` both ways).
    static func sameMembers(_ a: [AlternativesDisplay.Subcommand], _ b: [AlternativesDisplay.Subcommand]) -> Bool {
        a.allSatisfy(b.contains) && b.allSatisfy(a.contains)
    }

    /// `subcommands` (`slaves`): a list of mappings, each with `name`, `path` and `link`; the
    /// module's argument check fails the task as the error's message.
    static func subcommands(_ value: Value?) throws(TemplateError) -> [AlternativesDisplay.Subcommand]? {
        guard let value, value != .none else { return nil }
        guard case .list(let items) = value else { throw TemplateError("Value for subcommands is not a list") }
        var out: [AlternativesDisplay.Subcommand] = []
        for item in items {
            guard case .dict(let fields) = item else { throw TemplateError("Elements value for option 'subcommands' is of type \(item.typeName) and we were unable to convert to dict") }
            let missing = ["link", "name", "path"].filter { fields[$0] == nil || fields[$0] == Value.none }
            if !missing.isEmpty { throw TemplateError("missing required arguments: \(missing.joined(separator: ", ")) found in subcommands") }
            if let other = fields.keys.compactMap(\.string).sorted().first(where: { !["link", "name", "path"].contains($0) }) {
                throw TemplateError("Unsupported parameters for (community.general.alternatives) module: subcommands.\(other). Supported parameters include: link, name, path.")
            }
            out.append(.init(name: fields["name"]!.pythonString, path: fields["path"]!.pythonString, link: fields["link"]!.pythonString))
        }
        return out
    }
}
