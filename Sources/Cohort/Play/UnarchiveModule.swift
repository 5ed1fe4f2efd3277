import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation
import Glibc

/// `unarchive` for tar archives (plain, gzip, bzip2, xz, zstd), as ansible-core 2.19's action
/// and module: the archive goes from the coordinator (or is on the host with `remote_src`),
/// GNU tar on the host lists it, `tar --diff` says whether `dest` already holds it, and only
/// then is it extracted; `mode`, `owner` and `group` are then set on every unpacked path and
/// the top folders. Zip archives are refused by name (Ansible needs unzip on the host).
struct UnarchiveModule {
    let args: Dict
    let call: ModuleCall

    init(_ args: Dict, _ call: ModuleCall) {
        self.args = args
        self.call = call
    }

    func string(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }
    func list(_ key: String) -> [String] {
        switch args[key] {
        case .list(let items)?: items.map(\.pythonString)
        case .string(let text)? where !text.isEmpty: text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        default: []
        }
    }

    func execute() async throws -> Value {
        if args["copy"] != nil, args["remote_src"] != nil { return FileModules.failure("parameters are mutually exclusive: ('copy', 'remote_src')") }
        let remote = args["copy"].flatMap(PlaybookLoader.boolean).map { !$0 } ?? SystemModules.bool(args["remote_src"])
        guard let src = string("src"), let dest = string("dest") else { return FileModules.failure("src (or content) and dest are required") }
        if !list("include").isEmpty, !list("exclude").isEmpty { return FileModules.failure("parameters are mutually exclusive: include|exclude") }
        if let creates = string("creates") {
            let found = try await FileModules.one(.stat(path: creates, follow: true, checksum: false), call, check: false)
            if found["exists"]?.truthy == true { return ["changed": false, "skipped": true, "msg": .string("skipped, since \(creates) exists")] }
        }
        var local: [UInt8]?
        if !remote {
            if src.contains("://") { return FileModules.failure("Unsupported option, an URI src (\(src)) is only supported when remote_src is True") }
            let path = string("_src_path") ?? (src as NSString).expandingTildeInPath
            guard let data = FileManager.default.contents(atPath: path) else { return FileModules.failure("Could not find or access '\(src)'") }
            local = Array(data)
        } else if src.contains("://") {
            return FileModules.failure("unarchive: a URL src is not supported by cohort play yet (no HTTP client in the worker)")
        }
        let folder = try await FileModules.one(.stat(path: dest, follow: true, checksum: false), call, check: false)
        guard folder["exists"]?.truthy == true, folder["isdir"]?.truthy == true else { return FileModules.failure("dest '\(dest)' must be an existing dir") }

        // The archive on the host: sent to a folder of its own, removed at the end.
        var archive = src
        var temporary: String?
        if let local {
            if local.isEmpty { return FileModules.failure("Invalid archive '\(src)', the file is 0 bytes") }
            if local.starts(with: [0x50, 0x4B]) { return Self.zipRefused(src) }
            if call.check { return Self.checkModeSkip }
            let made = try await call.host.shell("mktemp -d \"${TMPDIR:-/tmp}/cohort-unarchive.XXXXXXXX\"")
            guard made.rc == 0, let folder = Strings.lines(String(decoding: made.stdout, as: UTF8.self)).first else {
                return FileModules.failure("cannot make a temporary folder on the host: \(String(decoding: made.stderr, as: UTF8.self))")
            }
            temporary = folder
            archive = folder + "/source"
            let sent = try await FileModules.put(local, to: archive, ["mode": "0600"], call, source: nil)
            if sent.dict?["failed"]?.truthy == true {
                try await remove(folder)
                return sent
            }
        }
        do {
            let result = try await unpack(archive, to: dest)
            if let temporary { try await remove(temporary) }
            return result
        } catch {
            if let temporary { try? await remove(temporary) }
            throw error
        }
    }

    private func remove(_ folder: String) async throws { _ = try await call.host.shell("rm -rf -- " + ShellQuote.quote(folder)) }

    static func zipRefused(_ src: String) -> Value {
        FileModules.failure("unarchive: '\(src)' is a zip archive; only tar archives (plain, gzip, bzip2, xz, zstd) are supported by cohort play yet")
    }

    /// What Ansible's tar handlers answer in check mode (they do not support it).
    static let checkModeSkip: Value = ["changed": false, "skipped": true, "msg": "remote module (ansible.legacy.unarchive) does not support check mode when using gtar"]

    /// The archive `archive` (on the host) into `dest`.
    private func unpack(_ archive: String, to dest: String) async throws -> Value {
        let source = try await FileModules.one(.stat(path: archive, follow: true, checksum: false), call, check: false)
        guard source["exists"]?.truthy == true else { return FileModules.failure("Source '\(archive)' does not exist") }
        guard source["readable"]?.truthy == true else { return FileModules.failure("Source '\(archive)' not readable") }
        if source["size"] == .int(0) { return FileModules.failure("Invalid archive '\(archive)', the file is 0 bytes") }
        let zip = try await run("head -c 2 -- " + ShellQuote.quote(archive))
        if zip.out == "PK" { return Self.zipRefused(archive) }

        var options = TarArchive.Options(dest: dest, src: archive, flag: "")
        options.extraOptions = list("extra_opts")
        options.owner = string("owner")
        options.group = string("group")
        options.keepNewer = SystemModules.bool(args["keep_newer"])
        options.excludes = list("exclude").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        options.includes = list("include")
        let excludes = options.excludes
        let excluded = { (name: String) in excludes.contains { fnmatch($0, name, 0) == 0 } }

        // The first handler whose `tar --list` names a file, in Ansible's order.
        var handler: String?
        var names: [String] = []
        var reasons: [String] = []
        for (name, flag) in TarArchive.handlers {
            options.flag = flag
            let listed = try await run(TarArchive.command("list", options), in: dest)
            if listed.rc != 0 {
                reasons.append("Command \"tar\" could not handle archive: Unable to list files in the archive: \(listed.err)")
                continue
            }
            names = TarArchive.names(Array(listed.out.utf8), excluded: excluded)
            if names.isEmpty {
                reasons.append("Command \"tar\" found no files in archive. Empty archive files are not supported.")
                continue
            }
            handler = name
            break
        }
        guard let handler else {
            return FileModules.failure("Failed to find handler for \"\(archive)\". Make sure the required command to extract the file is installed.\n" + reasons.joined(separator: "\n"))
        }
        if call.check { return Self.checkModeSkip }

        var result: Dict = ["handler": .string(handler), "dest": .string(dest), "src": .string(archive)]
        let uid = Int(try await run("id -u").out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let diff = try await run(TarArchive.command("diff", options), in: dest)
        let differences = TarArchive.differences(
            out: diff.out, err: diff.err, runUID: uid, owner: options.owner != nil, group: options.group != nil, mode: args["mode"].map { $0 != .none } ?? false)
        var changed = false
        if !differences.isEmpty {
            let words = TarArchive.command("extract", options)
            let extracted = try await run(words, in: dest)
            result["extract_results"] = ["cmd": .list(words.map { .string($0) }), "rc": .int(extracted.rc), "out": .string(extracted.out), "err": .string(extracted.err)]
            if extracted.rc != 0 { return FileModules.failure("failed to unpack \(archive) to \(dest)", result) }
            changed = true
        }
        // mode, owner and group on every unpacked path, then on the top folders.
        let attributes = FileModules.attributes(args)
        if attributes != .unchanged {
            let paths = names.map { dest + "/" + $0 } + TarArchive.topFolders(names).map { dest + "/" + $0 }
            let ops: [FsOp] = paths.map { .attributes(path: $0, follow: false, attributes: attributes) }
            for answer in try await call.host.fs(ops, check: call.check) {
                if answer.dict?["failed"]?.truthy == true { return FileModules.failure(answer.dict?["msg"]?.pythonString ?? "cannot set attributes", result) }
                if answer.dict?["changed"]?.truthy == true { changed = true }
            }
        }
        result["changed"] = .bool(changed)
        if SystemModules.bool(args["list_files"]) { result["files"] = .list(names.map { .string($0) }) }
        // As the module's exit_json: the destination's own attributes.
        let after = try await FileModules.one(.stat(path: dest, follow: true, checksum: false), call, check: false)
        result["uid"] = after["uid"] ?? Value.none
        result["gid"] = after["gid"] ?? Value.none
        result["owner"] = after["pw_name"] ?? Value.none
        result["group"] = after["gr_name"] ?? Value.none
        result["mode"] = after["mode"] ?? Value.none
        result["state"] = "directory"
        result["size"] = after["size"] ?? Value.none
        return .dict(result)
    }

    /// A command on the host with the locale Ansible picks for output it parses.
    private func run(_ words: [String], in folder: String) async throws -> (rc: Int, out: String, err: String) {
        try await run("cd " + ShellQuote.quote(folder) + " && LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8 LANGUAGE=C.UTF-8 " + words.map(ShellQuote.quote).joined(separator: " "))
    }

    private func run(_ line: String) async throws -> (rc: Int, out: String, err: String) {
        let output = try await call.host.shell(line)
        return (output.rc, String(decoding: output.stdout, as: UTF8.self), String(decoding: output.stderr, as: UTF8.self))
    }
}
