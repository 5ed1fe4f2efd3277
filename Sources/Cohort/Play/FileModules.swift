import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortVault
import CohortWire
import Foundation

/// What a module needs of the run: the host, the task's mode switches and environment, and
/// the scope its templates are rendered in (for `template`).
struct ModuleCall: Sendable {
    var host: any PlayHostLink
    var check: Bool
    var diff: Bool
    var environment: Dict
    var scope: Scope
}

/// `copy`, `template`, `file`, `lineinfile`, `stat`, `slurp`: their logic here, their file
/// work in the worker's `fs` primitives (atomic writes, modes, owners).
enum FileModules {
    static func failure(_ message: String, _ extra: Dict = Dict()) -> Value {
        var out = extra
        out["failed"] = true
        out["changed"] = false
        out["msg"] = .string(message)
        return .dict(out)
    }

    /// Above this a file's bytes travel through the streaming `file.put` kind, or are read in
    /// pieces, rather than inside one fs request or answer (a frame holds at most 16 MiB; a
    /// read's answer carries base64 inside JSON).
    static let inlineLimit = 8 << 20

    /// A big `copy`/`template`: streamed with flow control, landed atomically by the worker
    /// (fsync, rename), skipped when the SHA-256 already matches. The file it replaces keeps
    /// its mode, owner and group unless others are asked for; an octal mode only, no backup.
    static func putStreamed(_ bytes: [UInt8], to dest: String, found: Dict, _ args: Dict, _ call: ModuleCall, source: String?) async throws -> Value {
        let checksum = Insecure_SHA1.hex(bytes)
        var result: Dict = ["dest": .string(dest), "checksum": .string(checksum), "size": .int(bytes.count)]
        if let source { result["src"] = .string(source) }
        if args["backup"].flatMap(PlaybookLoader.boolean) == true {
            return failure("backup is not supported for a file over \(inlineLimit) bytes")
        }
        let existed = found["exists"]?.truthy == true
        var mode: UInt32 = existed ? UInt32(found["mode"]?.pythonString ?? "", radix: 8) ?? 0o644 : 0o644
        switch args["mode"] {
        case nil, .none?: break
        case .int(let n)? where (0...0o7777).contains(n): mode = UInt32(n)
        case .string(let text)? where text.allSatisfy({ ("0"..."7").contains($0) }) && UInt32(text, radix: 8).map({ $0 <= 0o7777 }) == true:
            mode = UInt32(text, radix: 8)!
        default: return failure("mode: only an octal mode is supported for a file over \(inlineLimit) bytes")
        }
        let owner = args["owner"]?.pythonString ?? (existed ? found["uid"]?.pythonString ?? "" : "")
        let group = args["group"]?.pythonString ?? (existed ? found["gid"]?.pythonString ?? "" : "")
        if call.check {
            let current = existed ? try await one(.stat(path: dest, follow: true), call, check: false) : Dict()
            result["changed"] = .bool(current["checksum"]?.pythonString != checksum)
            return .dict(result)
        }
        let request = PutRequest(
            path: dest, entry: FileEntry(components: [], kind: .file, mode: mode, size: UInt64(bytes.count)), sha256: FileDigest.sha256(of: bytes),
            owner: owner, group: group)
        let answer = try await call.host.put(request, bytes)
        guard answer.outcome == .exited, let outcome = FileAnswer(decoding: answer.payload)?.outcome else {
            return failure(answer.message.isEmpty ? "cannot write \(dest)" : answer.message)
        }
        result["changed"] = .bool(outcome == .changed)
        return .dict(result)
    }

    /// A file's bytes from the host, in pieces each under the frame limit: nil and why when
    /// it cannot be read.
    static func readWhole(_ path: String, _ call: ModuleCall) async throws -> (bytes: [UInt8]?, failure: String?) {
        var bytes: [UInt8] = []
        while true {
            let answer = try await one(.read(path: path, offset: UInt64(bytes.count), length: UInt64(inlineLimit)), call, check: false)
            if answer["failed"]?.truthy == true { return (nil, answer["msg"]?.pythonString ?? "cannot read \(path)") }
            guard let piece = Base64.decode(answer["content"]?.pythonString ?? "") else { return (nil, "cannot read \(path): a corrupt answer") }
            bytes += piece
            if piece.count < inlineLimit { return (bytes, nil) }
            guard bytes.count <= readLimit else { return (nil, "\(path) is larger than \(readLimit) bytes") }
        }
    }

    /// The most a module reads of one file on a host (slurp, fetch, the file a text edit
    /// changes): the worker refuses more, from the file's size, before reading.
    static let readLimit = 64 << 20

    /// What ansible-core's exit_json adds for a result with a `path` (or get_url's `dest`):
    /// the path's uid, gid, owner, group, mode, state (`link`, `directory`, `hard`, `file`)
    /// and size, read without following a link; nothing when it is not there.
    static func withPathInfo(_ result: Dict, _ path: String, _ call: ModuleCall) async throws -> Dict {
        let found = try await one(.stat(path: path, follow: false, checksum: false), call, check: false)
        guard found["exists"]?.truthy == true else { return result }
        var out = result
        out["uid"] = found["uid"] ?? Value.none
        out["gid"] = found["gid"] ?? Value.none
        out["owner"] = found["pw_name"] ?? Value.none
        out["group"] = found["gr_name"] ?? Value.none
        out["mode"] = found["mode"] ?? Value.none
        if found["islnk"]?.truthy == true {
            out["state"] = "link"
        } else if found["isdir"]?.truthy == true {
            out["state"] = "directory"
        } else {
            out["state"] = (found["nlink"]?.number ?? 1) > 1 ? "hard" : "file"
        }
        out["size"] = found["size"] ?? Value.none
        return out
    }

    static func one(_ op: FsOp, _ call: ModuleCall, check: Bool? = nil) async throws -> Dict {
        let answer = try await call.host.fs([op], check: check ?? call.check)
        return answer.first?.dict ?? Dict()
    }

    /// A task's `headers` mapping as the request sends them: names and values as Python's
    /// `str()` writes them, in the order given.
    static func headers(_ given: Dict) -> [(name: String, value: String)] {
        given.pairs.map { ($0.key.pythonString, $0.value.pythonString) }
    }

    /// `mode` (or `modeKey`), `owner` and `group` as the task gave them; None is not given.
    static func attributes(_ args: Dict, modeKey: String = "mode") -> FsAttributes {
        func given(_ key: String) -> Value? { args[key].flatMap { $0 == .none ? nil : $0 } }
        let mode: FsMode? = given(modeKey).map { value in
            switch value {
            case .int(let n): .number(Int64(n))
            case .string(let text): .text(text)
            default: .unsupported(typeName: value.typeName)
            }
        }
        return FsAttributes(mode: mode, owner: given("owner")?.pythonString, group: given("group")?.pythonString)
    }

    // MARK: copy and template

    static func copy(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        var dest = args["dest"]?.pythonString ?? ""
        let bytes: [UInt8]
        var source: String?
        if let content = args["content"] {
            switch content {
            case .dict, .list: bytes = Array(((try? content.json()) ?? "").utf8)
            default: bytes = Array(content.pythonString.utf8)
            }
        } else {
            let src = args["_src_path"]?.pythonString ?? args["src"]?.pythonString ?? ""
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: src, isDirectory: &isDirectory) else { return failure("Could not find or access '\(src)'") }
            if isDirectory.boolValue { return try await copyTree(src, to: dest, args, call) }
            guard let data = FileManager.default.contents(atPath: src) else { return failure("Could not read '\(src)'") }
            do { bytes = try opened(Array(data), src, args) } catch { return failure(error.shown) }
            source = src
            if dest.hasSuffix("/") { dest += (src as NSString).lastPathComponent }
        }
        return try await put(bytes, to: dest, args, call, source: source)
    }

    /// A directory `src`: its contents into `dest` when it ends in `/`, else the directory
    /// itself into `dest`, in one round trip of `fs` ops (every directory, then every file,
    /// each written atomically and skipped when its content is already there).
    static func copyTree(_ src: String, to dest: String, _ args: Dict, _ call: ModuleCall) async throws -> Value {
        let root = src.hasSuffix("/") ? dest : (dest.hasSuffix("/") ? dest : dest + "/") + (src as NSString).lastPathComponent
        var ops: [FsOp] = [.mkdir(path: root)]
        let base = URL(fileURLWithPath: src).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return failure("Could not read '\(src)'") }
        var files: [(String, String)] = []
        var directories: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue { directories.append(relative) } else { files.append((relative, base + "/" + relative)) }
        }
        for relative in directories.sorted() {
            ops.append(.mkdir(path: root + "/" + relative, attributes: FsAttributes(mode: attributes(args, modeKey: "directory_mode").mode)))
        }
        for (relative, path) in files.sorted(by: { $0.0 < $1.0 }) {
            guard let data = FileManager.default.contents(atPath: path) else { return failure("Could not read '\(path)'") }
            let bytes: [UInt8]
            do { bytes = try opened(Array(data), path, args) } catch { return failure(error.shown) }
            ops.append(.write(path: root + "/" + relative, content: bytes, attributes: attributes(args)))
        }
        let answers = try await call.host.fs(ops, check: call.check)
        if let failed = answers.first(where: { $0.dict?["failed"]?.truthy == true }) {
            return failure(failed.dict?["msg"]?.pythonString ?? "copy failed", ["dest": .string(root)])
        }
        let changed = answers.contains { $0.dict?["changed"]?.truthy == true }
        return ["changed": .bool(changed), "dest": .string(dest.hasSuffix("/") ? dest : dest + "/"), "src": .string(src)]
    }

    /// A source file's bytes as copy and template send them: an Ansible Vault file is
    /// decrypted with the run's vault passwords (unless `decrypt: false`), as Ansible's
    /// action plugins open their sources.
    static func opened(_ bytes: [UInt8], _ path: String, _ args: Dict) throws(CohortError) -> [UInt8] {
        guard args["decrypt"]?.truthy ?? true, bytes.starts(with: Array(VaultEnvelope.header.utf8)) else { return bytes }
        return try Vault.decrypt(String(decoding: bytes, as: UTF8.self), file: path)
    }

    static func template(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let src = args["_src_path"]?.pythonString ?? args["src"]?.pythonString ?? ""
        guard let raw = FileManager.default.contents(atPath: src) else { return failure("Could not find or access '\(src)'") }
        let data: [UInt8]
        do { data = try opened(Array(raw), src, [:]) } catch { return failure(error.shown) }
        let rendered: Value
        do {
            // What Ansible's template module adds (ansible_managed: its default string).
            let scope = call.scope.adding(loop: [
                "template_path": .string(src), "template_host": .string(CoordinatorFilters.templateHost), "ansible_managed": "Ansible managed",
            ])
            rendered = try Template(String(decoding: data, as: UTF8.self)).render(scope.lookup(depth: 0), in: call.scope.environment)
        } catch {
            return failure("\(src): \(error)")
        }
        var text = rendered.pythonString
        if case .none = rendered { text = "" }
        return try await put(Array(text.utf8), to: args["dest"]?.pythonString ?? "", args, call, source: src)
    }

    /// A file made `bytes` on the host: into `dest`, or into it when it is a directory.
    static func put(_ bytes: [UInt8], to destination: String, _ args: Dict, _ call: ModuleCall, source: String?) async throws -> Value {
        var dest = destination
        let found = try await one(.stat(path: dest, follow: true, checksum: false), call, check: false)
        if found["isdir"]?.truthy == true {
            guard let source else { return failure("can not use content with a dir as dest") }
            dest += (dest.hasSuffix("/") ? "" : "/") + (source as NSString).lastPathComponent
        }
        if found["exists"]?.truthy == true, found["isreg"]?.truthy != true, found["isdir"]?.truthy != true {
            return failure("dest \(dest) exists and is not a regular file: refusing to replace it")
        }
        if found["exists"]?.truthy == true, let force = args["force"].flatMap(PlaybookLoader.boolean), !force {
            return ["changed": false, "dest": .string(dest), "msg": "file already exists"]
        }
        if let validate = args["validate"]?.pythonString, !call.check {
            if let failure = try await validated(bytes, for: dest, found: found, with: validate, args, call) { return failure }
        }
        if bytes.count > inlineLimit { return try await putStreamed(bytes, to: dest, found: found, args, call, source: source) }
        var before = ""
        if call.diff, found["isreg"]?.truthy == true, let old = try? await one(.read(path: dest), call, check: false),
            let content = old["content"]?.string, let raw = Base64.decode(content)
        {
            before = String(decoding: raw, as: UTF8.self)
        }
        let backup = args["backup"].flatMap(PlaybookLoader.boolean) == true
        let answer = try await one(.write(path: dest, content: bytes, backup: backup, attributes: attributes(args)), call)
        if answer["failed"]?.truthy == true { return failure(answer["msg"]?.pythonString ?? "write failed") }
        var result = Dict()
        result["changed"] = answer["changed"] ?? false
        result["dest"] = .string(dest)
        result["checksum"] = answer["checksum"] ?? Value.none
        result["size"] = .int(bytes.count)
        if let source { result["src"] = .string(source) }
        if let backup = answer["backup_file"] { result["backup_file"] = backup }
        if call.diff, result["changed"]?.truthy == true {
            // As Ansible's action: a before header only for a file that was there; after, the
            // source (a template's own path where Ansible names its rendered temporary copy),
            // or the destination for `content`.
            var diff: Dict = ["before": .string(before), "after": .string(String(decoding: bytes, as: UTF8.self)), "after_header": .string(source.map { PlaybookPaths.absolute($0) } ?? dest)]
            if found["isreg"]?.truthy == true { diff["before_header"] = .string(dest) }
            result["diff"] = .list([.dict(diff)])
        }
        return .dict(result)
    }

    /// `validate` for `copy` and `template`: a file that would change is first written beside
    /// `dest` (with its mode and owner, as validators such as `visudo -cf %s` look at them)
    /// and checked; a failure leaves `dest` untouched. Nil when valid or unchanged.
    static func validated(_ bytes: [UInt8], for dest: String, found: Dict, with validate: String, _ args: Dict, _ call: ModuleCall) async throws -> Value? {
        if found["isreg"]?.truthy == true {
            let current = try await one(.stat(path: dest, follow: true, checksum: true), call, check: false)
            if current["checksum"]?.string == Insecure_SHA1.hex(bytes) { return nil }
        }
        switch try await validation(bytes, beside: dest, with: validate, ownership: args, call) {
        case .passed: return nil
        case .failed(let message): return failure(message)
        case .refused(let rc, let out, let err):
            return ["failed": true, "changed": false, "msg": "failed to validate", "exit_status": .int(rc), "stdout": .string(out), "stderr": .string(err)]
        }
    }

    /// `validate` for `lineinfile`, `blockinfile` and `replace` (only for a change, never in
    /// check mode): nil when valid, else their modules' message.
    static func validatedEdit(_ text: String, for path: String, _ args: Dict, _ call: ModuleCall) async throws -> String? {
        guard let validate = args["validate"]?.pythonString, !call.check else { return nil }
        switch try await validation(Array(text.utf8), beside: path, with: validate, ownership: nil, call) {
        case .passed: return nil
        case .failed(let message): return message
        case .refused(let rc, _, let err): return "failed to validate: rc:\(rc) error:\(err)"
        }
    }

    enum Validation {
        case passed
        case refused(rc: Int, out: String, err: String)
        case failed(String)
    }

    /// The bytes written to a temporary file beside `path` and the command run on it as
    /// Ansible's `run_command` runs `validate % tmpfile` (`%s` the path, `%%` a percent sign;
    /// words split as a shell would, `~` and `$VAR` expanded, no shell); the file removed.
    static func validation(_ bytes: [UInt8], beside path: String, with validate: String, ownership args: Dict?, _ call: ModuleCall) async throws -> Validation {
        guard validate.contains("%s") else { return .failed("validate must contain %s: \(validate)") }
        guard bytes.count <= inlineLimit else { return .failed("validate: a file over \(inlineLimit) bytes cannot be validated by cohort play yet") }
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.cohort-validate-\(UInt32.random(in: 0...UInt32.max))-" + (path as NSString).lastPathComponent
        let line = validate.replacingOccurrences(of: "%%", with: "\u{0}").replacingOccurrences(of: "%s", with: temporary)
            .replacingOccurrences(of: "\u{0}", with: "%")
        let words: [String]
        do { words = try Shlex.split(line) } catch { return .failed("validate: \(error)") }
        let written = try await one(.write(path: temporary, content: bytes, attributes: args.map { attributes($0) } ?? .unchanged), call)
        if written["failed"]?.truthy == true { return .failed(written["msg"]?.pythonString ?? "validate: the file to check could not be written") }
        let output = try await call.host.shell(try CommandModule.exports(call.environment) + words.map(Shlex.expandingQuote).joined(separator: " "))
        _ = try? await one(.remove(path: temporary), call)
        guard output.rc != 0 else { return .passed }
        return .refused(rc: output.rc, out: String(decoding: output.stdout, as: UTF8.self), err: String(decoding: output.stderr, as: UTF8.self))
    }

    // MARK: file

    static func file(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let path = args["path"]?.pythonString ?? ""
        let current = try await one(.stat(path: path, checksum: false), call, check: false)
        let result = try await file(args, call, path: path, current: current)
        // --diff: the path's state before and after, as Ansible's file module reports it.
        guard call.diff, case .dict(var dict) = result, dict["changed"]?.truthy == true, let after = dict["state"]?.pythonString else { return result }
        let before = current["exists"]?.truthy != true ? "absent"
            : current["isdir"]?.truthy == true ? "directory" : current["islnk"]?.truthy == true ? "link" : "file"
        guard before != after else { return result }
        dict["diff"] = ["before": ["path": .string(path), "state": .string(before)], "after": ["path": .string(path), "state": .string(after)]]
        return .dict(dict)
    }

    private static func file(_ args: Dict, _ call: ModuleCall, path: String, current: Dict) async throws -> Value {
        let exists = current["exists"]?.truthy == true
        var state = args["state"]?.pythonString
        if state == nil {
            // Ansible's default: the path's own state, or `file` for a path that is not there.
            state = !exists ? "file" : current["isdir"]?.truthy == true ? "directory" : current["islnk"]?.truthy == true ? "link" : "file"
        }
        let attributes = attributes(args)
        var times: [FsTime?] = [nil, nil]
        for (index, argument) in ["access_time", "modification_time"].enumerated() {
            guard let given = args[argument]?.pythonString else { continue }
            guard let time = FileTimes.parse(given, format: args[argument + "_format"]?.pythonString ?? "%Y%m%d%H%M.%S") else {
                return failure("Error while obtaining timestamp for time \(given) using format \(args[argument + "_format"]?.pythonString ?? "%Y%m%d%H%M.%S")")
            }
            times[index] = time
        }
        let (atime, mtime) = (times[0], times[1])
        let answer: Dict
        switch state! {
        case "absent":
            answer = try await one(.remove(path: path), call)
            if answer["failed"]?.truthy == true { return failure(answer["msg"]?.pythonString ?? "remove failed", ["path": .string(path)]) }
            return ["changed": answer["changed"] ?? false, "path": .string(path), "state": "absent"]
        case "directory":
            answer = try await one(.mkdir(path: path, attributes: attributes), call)
            if answer["failed"]?.truthy != true, args["recurse"].flatMap(PlaybookLoader.boolean) == true {
                let below = try await one(.attributes(path: path, recurse: true, attributes: attributes, atime: atime, mtime: mtime), call)
                if below["failed"]?.truthy == true { return failure(below["msg"]?.pythonString ?? "failed", ["path": .string(path)]) }
                if below["changed"]?.truthy == true {
                    var result = answer
                    result["changed"] = true
                    return try await finish(result, path: path, state: "directory", args, call, existed: exists)
                }
            }
        case "touch":
            answer = try await one(.touch(path: path, attributes: attributes, atime: atime, mtime: mtime), call)
        case "link", "hard":
            guard let src = args["src"]?.pythonString else { return failure("src option is required when state is '\(state!)'", ["path": .string(path)]) }
            let force = args["force"].flatMap(PlaybookLoader.boolean) == true
            answer = try await one(.link(path: path, source: src, hard: state == "hard", force: force, attributes: attributes), call)
        default:
            guard exists else { return failure("file (\(path)) is absent, cannot continue", ["path": .string(path), "state": "absent"]) }
            if current["isdir"]?.truthy == true { return failure("\(path) is a directory, cannot continue", ["path": .string(path)]) }
            let follow = args["follow"].flatMap(PlaybookLoader.boolean) ?? true
            answer = try await one(.attributes(path: path, follow: follow, attributes: attributes, atime: atime, mtime: mtime), call)
        }
        if answer["failed"]?.truthy == true { return failure(answer["msg"]?.pythonString ?? "failed", ["path": .string(path)]) }
        return try await finish(answer, path: path, state: state!, args, call, existed: exists)
    }

    /// The file module's result: what changed, and the path's state after.
    private static func finish(_ answer: Dict, path: String, state: String, _ args: Dict, _ call: ModuleCall, existed exists: Bool) async throws -> Value {
        var result = Dict()
        result["changed"] = answer["changed"] ?? false
        result["path"] = .string(path)
        result["state"] = .string(state)
        if !call.check || exists {
            let after = try await one(.stat(path: path, checksum: false), call, check: false)
            for key in ["mode", "uid", "gid", "size"] { if let value = after[key] { result[key] = value } }
            if let owner = after["pw_name"] { result["owner"] = owner }
            if let group = after["gr_name"] { result["group"] = group }
            if state == "link" || state == "hard" { result["src"] = args["src"] ?? Value.none }
        }
        return .dict(result)
    }

    // MARK: lineinfile

    static func lineinfile(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let path = args["path"]?.pythonString ?? ""
        var given = LineInFile.Arguments()
        given.regexp = args["regexp"]?.pythonString
        given.searchString = args["search_string"]?.pythonString
        given.line = args["line"]?.pythonString
        given.insertAfter = args["insertafter"]?.pythonString
        given.insertBefore = args["insertbefore"]?.pythonString
        given.backrefs = args["backrefs"].flatMap(PlaybookLoader.boolean) ?? false
        given.firstMatch = args["firstmatch"].flatMap(PlaybookLoader.boolean) ?? false
        given.present = (args["state"]?.pythonString ?? "present") == "present"
        if given.present, given.line == nil { return failure("line is required with state=present") }
        if given.backrefs, given.regexp == nil { return failure("regexp is required with backrefs=true") }
        let current = try await one(.stat(path: path, follow: true, checksum: false), call, check: false)
        var text = ""
        if current["exists"]?.truthy == true {
            let read = try await one(.read(path: path), call, check: false)
            if read["failed"]?.truthy == true { return failure(read["msg"]?.pythonString ?? "cannot read \(path)") }
            text = String(decoding: Base64.decode(read["content"]?.pythonString ?? "") ?? [], as: UTF8.self)
        } else if !given.present {
            return ["changed": false, "msg": "file not present"]
        } else if args["create"].flatMap(PlaybookLoader.boolean) != true {
            return failure("Destination \(path) does not exist !", ["rc": 257])
        }
        let outcome: LineInFile.Outcome
        do { outcome = try LineInFile.apply(text, given) } catch { return failure("\(error.message)") }
        var result: Dict = ["changed": .bool(outcome.changed), "msg": .string(outcome.message), "backup": ""]
        if let found = outcome.found { result["found"] = .int(found) }
        if current["exists"]?.truthy != true, !call.check, outcome.changed {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { _ = try await one(.mkdir(path: parent), call) }
        }
        if outcome.changed, let refused = try await validatedEdit(outcome.text, for: path, args, call) { return failure(refused) }
        if outcome.changed || current["exists"]?.truthy == true {
            // As Ansible's atomic_move onto realpath(dest): a link's target is edited, the link stays.
            let backup = outcome.changed && args["backup"].flatMap(PlaybookLoader.boolean) == true
            let op = FsOp.write(path: path, content: Array(outcome.text.utf8), follow: true, backup: backup, attributes: attributes(args))
            if !outcome.changed || !(call.check && current["exists"]?.truthy != true) {
                let answer = try await one(op, call)
                if answer["failed"]?.truthy == true { return failure(answer["msg"]?.pythonString ?? "write failed") }
                if answer["changed"]?.truthy == true, !outcome.changed {
                    result["changed"] = true
                    result["msg"] = "ownership, perms or SE linux context changed"
                }
                if let backup = answer["backup_file"] { result["backup"] = backup }
            }
        }
        if call.diff, outcome.changed {
            result["diff"] = ["before": .string(text), "after": .string(outcome.text), "before_header": .string("\(path) (content)"),
                "after_header": .string("\(path) (content)")]
        }
        return .dict(result)
    }

    // MARK: stat and slurp

    static func stat(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let follow = args["follow"].flatMap(PlaybookLoader.boolean) ?? false
        let checksum = args["get_checksum"].flatMap(PlaybookLoader.boolean) ?? true
        let answer = try await one(.stat(path: args["path"]?.pythonString ?? "", follow: follow, checksum: checksum), call, check: false)
        if answer["failed"]?.truthy == true { return failure(answer["msg"]?.pythonString ?? "stat failed") }
        return ["changed": false, "stat": .dict(answer)]
    }

    static func slurp(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let path = args["src"]?.pythonString ?? ""
        let (bytes, why) = try await readWhole(path, call)
        guard let bytes else {
            let message = why ?? ""
            return failure(message.contains("No such file") ? "file not found: \(path)" : message)
        }
        return ["changed": false, "content": .string(Base64.encode(bytes)), "encoding": "base64", "source": .string(path)]
    }
}

/// `access_time` / `modification_time`: `now`, `preserve`, or a time in `format` (strftime's
/// `%Y %y %m %d %H %M %S %b`, read in the coordinator's time zone), as seconds since the epoch.
enum FileTimes {
    static func parse(_ text: String, format: String) -> FsTime? {
        if text == "now" { return .now }
        if text == "preserve" { return .preserve }
        let fields: [Character: String] = ["Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "b": "MMM"]
        var pattern = ""
        var chars = Array(format)[...]
        while let c = chars.popFirst() {
            if c == "%", let next = chars.popFirst() {
                guard let field = fields[next] else { return nil }
                pattern += field
            } else if c.isLetter {
                pattern += "'\(c)'"
            } else {
                pattern.append(c)
            }
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = pattern
        guard let date = formatter.date(from: text) else { return nil }
        return time(date.timeIntervalSince1970)
    }

    /// Seconds since the epoch as the worker sets them; nil past what a time_t holds.
    static func time(_ interval: Double) -> FsTime? {
        let whole = interval.rounded(.down)
        guard interval.isFinite, let seconds = Int64(exactly: whole) else { return nil }
        return .at(seconds: seconds, nanoseconds: min(UInt32((interval - whole) * 1e9), 999_999_999))
    }
}
