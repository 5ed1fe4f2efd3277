import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `cron`: a user's crontab read with `crontab -l` and installed with `crontab -`, or a file
/// in /etc/cron.d written in place, edited as ansible-core 2.19's module edits them
/// (`CronTab`), with its result fields (`jobs`, `envs`, `cron_file`, `backup_file`, the diff).
struct CronModule {
    let args: Dict
    let call: ModuleCall

    init(_ args: Dict, _ call: ModuleCall) {
        self.args = args
        self.call = call
    }

    func text(_ key: String) -> String? {
        guard let value = args[key], value != .none else { return nil }
        return value.pythonString
    }

    func execute() async throws -> Value {
        let name = text("name") ?? ""
        let user = text("user")
        let job = text("job")
        let cronFile = text("cron_file")
        let install = (text("state") ?? "present") == "present"
        let backup = SystemModules.bool(args["backup"])
        let env = SystemModules.bool(args["env"])
        let insertAfter = text("insertafter")
        let insertBefore = text("insertbefore")
        var schedule = CronTab.Schedule()
        schedule.minute = text("minute") ?? "*"
        schedule.hour = text("hour") ?? "*"
        schedule.day = text("day") ?? "*"
        schedule.month = text("month") ?? "*"
        schedule.weekday = text("weekday") ?? "*"
        schedule.special = text("special_time")
        schedule.disabled = SystemModules.bool(args["disabled"])

        var warnings: [Value] = []
        if let cronFile {
            if cronFile == "/etc/crontab" { return FileModules.failure("Will not manage /etc/crontab via cron_file, see documentation.") }
            let base = (cronFile as NSString).lastPathComponent
            if base.isEmpty || !base.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }) {
                warnings.append(
                    .string(
                        "Filename portion of cron_file (\"\(base)\") should consist solely of upper- and lower-case letters, digits, underscores, and hyphens"
                    ))
            }
        }
        let path = cronFile.map { $0.hasPrefix("/") ? $0 : "/etc/cron.d/" + $0 }
        guard try await SystemModules.binPath("crontab", call) != nil else { return SystemModules.missingExecutable("crontab") }

        var crontab: CronTab
        if let path {
            let (bytes, _) = try await FileModules.readWhole(path, call)
            crontab = CronTab(fileText: bytes.map { String(decoding: $0, as: UTF8.self) })
        } else {
            let listed = try await call.host.shell(userCommand(user, "-l"))
            if listed.rc != 0, listed.rc != 1 { return FileModules.failure("Unable to read crontab", ["rc": .int(listed.rc)]) }
            crontab = try CronTab(listing: String(decoding: listed.stdout, as: UTF8.self))
        }
        let header: String = path ?? (user.map { "crontab for user \"\($0)\"" } ?? "crontab")
        var diff: Dict = ["before": .string(crontab.existing), "before_header": .string(header)]

        if schedule.mixesSpecialWithTimes { return FileModules.failure("You cannot combine special_time with any of the time or day/date parameters.") }
        if install {
            if cronFile != nil, user == nil { return FileModules.failure("To use cron_file=... parameter you must specify user=... as well") }
            guard job != nil else { return FileModules.failure("You must specify 'job' to install a new cron job or variable") }
            if insertAfter != nil || insertBefore != nil, !env {
                return FileModules.failure("Insertafter and insertbefore parameters are valid only with env=yes")
            }
        }
        let original = crontab.rendered

        var changed = false
        if env {
            if name.contains(" ") { return FileModules.failure("Invalid name for environment variable") }
            let declaration = "\(name)=\"\(job ?? "None")\""
            let old = try crontab.findEnv(name)
            if install {
                if old == nil {
                    if let missing = try crontab.addEnv(declaration, after: insertAfter, before: insertBefore) { return FileModules.failure(missing) }
                    changed = true
                } else if let old, !CronTab.same(old.line, declaration) {
                    try crontab.replaceEnv(name, with: declaration)
                    changed = true
                }
            } else if old != nil {
                try crontab.replaceEnv(name, with: nil)
                changed = true
            }
        } else if install, let job {
            // Ansible only warns, and writes a second line that crontab reads as another entry
            // (or refuses): a line break in a job is refused here.
            if CronTab.stripLineEnds(job).unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
                return FileModules.failure("job must not contain line breaks (a second line would be read as another cron entry)")
            }
            let line = CronTab.jobLine(job, schedule, user: user, inFile: path != nil)
            if let old = crontab.findJob(name, job: line) {
                if !CronTab.same(old.line, line) || old.adopted {
                    crontab.replaceJob(name, with: line)
                    changed = true
                }
            } else {
                crontab.addJob(name, line)
                changed = true
            }
        } else if crontab.findJob(name) != nil {
            crontab.replaceJob(name, with: nil)
            changed = true
            if let path, crontab.isEmpty {
                // The file has no line left: it is removed, not emptied.
                var result: Dict = ["cron_file": .string(cronFile ?? path), "state": "absent"]
                if call.diff {
                    diff["after"] = ""
                    diff["after_header"] = "/dev/null"
                    result["diff"] = .dict(diff)
                } else {
                    result["diff"] = .dict([:])
                }
                let removed = try await FileModules.one(.remove(path: path), call)
                result["changed"] = .bool(removed["failed"]?.truthy != true && removed["changed"]?.truthy == true)
                if !warnings.isEmpty { result["warnings"] = .list(warnings) }
                return .dict(result)
            }
        }
        if !changed, crontab.lacksFinalNewline { changed = true }

        var result: Dict = ["jobs": .list(crontab.jobNames.map { .string($0) }), "envs": .list(try crontab.envNames.map { .string($0) }), "changed": .bool(changed)]
        if changed {
            if backup, !call.check {
                let saved = try await call.host.shell(
                    "f=$(mktemp -p \"${TMPDIR:-/tmp}\" crontabXXXXXXXX) && cat > \"$f\" && printf %s \"$f\"", stdin: Array(original.utf8))
                guard saved.rc == 0 else { return FileModules.failure("cannot write the crontab's backup: \(String(decoding: saved.stderr, as: UTF8.self))") }
                result["backup_file"] = .string(String(decoding: saved.stdout, as: UTF8.self))
            }
            if !call.check, let failure = try await write(crontab.rendered, user: user, path: path) { return failure }
            if call.diff {
                diff["after"] = .string(crontab.rendered)
                diff["after_header"] = .string(header)
                result["diff"] = .dict(diff)
            }
        }
        if let cronFile { result["cron_file"] = .string(cronFile) }
        if !warnings.isEmpty { result["warnings"] = .list(warnings) }
        return .dict(result)
    }

    /// `crontab ARGS` for `user`: with `-u USER` only when it is not the user running, as
    /// Ansible's module asks (crontab refuses `-u` to anyone but root).
    func userCommand(_ user: String?, _ argument: String) -> String {
        let plain = "LC_ALL=C crontab " + argument
        guard let user else { return plain }
        let quoted = ShellQuote.quote(user)
        return "if [ \"$(id -un)\" = \(quoted) ]; then \(plain); else LC_ALL=C crontab -u \(quoted) \(argument); fi"
    }

    /// The new text: a cron file rewritten (its mode and owner kept; a new one 0644, as the
    /// module's umask 022 makes it), a user's crontab installed by crontab from its input.
    func write(_ text: String, user: String?, path: String?) async throws -> Value? {
        if let path {
            let existed = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
            let attributes = existed["exists"]?.truthy != true ? FsAttributes(mode: .text("0644")) : .unchanged
            let answer = try await FileModules.one(.write(path: path, content: Array(text.utf8), follow: true, attributes: attributes), call)
            if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "cannot write \(path)") }
            return nil
        }
        let installed = try await call.host.shell(userCommand(user, "-"), stdin: Array(text.utf8))
        guard installed.rc == 0 else {
            return FileModules.failure(
                "Failed to install new cronfile: -",
                [
                    "rc": .int(installed.rc), "stdout": .string(String(decoding: installed.stdout, as: UTF8.self)),
                    "stderr": .string(String(decoding: installed.stderr, as: UTF8.self)),
                ])
        }
        return nil
    }
}
