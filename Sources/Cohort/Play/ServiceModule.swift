import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `service` on a host with SysV init scripts, as ansible-core 2.19's `LinuxService` drives
/// them: `service NAME ACTION` (or the script itself), enabled read from /etc/rc?.d/S??NAME
/// links and changed with `update-rc.d`, running from the status command's exit code and its
/// one-line answer (or `ps auxww` against `pattern`). A host managed by systemd, upstart or
/// OpenRC fails by name: Cohort does not drive those yet.
enum ServiceModule {
    struct Tools {
        var service: String?
        var updateRcD: String?
        var initScript: String?
        var systemd: Bool
        var otherManager: String?
    }

    static func tools(_ name: String, _ call: ModuleCall) async throws -> Tools {
        let quoted = ShellQuote.quote(name)
        let output = try await call.host.shell("""
            PATH="$PATH:/sbin:/usr/sbin:/bin:/usr/bin"
            command -v service || echo; command -v update-rc.d || echo
            if [ -f /etc/init.d/\(quoted) ]; then echo /etc/init.d/\(quoted); else echo; fi
            if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then echo systemd
            elif command -v initctl >/dev/null && [ -e /etc/init/\(quoted).conf ]; then echo upstart
            elif command -v rc-service >/dev/null; then echo openrc
            elif command -v insserv >/dev/null || command -v chkconfig >/dev/null; then echo insserv-or-chkconfig
            else echo; fi
            """)
        let lines = Strings.lines(String(decoding: output.stdout, as: UTF8.self)) + ["", "", "", ""]
        let manager = lines[3]
        return Tools(service: lines[0].isEmpty ? nil : lines[0], updateRcD: lines[1].isEmpty ? nil : lines[1],
                     initScript: lines[2].isEmpty ? nil : lines[2], systemd: manager == "systemd",
                     otherManager: manager.isEmpty || manager == "systemd" ? nil : manager)
    }

    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let name = args["name"]?.pythonString ?? ""
        let state = args["state"].flatMap { $0 == .none ? nil : $0.pythonString }
        let enabled = args["enabled"].flatMap { $0 == .none ? nil : PlaybookLoader.boolean($0) }
        let pattern = args["pattern"].flatMap { $0 == .none ? nil : $0.pythonString }
        let sleep = try SystemModules.int(args["sleep"], "sleep") ?? 0
        guard (0...86_400).contains(sleep) else { return FileModules.failure("sleep: \(sleep) is outside 0 to 86400 seconds") }
        let extra: [String]
        do { extra = try Shlex.split(args["arguments"]?.pythonString ?? "") } catch { return FileModules.failure("arguments: \(error)") }
        if let use = args["use"]?.pythonString, use != "auto", use != "service" {
            return FileModules.failure("Cohort's service drives SysV init scripts; use: \(use) is not supported")
        }
        if state == nil, enabled == nil { return FileModules.failure("one of the following is required: state, enabled") }

        let tools = try await tools(name, call)
        if tools.systemd { return FileModules.failure("Cohort's service drives SysV init scripts; this host runs systemd, which it does not drive yet") }
        if let other = tools.otherManager, other != "insserv-or-chkconfig" {
            return FileModules.failure("Cohort's service drives SysV init scripts with update-rc.d; this host's \(other) is not driven yet")
        }
        // ansible-core: without a tool to enable it, the service is not there.
        guard tools.initScript != nil else { return FileModules.failure("Could not find the requested service \(name): host") }
        guard let updateRcD = tools.updateRcD else {
            return FileModules.failure("Cohort's service enables SysV scripts with update-rc.d, which this host lacks")
        }

        var result: Dict = ["name": .string(name)]
        var changed = false
        if let enabled {
            let links = try await call.host.shell("for l in /etc/rc?.d/S??\(ShellQuote.quote(name)) /etc/rc?.d/K??\(ShellQuote.quote(name)); do [ -e \"$l\" ] || [ -L \"$l\" ] && echo \"$l\"; done; true")
            let found = Strings.lines(String(decoding: links.stdout, as: UTF8.self))
            let isEnabled = found.contains { ($0 as NSString).lastPathComponent.hasPrefix("S") }
            let hasKill = found.contains { ($0 as NSString).lastPathComponent.hasPrefix("K") }
            if enabled != isEnabled {
                changed = true
                if !call.check {
                    if enabled, !hasKill, let failure = try await rcd([updateRcD, name, "defaults"], call) { return failure }
                    if let failure = try await rcd([updateRcD, name, enabled ? "enable" : "disable"], call) { return failure }
                }
            }
            result["enabled"] = .bool(enabled)
        }
        guard let state else {
            result["changed"] = .bool(changed)
            return .dict(result)
        }
        result["state"] = .string(state)

        func control(_ action: String) async throws -> (rc: Int, out: String, err: String) {
            let argv = (tools.service.map { [$0, name] } ?? [tools.initScript!]) + [action] + extra
            return try await daemonized(argv, call)
        }
        var running: Bool?
        if let pattern {
            let ps = try await SystemModules.run(["ps", "auxww"], call)
            if ps.rc == 0 { running = ps.out.split(separator: "\n").contains { $0.contains(pattern) && !$0.contains("pattern=") } }
        } else {
            running = try await status(name, control("status"))
        }
        if running == nil { return FileModules.failure("failed determining service state, possible typo of service name?") }
        let isRunning = running ?? false
        let change = (!isRunning && (state == "reloaded" || state == "started")) || (isRunning && (state == "reloaded" || state == "stopped")) || state == "restarted"
        if call.check, change { return ["changed": true, "msg": "service state changed"] }
        if change {
            let outcome: (rc: Int, out: String, err: String)
            switch state {
            case "restarted":
                let stop = try await control("stop")
                if sleep > 0 { try await Task.sleep(for: .seconds(sleep)) }
                let start = try await control("start")
                outcome = stop.rc != 0 && start.rc == 0 ? start : (stop.rc + start.rc, stop.out + start.out, stop.err + start.err)
            case "reloaded": outcome = try await control(isRunning ? "reload" : "start")
            default: outcome = try await control(state == "started" ? "start" : "stop")
            }
            if outcome.rc != 0, !outcome.err.contains("Job is already running") {
                return FileModules.failure(outcome.err.isEmpty ? outcome.out : outcome.err)
            }
        }
        result["changed"] = .bool(changed || change)
        result["state"] = .string(state == "stopped" ? "stopped" : "started")
        return .dict(result)
    }

    /// `update-rc.d`; its error (or its output) as the module's failure.
    static func rcd(_ argv: [String], _ call: ModuleCall) async throws -> Value? {
        let ran = try await SystemModules.run(argv, call)
        guard ran.rc != 0 else { return nil }
        return FileModules.failure(ran.err.isEmpty ? ran.out : ran.err)
    }

    /// A service command whose daemon must not keep the worker's pipes: its output goes
    /// through files the shell reads back once the command itself has ended (ansible-core
    /// daemonizes it for the same reason).
    static func daemonized(_ argv: [String], _ call: ModuleCall) async throws -> (rc: Int, out: String, err: String) {
        let command = argv.map(ShellQuote.quote).joined(separator: " ")
        let output = try await call.host.shell("""
            o=$(mktemp) && e=$(mktemp) || exit 125
            (cd / && exec setsid \(command) </dev/null >"$o" 2>"$e"); rc=$?
            cat "$o"; cat "$e" >&2; rm -f "$o" "$e"; exit $rc
            """)
        return (output.rc, String(decoding: output.stdout, as: UTF8.self), String(decoding: output.stderr, as: UTF8.self))
    }

    /// `get_service_status` for a SysV script: an LSB "not running" exit code, else the one
    /// line of output's words, else exit 0 as running.
    static func status(_ name: String, _ answer: (rc: Int, out: String, err: String)) -> Bool? {
        if [1, 2, 3, 4, 69].contains(answer.rc) { return false }
        if answer.out.utf8.filter({ $0 == 10 }).count <= 1 {
            let clean = answer.out.lowercased().replacingOccurrences(of: name.lowercased(), with: "")
            if clean.contains("stop") { return false }
            if clean.contains("run") { return !clean.contains("not ") }
            if clean.contains("start"), !clean.contains("not ") { return true }
            for dead in ["could not access pid file", "is dead and pid file exists", "dead but subsys locked", "dead but pid file exists"] where clean.contains(dead) {
                return false
            }
        }
        if answer.rc == 0 { return true }
        if name == "iptables", answer.out.contains("ACCEPT") { return true }
        return nil
    }
}

/// `service_facts` on a host with SysV init scripts: `service --status-all` read as
/// ansible-core's `ServiceScanService` reads it (`[ + ]` running, `[ - ]` stopped, `[ ? ]`
/// left out), the `services` fact. Under systemd, upstart, chkconfig or OpenRC it fails by
/// name (Cohort does not read those yet).
enum ServiceFactsModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let probe = try await call.host.shell("""
            if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then echo systemd
            elif command -v chkconfig >/dev/null; then echo chkconfig
            elif command -v rc-status >/dev/null; then echo openrc
            elif command -v initctl >/dev/null; then echo upstart
            elif command -v service >/dev/null; then echo service
            else echo; fi
            """)
        let manager = String(decoding: probe.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !manager.isEmpty, manager != "service" {
            return FileModules.failure("Cohort's service_facts reads SysV init scripts (service --status-all); this host's \(manager) is not read yet")
        }
        var services = Dict()
        var warnings: [Value] = []
        if manager == "service" {
            let listed = try await call.host.shell("LANG=C.UTF-8 LC_ALL=C.UTF-8 service --status-all")
            let out = String(decoding: listed.stdout, as: UTF8.self)
            if listed.rc != 0 {
                warnings.append(.string("Unable to query 'service' tool (\(listed.rc)): \(String(decoding: listed.stderr, as: UTF8.self))"))
            }
            for (state, name) in ServiceStatusList.parse(out) {
                services[name] = ["name": .string(name), "state": .string(state), "source": "sysv"]
            }
        }
        var result: Dict = services.isEmpty
            ? ["changed": false, "skipped": true, "msg": "Failed to find any services. This can be due to privileges or some other configuration issue."]
            : ["changed": false, "ansible_facts": ["services": .dict(services)]]
        if !warnings.isEmpty { result["warnings"] = .list(warnings) }
        return .dict(result)
    }
}
