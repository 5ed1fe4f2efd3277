import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `apt`: ansible-core 2.19's module without python3-apt. What python-apt's cache told the
/// module is read from `dpkg-query` and `apt-cache policy` (AptState); the changes are the
/// same `apt-get`, `dpkg` and `apt-mark` commands with the same options and environment, so
/// `changed`, `stdout`, `msg` and the host's end state are the module's.
enum AptModule {
    static let dpkgDefaults = "force-confdef,force-confold"
    static let zeroChanges = "\n0 upgraded, 0 newly installed, 0 to remove"

    /// What one round trip learns before anything is decided.
    struct Host {
        var aptGet: String
        var aptMark: String
        var hasAptitude: Bool
        var locale: String
        var cacheTime: Double
        var now: Double
    }

    struct Options {
        var dpkgWords: [String]
        var dpkgText: String
        var check: Bool
        var diff: Bool
        var host: Host
        var env: String { "DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LANG=\(host.locale) LC_ALL=\(host.locale) LC_MESSAGES=\(host.locale) LC_CTYPE=\(host.locale) LANGUAGE=\(host.locale) " }
    }

    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func flag(_ name: String) -> Bool { SystemModules.bool(args[name]) }
        func text(_ name: String) -> String? { args[name].flatMap { $0 == .none ? nil : $0.pythonString } }
        var state = text("state") ?? "present"
        let packages = list(args["package"] ?? args["name"] ?? args["pkg"])
        var upgrade = text("upgrade") ?? "no"
        let deb = text("deb")
        let updateCache = flag("update_cache")
        let validTime = try SystemModules.int(args["cache_valid_time"], "cache_valid_time") ?? 0
        let lockTimeout = try SystemModules.int(args["lock_timeout"], "lock_timeout") ?? 60
        if [packages != nil, deb != nil, args["upgrade"].map { $0 != .none } ?? false].filter({ $0 }).count > 1 {
            return FileModules.failure("parameters are mutually exclusive: deb|package|upgrade")
        }
        if packages == nil, deb == nil, !updateCache, !flag("autoremove"), args["upgrade"] == nil || args["upgrade"] == Value.none {
            return FileModules.failure("one of the following is required: autoremove, deb, package, update_cache, upgrade")
        }
        let installRecommends: Bool? = args["install_recommends"].flatMap { $0 == .none ? nil : PlaybookLoader.boolean($0) }

        guard let host = try await probe(call) else { return FileModules.failure("Failed to find required executable \"apt-get\"") }
        let dpkgOptions = text("dpkg_options") ?? dpkgDefaults
        let optionWords = dpkgOptions.split(separator: ",", omittingEmptySubsequences: false).flatMap { ["-o", "Dpkg::Options::=--\($0)"] }
            + ["-o", "DPkg::Lock::Timeout=\(lockTimeout)"]
        let optionText = dpkgOptions.split(separator: ",", omittingEmptySubsequences: false).map { "-o \"Dpkg::Options::=--\($0)\"" }.joined(separator: " ")
            + " -o DPkg::Lock::Timeout=\(lockTimeout)"
        let options = Options(dpkgWords: optionWords, dpkgText: optionText, check: call.check, diff: call.diff, host: host)

        if flag("clean") {
            let cleaned = try await SystemModules.run([host.aptGet, "clean"], call)
            if cleaned.rc != 0 { return FileModules.failure("apt-get clean failed", ["stdout": .string(cleaned.out), "rc": .int(cleaned.rc)]) }
            if !cleaned.err.isEmpty { return FileModules.failure("apt-get clean failed: \(cleaned.err)", ["stdout": .string(cleaned.out), "rc": .int(cleaned.rc)]) }
            if packages == nil, upgrade == "no", deb == nil {
                return ["changed": true, "msg": .string(cleaned.out), "stdout": .string(cleaned.out), "stderr": .string(cleaned.err),
                        "diff": call.diff ? prepared(cleaned.out) : .dict([:])]
            }
        }
        if upgrade == "no" { upgrade = "" }

        // The cache: refreshed when asked and older than cache_valid_time (ansible-core compares
        // the lists folder's mtime with the host's clock; check mode only says it would).
        var updated = false
        var updatedTime = Int(host.cacheTime.rounded(.down))
        if updateCache || validTime > 0, !(host.cacheTime + Double(validTime) >= host.now) {
            if !call.check {
                let refreshed = try await call.host.shell(options.env + ShellQuote.quote(host.aptGet) + " update -q")
                if refreshed.rc != 0 {
                    let err = String(decoding: refreshed.stderr, as: UTF8.self)
                    return FileModules.failure("Failed to update apt cache: \(err.isEmpty ? "unknown reason" : err)")
                }
            }
            let after = try await cacheTime(call)
            updated = call.check || Int(after.rounded(.down)) != updatedTime
            updatedTime = Int(after.rounded(.down))
            if packages == nil, upgrade.isEmpty, deb == nil {
                return ["changed": .bool(updated), "cache_updated": .bool(updated), "cache_update_time": .int(updatedTime)]
            }
        }

        if !upgrade.isEmpty {
            return try await self.upgrade(upgrade, args, options, call)
        }
        if let deb {
            if state != "present" { return FileModules.failure("deb only supports state=present") }
            return try await AptDeb.install(deb, args, options, installRecommends, call)
        }

        let unfiltered = packages ?? []
        var specs = unfiltered.filter { $0 != "*" }.map { $0.trimmingCharacters(in: .whitespaces) }
        if state == "latest", unfiltered.contains("*") {
            if !specs.isEmpty { return FileModules.failure("unable to install additional packages when upgrading all installed packages") }
            return try await self.upgrade("yes", args, options, call)
        }
        if let bad = specs.first(where: { $0.filter { $0 == "=" }.count > 1 }) { return FileModules.failure("invalid package spec: \(bad)") }
        if specs.isEmpty {
            if flag("autoclean") { return try await cleanup("autoclean", args, options, call) }
            if flag("autoremove") { return try await cleanup("autoremove", args, options, call) }
        }
        do {
            specs = try await expand(specs, call)
        } catch let error as TemplateError {
            return FileModules.failure(error.message)
        }
        if state == "absent" { return try await remove(specs, args, options, call) }
        if state != "present", state != "latest" { state = "present" }
        var result: Value
        do {
            result = try await install(specs, args, options, installRecommends, upgrade: state == "latest", call)
        } catch let error as TemplateError {
            // As the module's fail_json from package_status: no cache fields.
            return FileModules.failure(error.message)
        }
        guard case .dict(var fields) = result else { return result }
        fields["cache_updated"] = .bool(updated)
        fields["cache_update_time"] = .int(updatedTime)
        result = .dict(fields)
        return result
    }

    /// A list argument as Ansible's `list` type reads it: a list, or text split on commas.
    static func list(_ value: Value?) -> [String]? {
        switch value {
        case nil, .none?: return nil
        case .list(let items)?: return items.map(\.pythonString)
        case let other?: return other.pythonString.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    static func probe(_ call: ModuleCall) async throws -> Host? {
        let script = """
            command -v apt-get || echo; command -v apt-mark || echo; command -v aptitude || echo
            \(cacheTimeScript)
            date +%s.%N; locale -a 2>/dev/null | tr '\\n' ' '; echo
            """
        let output = try await call.host.shell(script)
        let lines = Strings.lines(String(decoding: output.stdout, as: UTF8.self))
        guard lines.count >= 6, !lines[0].isEmpty else { return nil }
        // ansible-core's get_best_parsable_locale: the first of these that `locale -a` lists.
        let available = Set(lines[5].split(separator: " ").map(String.init))
        let locale = ["C.utf8", "C.UTF-8", "en_US.utf8", "en_US.UTF-8", "C", "POSIX"].first { available.contains($0) } ?? "C"
        return Host(aptGet: lines[0], aptMark: lines[1].isEmpty ? "" : lines[1], hasAptitude: !lines[2].isEmpty, locale: locale,
                    cacheTime: seconds(lines[3]), now: seconds(lines[4]))
    }

    /// ansible-core's get_cache_mtime: the update stamp's mtime, else the lists folder's, else 0.
    static let cacheTimeScript = """
        if [ -e /var/lib/apt/periodic/update-success-stamp ]; then stat -c %.9Y /var/lib/apt/periodic/update-success-stamp
        elif [ -e /var/lib/apt/lists ]; then stat -c %.9Y /var/lib/apt/lists; else echo 0; fi
        """

    static func cacheTime(_ call: ModuleCall) async throws -> Double {
        let output = try await call.host.shell(cacheTimeScript)
        return seconds(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A time the host printed, in seconds since the epoch: 0 unless it is a finite number
    /// within a million years, so that whole seconds of it always fit an Int (Int(Double)
    /// would trap on a hostile host's "1e300" or "nan").
    static func seconds(_ text: String) -> Double {
        guard let value = Double(text), value.isFinite, abs(value) < 3.2e13 else { return 0 }
        return value
    }

    /// Names with `*?[]!` become every non-multiarch package name they match (fnmatch), as
    /// ansible-core's `expand_pkgspec_from_fnmatches`.
    static func expand(_ specs: [String], _ call: ModuleCall) async throws -> [String] {
        guard specs.contains(where: { AptState.split($0).name.contains(where: { "*?[]!".contains($0) }) }) else { return specs }
        let names = Strings.lines(try await SystemModules.run(["apt-cache", "pkgnames"], call).out)
        var out: [String] = []
        for spec in specs {
            let pattern = AptState.split(spec).name
            guard pattern.contains(where: { "*?[]!".contains($0) }) else {
                out.append(spec)
                continue
            }
            let matches = names.filter { (pattern.contains(":") || !$0.contains(":")) && fnmatch(pattern, $0, 0) == 0 }.sorted()
            if matches.isEmpty { throw TemplateError("No package(s) matching '\(pattern)' available") }
            out += matches
        }
        return out
    }

    /// dpkg's and apt's view of the named packages, in one round trip.
    static func statuses(_ names: [String], _ call: ModuleCall) async throws -> [String: AptPackage] {
        guard !names.isEmpty else { return [:] }
        let quoted = names.map(ShellQuote.quote).joined(separator: " ")
        let output = try await call.host.shell(
            "LC_ALL=C dpkg-query -W -f '${Package}\\t${db:Status-Status}\\t${Version}\\n' -- \(quoted) 2>/dev/null; echo '--cohort--'; LC_ALL=C apt-cache policy -- \(quoted) 2>/dev/null")
        let text = String(decoding: output.stdout, as: UTF8.self)
        let parts = text.components(separatedBy: "--cohort--\n")
        return AptState.parse(dpkg: parts[0], policy: parts.count > 1 ? parts[1] : "")
    }

    /// Packages that provide a virtual name (`apt-cache showpkg`'s reverse provides).
    static func providers(_ name: String, _ call: ModuleCall) async throws -> [String] {
        let shown = try await SystemModules.run(["apt-cache", "showpkg", name], call)
        var out: [String] = [], inside = false
        for line in Strings.lines(shown.out) {
            if line.hasPrefix("Reverse Provides:") { inside = true; continue }
            if inside, let first = line.split(separator: " ").first { out.append(String(first)) }
        }
        return Array(Set(out)).sorted()
    }

    /// ansible-core's `package_status`, with the virtual-package rules of a name apt has no
    /// version of. nil installable: none; "": let apt choose.
    static func status(_ spec: String, _ known: [String: AptPackage], install: Bool, _ call: ModuleCall)
        async throws -> (installed: Bool, versionInstalled: Bool, installable: String?, hasFiles: Bool)
    {
        let (name, comparison, version) = AptState.split(spec)
        if let package = known[name], package.known { return package.status(comparison, version) }
        guard install else { return (false, false, nil, false) }
        let provided = try await providers(name, call)
        if provided.isEmpty { throw TemplateError("No package matching '\(name)' is available") }
        if provided.count == 1 {
            let target = try await statuses(provided, call)
            if let package = target[provided[0]], package.known {
                let status = package.status(comparison, version)
                if status.installed { return status }
            }
        }
        return (false, false, "", false)
    }

    static func install(_ specs: [String], _ args: Dict, _ options: Options, _ recommends: Bool?, upgrade: Bool, _ call: ModuleCall) async throws -> Value {
        func flag(_ name: String) -> Bool { SystemModules.bool(args[name]) }
        let onlyUpgrade = flag("only_upgrade")
        let known = try await statuses(specs.map { AptState.split($0).name }, call)
        var wanted: [String] = []
        var names: [String] = []
        for spec in specs {
            let (name, comparison, version) = AptState.split(spec)
            names.append(name)
            let status = try await self.status(spec, known, install: true, call)
            if !status.installed, onlyUpgrade { continue }
            if !status.versionInstalled, status.installable == nil {
                return FileModules.failure("no available installation candidate for \(spec)")
            }
            if let installable = status.installable, (!status.installed && !onlyUpgrade) || upgrade || !status.versionInstalled {
                if !installable.isEmpty { wanted.append("\(name)=\(installable)") } else if let version { wanted.append("\(name)=\(version)") } else { wanted.append(name) }
            } else if status.versionInstalled, status.installable != nil, comparison == "=" {
                wanted.append("\(name)=\(version ?? "")")
            }
        }
        var result: Dict = ["changed": false]
        var failed = false
        if !wanted.isEmpty {
            var words: [String] = [], textParts: [String] = [options.dpkgText]
            words += options.dpkgWords
            for (on, word) in [(onlyUpgrade, "--only-upgrade"), (false, "--fix-broken"), (flag("force"), "--force-yes"), (flag("autoremove"), "--auto-remove"),
                               (flag("fail_on_autoremove"), "--no-remove"), (options.check, "--simulate")] {
                textParts.append(on ? word : "")
                if on { words.append(word) }
            }
            words += ["install"] + wanted
            var text = "\(options.host.aptGet) -y " + textParts.joined(separator: " ") + " install " + wanted.map { "'\($0)'" }.joined(separator: " ")
            var tail: [String] = []
            if recommends == false { tail += ["-o", "APT::Install-Recommends=no"] }
            if recommends == true { tail += ["-o", "APT::Install-Recommends=yes"] }
            if flag("allow_unauthenticated") { tail.append("--allow-unauthenticated") }
            if flag("allow_downgrade") { tail.append("--allow-downgrades") }
            if flag("allow_change_held_packages") { tail.append("--allow-change-held-packages") }
            if !tail.isEmpty { text += " " + tail.joined(separator: " ") }
            let ran = try await runApt([options.host.aptGet, "-y"] + words + tail, options, call)
            if ran.rc != 0 {
                failed = true
                result = ["msg": .string("'\(text)' failed: \(ran.err)"), "stdout": .string(ran.out), "stderr": .string(ran.err), "rc": .int(ran.rc)]
            } else {
                result = ["changed": true, "stdout": .string(ran.out), "stderr": .string(ran.err), "diff": options.diff ? prepared(ran.out) : .dict([:])]
            }
        }
        if !options.check, !names.isEmpty {
            // As the module: every named package marked manual, whatever the install did.
            guard !options.host.aptMark.isEmpty else {
                if failed { result["failed"] = true }
                return .dict(result)
            }
            let command = "\(options.host.aptMark) manual " + names.joined(separator: " ")
            let marked = try await SystemModules.run([options.host.aptMark, "manual"] + names, call)
            if marked.rc != 0 {
                return FileModules.failure("'\(command)' failed: \(marked.err)", ["stdout": .string(marked.out), "stderr": .string(marked.err), "rc": .int(marked.rc)])
            }
        }
        if failed { result["failed"] = true; result["changed"] = false }
        return .dict(result)
    }

    static func remove(_ specs: [String], _ args: Dict, _ options: Options, _ call: ModuleCall) async throws -> Value {
        func flag(_ name: String) -> Bool { SystemModules.bool(args[name]) }
        let purge = flag("purge")
        let known = try await statuses(specs.map { AptState.split($0).name }, call)
        var wanted: [String] = []
        for spec in specs {
            let status = try await self.status(spec, known, install: false, call)
            if status.versionInstalled || (status.hasFiles && purge) { wanted.append(spec) }
        }
        guard !wanted.isEmpty else { return ["changed": false] }
        var words = ["-q", "-y"] + options.dpkgWords
        var textParts = [options.dpkgText]
        for (on, word) in [(purge, "--purge"), (flag("force"), "--force-yes"), (flag("autoremove"), "--auto-remove"), (options.check, "--simulate"),
                           (flag("allow_change_held_packages"), "--allow-change-held-packages")] {
            textParts.append(on ? word : "")
            if on { words.append(word) }
        }
        words += ["remove"] + wanted
        let ran = try await runApt([options.host.aptGet] + words, options, call)
        if ran.rc != 0 {
            let quoted = wanted.map { "'\($0)'" }.joined(separator: " ")
            return FileModules.failure("'apt-get remove \(quoted)' failed: \(ran.err)", ["stdout": .string(ran.out), "stderr": .string(ran.err), "rc": .int(ran.rc)])
        }
        return ["changed": true, "stdout": .string(ran.out), "stderr": .string(ran.err), "diff": options.diff ? prepared(ran.out) : .dict([:])]
    }

    /// `autoremove` or `autoclean` with no package named.
    static func cleanup(_ operation: String, _ args: Dict, _ options: Options, _ call: ModuleCall) async throws -> Value {
        var words = ["-y"] + options.dpkgWords
        if SystemModules.bool(args["purge"]) { words.append("--purge") }
        if SystemModules.bool(args["force"]) { words.append("--force-yes") }
        words.append(operation)
        if options.check { words.append("--simulate") }
        let ran = try await runApt([options.host.aptGet] + words, options, call)
        if ran.rc != 0 {
            return FileModules.failure("'apt-get \(operation)' failed: \(ran.err)", ["stdout": .string(ran.out), "stderr": .string(ran.err), "rc": .int(ran.rc)])
        }
        let marker = operation == "autoremove" ? "The following packages will be REMOVED" : "Del "
        return ["changed": .bool(ran.out.contains(marker)), "stdout": .string(ran.out), "stderr": .string(ran.err),
                "diff": options.diff ? prepared(ran.out) : .dict([:])]
    }

    /// `upgrade`: apt-get's `dist-upgrade` or `upgrade --with-new-pkgs`. Where ansible-core would
    /// use aptitude (installed, and force_apt_get not set), Cohort refuses rather than differ.
    static func upgrade(_ mode: String, _ args: Dict, _ options: Options, _ call: ModuleCall) async throws -> Value {
        func flag(_ name: String) -> Bool { SystemModules.bool(args[name]) }
        let useAptGet = flag("force_apt_get") || !options.host.hasAptitude
        if !(mode == "dist" || useAptGet) {
            return FileModules.failure("Cohort's apt upgrades with apt-get only: this host has aptitude, which ansible-core would use; set force_apt_get: true")
        }
        let autoremove = flag("autoremove") ? ["--auto-remove"] : []
        let command = mode == "dist" || mode == "full" ? ["dist-upgrade"] + autoremove : ["upgrade", "--with-new-pkgs"] + autoremove
        var words = ["-y"] + options.dpkgWords
        if flag("force") { words.append("--force-yes") }
        if flag("fail_on_autoremove") { words.append("--no-remove") }
        if flag("allow_unauthenticated") { words.append("--allow-unauthenticated") }
        if flag("allow_downgrade") { words.append("--allow-downgrades") }
        if options.check { words.append("--simulate") }
        let ran = try await runApt([options.host.aptGet] + words + command, options, call)
        if ran.rc != 0 {
            return FileModules.failure("'apt-get \((command + [""]).joined(separator: " "))' failed: \(ran.err)", ["stdout": .string(ran.out), "rc": .int(ran.rc)])
        }
        if ran.out.contains(zeroChanges) { return ["changed": false, "msg": .string(ran.out), "stdout": .string(ran.out), "stderr": .string(ran.err)] }
        return ["changed": true, "msg": .string(ran.out), "stdout": .string(ran.out), "stderr": .string(ran.err),
                "diff": options.diff ? prepared(ran.out) : .dict([:])]
    }

    static func runApt(_ argv: [String], _ options: Options, _ call: ModuleCall) async throws -> (rc: Int, out: String, err: String) {
        let output = try await call.host.shell(options.env + argv.map(ShellQuote.quote).joined(separator: " "))
        return (output.rc, String(decoding: output.stdout, as: UTF8.self), String(decoding: output.stderr, as: UTF8.self))
    }

    /// ansible-core's `parse_diff`: apt-get's lines after "Reading state information..." up to
    /// and with the "N upgraded" line.
    static func prepared(_ output: String) -> Value {
        let lines = Strings.lines(output)
        let start = (lines.firstIndex(of: "Resolving dependencies...") ?? lines.firstIndex(of: "Reading state information...") ?? -1) + 1
        var end = lines.count
        if let found = lines.firstIndex(where: { $0.range(of: "^[0-9]+ (packages )?upgraded", options: .regularExpression) != nil }) { end = found + 1 }
        let slice = start < end ? Array(lines[start..<min(end, lines.count)]) : []
        return ["prepared": .string(slice.joined(separator: "\n"))]
    }
}

extension AptModule {
    /// `package`, as ansible-core's action: the manager from `use`, `ansible_package_use`, the
    /// host's `pkg_mgr` fact, or (no facts) the host asked; its arguments handed on without
    /// `use`. Cohort has the apt backend only: any other manager fails by name.
    static func package(_ args: Dict, _ scope: Scope, _ call: ModuleCall) async throws -> Value {
        var manager = args["use"]?.pythonString ?? "auto"
        if manager == "auto" {
            let lookup = scope.lookup(depth: 0)
            if let configured = lookup("ansible_package_use"), !configured.isUndefined, configured != .none, !configured.pythonString.isEmpty {
                manager = try scope.render(configured).pythonString
            } else if case .dict(let facts)? = lookup("ansible_facts"), let fact = facts["pkg_mgr"], fact != .none, fact != false, !fact.pythonString.isEmpty {
                manager = fact.pythonString
            } else {
                // ansible-core runs setup for ansible_pkg_mgr here; its answer on a Debian host.
                let found = try await call.host.shell("command -v apt-get")
                manager = found.rc == 0 ? "apt" : "unknown"
            }
        }
        guard manager == "apt" else {
            if manager == "unknown" || manager == "auto" { return FileModules.failure("Could not detect which package manager to use. Try gathering facts or setting the \"use\" option.") }
            return FileModules.failure("Cohort's package has the apt backend only; this host's package manager is \"\(manager)\"")
        }
        var handed = args
        handed["use"] = nil
        if let names = handed["name"] {
            handed["name"] = nil
            handed["package"] = names
        }
        return try await run(handed, call)
    }
}

extension AptModule {
    /// `package_facts` with apt (the manager `auto` picks on Debian): the `packages` fact, each
    /// name a list of its installed versions' details. Another manager fails by name.
    static func packageFacts(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let managers = (list(args["manager"]) ?? ["auto"]).map { $0.lowercased() }
        if let other = managers.first(where: { $0 != "auto" && $0 != "apt" }) {
            return FileModules.failure("Cohort's package_facts reads apt only; '\(other)' was asked")
        }
        let output = try await call.host.shell("""
            command -v dpkg-query >/dev/null && command -v apt-cache >/dev/null || exit 3
            export LC_ALL=C
            installed=$(dpkg-query -W -f '${binary:Package}\\t${Version}\\t${Architecture}\\t${Section}\\t${db:Status-Status}\\n')
            printf '%s\\n' "$installed"; echo '--cohort--'
            apt-cache policy; echo '--cohort--'
            printf '%s\\n' "$installed" | awk -F '\\t' '$5 == "installed" { print $1 }' | xargs -r apt-cache policy --
            """)
        if output.rc == 3 {
            return FileModules.failure(managers.contains("auto") ? "Could not auto detect a usable package manager, check warnings for details." : "Unsupported package managers requested: apt")
        }
        let parts = String(decoding: output.stdout, as: UTF8.self).components(separatedBy: "--cohort--\n")
        guard parts.count == 3 else { return FileModules.failure("package_facts: dpkg-query or apt-cache failed: \(String(decoding: output.stderr, as: UTF8.self))") }
        var packages = Dict()
        for (name, details) in AptState.packageFacts(dpkg: parts[0], files: parts[1], policy: parts[2]) {
            let entry = Value.dict(Dict(strings: details.map { ($0.key, Value.string($0.value)) }))
            if case .list(let items)? = packages[name] { packages[name] = .list(items + [entry]) } else { packages[name] = .list([entry]) }
        }
        return ["changed": false, "ansible_facts": ["packages": .dict(packages)]]
    }
}
