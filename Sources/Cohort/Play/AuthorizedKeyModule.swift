import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `authorized_key` (ansible.posix, also by its short name): the user's keys file read on
/// the host, edited as the module edits it (AuthorizedKeys), written atomically (0600, the
/// user's) with `.ssh` made 0700 and the user's when `manage_dir`; results the module's
/// parameters with `keyfile`, `changed` and the diff.
enum AuthorizedKeyModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func text(_ name: String) -> String? { args[name].flatMap { $0 == .none ? nil : $0.pythonString } }
        func flag(_ name: String, _ fallback: Bool) -> Bool { args[name].flatMap { $0 == .none ? nil : PlaybookLoader.boolean($0) } ?? fallback }
        let user = text("user") ?? "", path = text("path")
        var key = text("key") ?? ""
        let present = (text("state") ?? "present") == "present"
        let manageDir = flag("manage_dir", true), follow = flag("follow", false), exclusive = flag("exclusive", false)
        var result: Dict = [
            "user": .string(user), "key": .string(key), "path": path.map { .string($0) } ?? Value.none, "manage_dir": .bool(manageDir),
            "state": .string(present ? "present" : "absent"), "key_options": text("key_options").map { .string($0) } ?? Value.none,
            "exclusive": .bool(exclusive), "comment": text("comment").map { .string($0) } ?? Value.none,
            "validate_certs": .bool(flag("validate_certs", true)), "follow": .bool(follow),
        ]
        if key.hasPrefix("http") { return FileModules.failure("Cohort's authorized_key takes keys as text or a file: URL; fetching a key from \(key) is not supported yet") }
        if key.hasPrefix("file") {
            let keyPath = URLComponents(string: key)?.path ?? String(key.dropFirst(5))
            let read = try await SystemModules.run(["sh", "-c", "if [ ! -e \"$1\" ]; then exit 3; elif [ ! -f \"$1\" ]; then exit 4; else cat -- \"$1\"; fi", "sh", keyPath], call)
            if read.rc == 3 { return FileModules.failure("Path to a key file not found: \(keyPath)") }
            if read.rc == 4 { return FileModules.failure("Path to a key is a directory and must be a file: \(keyPath)") }
            if read.rc != 0 { return FileModules.failure("Failed to read key file \(keyPath) : \(read.err)") }
            key = read.out
        }

        // The user's home, uid and gid (pwd.getpwnam); a path in check mode needs no user.
        var entry: [String]?
        if !(call.check && path != nil) {
            let found = try await SystemModules.run(["getent", "passwd", user], call)
            entry = found.rc == 0 ? found.out.trimmingCharacters(in: .newlines).components(separatedBy: ":") : nil
            if entry == nil || entry!.count < 7 {
                if call.check, path == nil { return FileModules.failure("Either user must exist or you must provide full path to key file in check mode") }
                return FileModules.failure("Failed to lookup user \(user): \"getpwnam(): name not found: '\(user)'\"")
            }
        }
        let sshDirectory = path.map { ($0 as NSString).deletingLastPathComponent } ?? ((entry?[5] ?? "") as NSString).appendingPathComponent(".ssh")
        var keyFile = path ?? (sshDirectory as NSString).appendingPathComponent("authorized_keys")
        result["keyfile"] = .string(keyFile)
        let existing = try await SystemModules.run(["sh", "-c", "[ -f \"$1\" ] && cat -- \"$1\"; true", "sh", keyFile], call).out

        let edited: String?
        do {
            edited = try AuthorizedKeys.edit(existing: existing, key: key, present: present, keyOptions: text("key_options"), comment: text("comment"), exclusive: exclusive)
        } catch AuthorizedKeys.EditError.invalidKey(let line) {
            return FileModules.failure("invalid key specified: \(line)")
        }
        guard let edited else { return .dict(path == nil ? result : try await FileModules.withPathInfo(result, path!, call)) }

        if follow { keyFile = try await SystemModules.run(["realpath", "-m", "--", keyFile], call).out.trimmingCharacters(in: .newlines) }
        if !call.check, let entry {
            // keyfile(write=True): .ssh made and owned, the file touched and made 0600, the user's.
            let owner = "\(entry[2]):\(entry[3])"
            var script = "set -e\n"
            if manageDir {
                script += "[ -e \"$1\" ] || mkdir -m 0700 -- \"$1\"\nchown \(owner) -- \"$1\"\nchmod 0700 -- \"$1\"\n"
            }
            script += "if [ ! -e \"$2\" ]; then mkdir -p -- \"$(dirname -- \"$2\")\"; : > \"$2\"; fi\nchown \(owner) -- \"$2\" 2>/dev/null && chmod 0600 -- \"$2\" 2>/dev/null || true\n"
            let prepared = try await SystemModules.run(["sh", "-c", script, "sh", sshDirectory, keyFile], call)
            if prepared.rc != 0 { return FileModules.failure("Failed to create directory \(sshDirectory) : \(prepared.err.trimmingCharacters(in: .newlines))") }
            let written = try await FileModules.one(.write(path: keyFile, content: Array(edited.utf8)), call)
            if written["failed"]?.truthy == true { return .dict(written) }
        }
        if call.diff {
            result["diff"] = ["before_header": result["keyfile"]!, "after_header": .string(keyFile), "before": .string(existing), "after": .string(edited)]
        }
        result["changed"] = true
        // exit_json's path info, for a result whose `path` was given.
        if let path { return .dict(try await FileModules.withPathInfo(result, path, call)) }
        return .dict(result)
    }
}
