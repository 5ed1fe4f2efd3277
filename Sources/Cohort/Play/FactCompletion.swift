import CohortCore
import CohortTemplate
import CohortWire
import Foundation

/// The facts the worker cannot read itself, from commands on the host in one shell round
/// trip per gather, as Ansible's collectors run them: `findmnt` and `lsblk` complete the
/// `mounts` the worker read (`MountFacts`): `,bind` on a bind mount's options (findmnt's
/// SOURCE holds `[…]`), each device's UUID from lsblk (else "N/A"); `lsb_release -a` (else
/// /etc/lsb-release) gives `lsb`; `ip route show table local` gives `locally_reachable_ips`
/// where the worker found `ip` (Ansible collects no network facts without it).
enum FactCompletion {
    /// Its parts are separated by \036 (no command prints one): findmnt, lsblk, whether
    /// lsb_release ran and its exit status, its output, /etc/lsb-release, then the exit
    /// status and output of `ip -4` and of `ip -6 route show table local`.
    static let script =
        "findmnt --list --noheadings --notruncate 2>/dev/null; printf '\\036'; lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null; printf '\\036'; "
        + "if command -v lsb_release >/dev/null 2>&1; then out=$(lsb_release -a 2>/dev/null); printf '%s\\036%s' $? \"$out\"; else printf 'none\\036'; fi; "
        + "printf '\\036'; cat /etc/lsb-release 2>/dev/null; PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin; "
        + "for v in 4 6; do out=$(ip -$v route show table local 2>/dev/null); printf '\\036%s\\036%s' $? \"$out\"; done; true"

    /// The facts of `link`'s host: the worker's, then the mounts and lsb completed.
    static func facts(_ link: any PlayHostLink) async throws -> Value {
        let answer = try await link.fs([.facts], check: false).first ?? .dict(Dict())
        guard case .dict(var facts) = answer, case .list? = facts["mounts"] else { return answer }
        let output = try await link.shell("LC_ALL=C; export LC_ALL; " + script)
        let parts = String(decoding: output.stdout, as: UTF8.self).split(separator: "\u{1E}", omittingEmptySubsequences: false).map(String.init)
        func part(_ index: Int) -> String { index < parts.count ? parts[index] : "" }
        facts["mounts"] = complete(facts["mounts"]!, findmnt: part(0), lsblk: part(1))
        facts["lsb"] = lsb(release: part(2) == "0" ? part(3) : nil, file: part(4))
        if facts["interfaces"] != nil {
            facts["locally_reachable_ips"] = locallyReachable([part(5) == "0" ? part(6) : "", part(7) == "0" ? part(8) : ""])
        }
        return .dict(facts)
    }

    /// Ansible's `locally_reachable_ips`: the second word of every `local` route of the
    /// local tables, once each, by family (a `:` makes it IPv6), in the routes' order.
    static func locallyReachable(_ tables: [String]) -> Value {
        var v4: [Value] = [], v6: [Value] = []
        for table in tables {
            for line in Strings.lines(table) {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard words.count >= 2, words[0] == "local" else { continue }
                let address = Value.string(String(words[1]))
                if words[1].contains(":") {
                    if !v6.contains(address) { v6.append(address) }
                } else if !v4.contains(address) {
                    v4.append(address)
                }
            }
        }
        return .dict(["ipv4": .list(v4), "ipv6": .list(v6)])
    }

    /// Ansible's `lsb` fact: `lsb_release -a`'s lines when it ran and exited 0, else
    /// /etc/lsb-release's `DISTRIB_*` lines; `major_release` from `release`; quotes and
    /// backslashes stripped from both ends of each value.
    static func lsb(release: String?, file: String) -> Value {
        var out = Dict()
        func strip(_ text: String) -> String { Strings.strip(text, nil, leading: true, trailing: true) }
        if let release {
            for line in Strings.lines(release) where line.contains(":") {
                let value = strip(String(line[line.index(after: line.firstIndex(of: ":")!)...]))
                if line.contains("LSB Version:") { out["release"] = .string(value) }
                else if line.contains("Distributor ID:") { out["id"] = .string(value) }
                else if line.contains("Description:") { out["description"] = .string(value) }
                else if line.contains("Release:") { out["release"] = .string(value) }
                else if line.contains("Codename:") { out["codename"] = .string(value) }
            }
        }
        if out.isEmpty {
            for line in Strings.lines(file) {
                // Ansible's split would raise on a line without `=`; such a line is passed over.
                guard let equals = line.firstIndex(of: "=") else { continue }
                let value = strip(String(line[line.index(after: equals)...]))
                if line.contains("DISTRIB_ID") { out["id"] = .string(value) }
                else if line.contains("DISTRIB_RELEASE") { out["release"] = .string(value) }
                else if line.contains("DISTRIB_DESCRIPTION") { out["description"] = .string(value) }
                else if line.contains("DISTRIB_CODENAME") { out["codename"] = .string(value) }
            }
        }
        if case .string(let release)? = out["release"] { out["major_release"] = .string(String(release.split(separator: ".", omittingEmptySubsequences: false).first ?? "")) }
        let quotes: Set<Character> = ["'", "\"", "\\"]
        for (key, value) in out.pairs {
            if case .string(let text) = value, !text.isEmpty { out[key] = .string(Strings.strip(text, quotes, leading: true, trailing: true)) }
        }
        return .dict(out)
    }

    static func complete(_ mounts: Value, findmnt: String, lsblk: String) -> Value {
        guard case .list(let list) = mounts else { return mounts }
        var binds: Set<String> = []
        for line in findmnt.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count >= 2, fields[1].contains("]") { binds.insert(String(fields[0])) }
        }
        var uuids: [String: String] = [:]
        for line in lsblk.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2 else { continue }
            let device = fields.dropLast().joined(separator: " ")
            if uuids[device] == nil { uuids[device] = String(fields[fields.count - 1]) }
        }
        return .list(list.map { entry in
            guard case .dict(var info) = entry else { return entry }
            let options = info["options"]?.pythonString ?? ""
            // Ansible's `.*bind.*"`: an mtab that already says bind (and a quote after it).
            if let mount = info["mount"]?.pythonString, binds.contains(mount),
                !(options.range(of: "bind").map { options[$0.upperBound...].contains("\"") } ?? false)
            {
                info["options"] = .string(options + ",bind")
            }
            if let device = info["device"]?.pythonString, let uuid = uuids[device], !uuid.isEmpty { info["uuid"] = .string(uuid) }
            return .dict(info)
        })
    }
}
