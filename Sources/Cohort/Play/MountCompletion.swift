import CohortCore
import CohortTemplate
import Foundation

/// What the `mounts` fact needs from `findmnt` and `lsblk` on the host, added to what the
/// worker read (`MountFacts`), as Ansible's Linux hardware facts add it: `,bind` on a bind
/// mount's options (findmnt's SOURCE holds `[…]`), each device's UUID from lsblk (else "N/A").
enum MountCompletion {
    static let script =
        "findmnt --list --noheadings --notruncate 2>/dev/null; printf '\\036'; lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null; true"

    /// The facts of `link`'s host: the worker's, then the mounts completed.
    static func facts(_ link: any PlayHostLink) async throws -> Value {
        let answer = try await link.fs([["op": "facts"]], check: false).first ?? .dict(Dict())
        guard case .dict(var facts) = answer, case .list? = facts["mounts"] else { return answer }
        let output = try await link.shell("LC_ALL=C; export LC_ALL; " + script)
        let parts = String(decoding: output.stdout, as: UTF8.self).split(separator: "\u{1E}", maxSplits: 1, omittingEmptySubsequences: false)
        facts["mounts"] = complete(facts["mounts"]!, findmnt: String(parts.first ?? ""), lsblk: parts.count > 1 ? String(parts[1]) : "")
        return .dict(facts)
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
