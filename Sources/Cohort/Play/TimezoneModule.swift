import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// `timezone` (community.general.timezone, collection 12.3.0) on a Linux host without
/// systemd, Debian's way (`NosystemdTimezone`): /etc/timezone edited as the module edits it,
/// /etc/localtime linked to the zone file and `dpkg-reconfigure tzdata` run; `hwclock` from
/// /etc/default/rcS and /etc/adjtime, set with `hwclock --systohc`. Its checks before and
/// after, its messages, `diff` and check mode. A host where `timedatectl` answers (systemd)
/// or without dpkg-reconfigure fails by name.
enum TimezoneModule {
    /// What the module reads on the host, in one round trip.
    struct Host {
        var systemd = false
        var hwclock = "", reconfigure = "", ln = ""
        var zoneFileExists = false
        var files: [String: FileState] = [:]
        var localtime = "none"
        var linkResolves = false
        var linkTarget = ""
        var sameAsZoneFile = false
    }

    /// A file not there is allowed (the module's `allow_no_file`); one there that cannot be
    /// read aborts.
    enum FileState { case missing, unreadable, text(String) }
    struct Abort: Error { var message: String }

    static let timezoneFile = "/etc/timezone", rcS = "/etc/default/rcS", adjtime = "/etc/adjtime"

    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func text(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }
        let name = text("name"), hwclock = text("hwclock")
        guard name != nil || hwclock != nil else { return FileModules.failure("one of the following is required: hwclock, name") }
        // The module's keys in its argument spec's order.
        let planned: [(key: String, value: String)] = [("hwclock", hwclock), ("name", name)].compactMap { pair in pair.1.map { (pair.0, $0) } }
        var messages: [String] = []
        func abort(_ message: String) -> Value {
            FileModules.failure((["Error message:", message] + (messages.isEmpty ? [] : ["Other message(s):"] + messages)).joined(separator: "\n"))
        }
        let tzfile = "/usr/share/zoneinfo/" + (name ?? "")
        let first = try await probe(zone: tzfile, call)
        if first.systemd { return FileModules.failure("Cohort's timezone does not drive systemd's timedatectl yet") }
        if let name, !first.zoneFileExists { return abort("given timezone \"\(name)\" is not available") }
        guard !first.hwclock.isEmpty else { return SystemModules.missingExecutable("hwclock") }
        guard !first.reconfigure.isEmpty else {
            return FileModules.failure("Cohort's timezone has Debian's way only (dpkg-reconfigure tzdata); this host has no dpkg-reconfigure")
        }
        if name != nil, first.ln.isEmpty { return SystemModules.missingExecutable("ln") }

        func values(_ host: Host, phase: String) throws(Abort) -> [String] {
            try planned.map { (key, wanted) throws(Abort) in try value(key, wanted: wanted, host: host, phase: phase) }
        }
        func diff(_ a: [String], _ b: [String]) -> Value {
            var before = Dict(), after = Dict()
            for (i, item) in planned.enumerated() {
                before[item.key] = .string(a[i])
                after[item.key] = .string(b[i])
            }
            return ["before": .dict(before), "after": .dict(after)]
        }
        let wanted = planned.map(\.value)
        let before: [String]
        do { before = try values(first, phase: "before") } catch { return abort(error.message) }
        if call.check {
            return ["changed": .bool(before != wanted), "diff": diff(before, wanted)]
        }
        for (i, item) in planned.enumerated() where before[i] != item.value {
            let file = item.key == "name" ? timezoneFile : rcS
            let line = item.key == "name" ? item.value + "\n" : "UTC=\(item.value == "local" ? "no" : "yes")\n"
            let current: String
            switch first.files[file] ?? .missing {
            case .missing: current = ""
            case .unreadable: return abort("tried to configure \(item.key) using a file \"\(file)\", but could not read it")
            case .text(let text): current = text
            }
            let edited: (text: String, deleted: Int)
            do { edited = try TimezoneConfig.edit(current, key: item.key == "name" ? .name : .hwclock, line: line) } catch { return abort(error.message) }
            let written = try await call.host.shell("cat > " + ShellQuote.quote(file), stdin: Array(edited.text.utf8))
            if written.rc != 0 { return abort("tried to configure \(item.key) using a file \"\(file)\", but could not write to it") }
            messages.append("Added 1 line and deleted \(edited.deleted) line(s) on \(file)")
            let commands = item.key == "name"
                ? [[first.ln, "-sf", tzfile, "/etc/localtime"], [first.reconfigure, "--frontend", "noninteractive", "tzdata"]]
                : [[first.hwclock, "--systohc", item.value == "local" ? "--localtime" : "--utc"]]
            for argv in commands {
                if let failed = try await SystemModules.runChecked(argv, call) { return failed }
                if item.key == "hwclock" { messages.append("executed `\(argv.joined(separator: " "))`") }
            }
        }
        let after: [String]
        let second = try await probe(zone: tzfile, call)
        do { after = try values(second, phase: "after") } catch { return abort(error.message) }
        if after != wanted {
            func repr(_ v: [String]) -> String {
                "{" + planned.enumerated().map { "\(Value.string($0.element.key).pythonRepr): \(Value.string(v[$0.offset]).pythonRepr)" }.joined(separator: ", ") + "}"
            }
            return abort("still not desired state, though changes have made - planned: \(repr(wanted)), after: \(repr(after))")
        }
        var result: Dict = ["changed": .bool(before != after), "diff": diff(before, after)]
        if !messages.isEmpty { result["msg"] = .string(messages.joined(separator: "\n")) }
        return .dict(result)
    }

    /// `get(key, phase)` of `NosystemdTimezone`.
    static func value(_ key: String, wanted: String, host: Host, phase: String) throws(Abort) -> String {
        func fromConfig(_ key: String) throws(Abort) -> String {
            let file = key == "name" ? timezoneFile : key == "hwclock" ? rcS : adjtime
            let text: String
            switch host.files[file] ?? .missing {
            case .missing: return key == "adjtime" ? "UTC" : "n/a"
            case .unreadable: throw Abort(message: "tried to configure \(key) using a file \"\(file)\", but could not read it")
            case .text(let read): text = read
            }
            let found: String?
            do { found = try TimezoneConfig.value(key == "name" ? .name : key == "hwclock" ? .hwclock : .adjtime, in: text) } catch { throw Abort(message: error.message) }
            guard let found else {
                if key == "name", phase != "before" {
                    throw Abort(message: "tried to configure \(key) using a file \"\(file)\", but could not find a valid value in it")
                }
                return key == "adjtime" ? "UTC" : "n/a"
            }
            switch key {
            case "hwclock":
                guard let utc = PlaybookLoader.boolean(.string(found)) else {
                    throw Abort(message: "The value '\(found)' is not a valid boolean.  Valid booleans include: 0, 'on', 'f', 'false', 1, 'no', 'n', '1', '0', 't', 'y', 'off', 'yes', 'true'")
                }
                return utc ? "UTC" : "local"
            case "adjtime": return found == "UTC" ? found : found.lowercased()
            default: return found
            }
        }
        if key == "hwclock" {
            let value = try fromConfig("hwclock")
            return value == wanted ? try fromConfig("adjtime") : value
        }
        let value = try fromConfig("name")
        guard value == wanted else { return value }
        switch host.localtime {
        case "link":
            guard host.linkResolves else { return "n/a" }
            let zone: String?
            do { zone = try TimezoneConfig.zone(ofLinkTarget: host.linkTarget) } catch { throw Abort(message: error.message) }
            guard let zone else { return "n/a" }
            return zone != wanted ? zone : value
        default:
            return host.sameAsZoneFile ? value : "n/a"
        }
    }

    /// One shell script: the tools, the three files (base64; `-` missing, `!` unreadable),
    /// and what /etc/localtime is.
    static func probe(zone tzfile: String, _ call: ModuleCall) async throws -> Host {
        let q = ShellQuote.quote(tzfile)
        let script = """
            if command -v timedatectl >/dev/null 2>&1 && timedatectl >/dev/null 2>&1; then echo systemd; else echo; fi
            command -v hwclock || echo; command -v dpkg-reconfigure || echo; command -v ln || echo
            if [ -f \(q) ]; then echo 1; else echo 0; fi
            for f in \(timezoneFile) \(rcS) \(adjtime); do
              if [ -e "$f" ]; then { base64 -w0 < "$f" && echo; } 2>/dev/null || echo '!'; else echo -; fi
            done
            if [ -L /etc/localtime ]; then echo link; elif [ -e /etc/localtime ]; then echo file; else echo none; fi
            if [ -e /etc/localtime ]; then echo 1; else echo 0; fi
            readlink /etc/localtime | base64 -w0; echo
            if cmp -s /etc/localtime \(q) 2>/dev/null; then echo same; else echo differ; fi
            """
        let output = try await call.host.shell("LC_ALL=C; export LC_ALL\n" + script)
        let lines = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) + Array(repeating: "", count: 13)
        var host = Host()
        host.systemd = lines[0] == "systemd"
        (host.hwclock, host.reconfigure, host.ln) = (lines[1], lines[2], lines[3])
        host.zoneFileExists = lines[4] == "1"
        for (i, file) in [timezoneFile, rcS, adjtime].enumerated() {
            let line = lines[5 + i]
            host.files[file] = line == "-" ? .missing : line == "!" ? .unreadable : .text(PythonText.text(Data(base64Encoded: line).map { Array($0) } ?? []))
        }
        host.localtime = lines[8]
        host.linkResolves = lines[9] == "1"
        host.linkTarget = String(decoding: Data(base64Encoded: lines[10]) ?? Data(), as: UTF8.self)
        host.sameAsZoneFile = lines[11] == "same"
        return host
    }
}
