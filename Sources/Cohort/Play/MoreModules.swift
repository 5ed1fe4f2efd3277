import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `blockinfile`, `replace`, `fetch`, `find`, `wait_for`, `script`.
enum MoreModules {
    /// A file's text on the host: there, missing, or a failure result (a directory).
    enum FileText {
        case text(String)
        case missing
        case failed(Dict)
    }

    static func read(_ path: String, _ call: ModuleCall) async throws -> FileText {
        let found = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
        if found["isdir"]?.truthy == true { return .failed(["failed": true, "rc": 256, "msg": .string("Path \(path) is a directory !")]) }
        guard found["exists"]?.truthy == true else { return .missing }
        let (bytes, why) = try await FileModules.readWhole(path, call)
        guard let bytes else { return .failed(["failed": true, "msg": .string(why ?? "cannot read")]) }
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// Writes `text` (when `changed`) and settles mode and owner in any case.
    static func write(_ text: String, to path: String, changed: Bool, existed: Bool, _ args: Dict, _ call: ModuleCall, result: inout Dict) async throws {
        if changed, !existed, !call.check {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { _ = try await FileModules.one(.mkdir(path: parent), call) }
        }
        guard changed || existed, !(call.check && !existed) else { return }
        if changed, let refused = try await FileModules.validatedEdit(text, for: path, args, call) {
            result["failed"] = true
            result["changed"] = false
            result["msg"] = .string(refused)
            return
        }
        // As Ansible's atomic_move onto realpath(dest): a link's target is edited, the link stays.
        let backup = changed && args["backup"].flatMap(PlaybookLoader.boolean) == true
        let answer = try await FileModules.one(
            .write(path: path, content: Array(text.utf8), follow: true, backup: backup, attributes: FileModules.attributes(args)), call)
        if answer["failed"]?.truthy == true {
            result["failed"] = true
            result["msg"] = answer["msg"] ?? "write failed"
            return
        }
        if answer["changed"]?.truthy == true, !changed {
            result["changed"] = true
            result["msg"] = "ownership, perms or SE linux context changed"
        }
        if let backup = answer["backup_file"] { result["backup_file"] = backup }
    }

    static func blockinfile(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let path = args["path"]?.pythonString ?? ""
        let original: String?
        switch try await read(path, call) {
        case .failed(let failure): return .dict(failure)
        case .missing: original = nil
        case .text(let text): original = text
        }
        let present = (args["state"]?.pythonString ?? "present") == "present"
        if original == nil {
            if !present { return ["changed": false, "msg": .string("File \(path) not present")] }
            if args["create"].flatMap(PlaybookLoader.boolean) != true {
                return FileModules.failure("Path \(path) does not exist !", ["rc": 257])
            }
        }
        var given = BlockInFile.Arguments()
        given.block = args["block"]?.pythonString ?? ""
        if let marker = args["marker"]?.pythonString { given.marker = marker }
        if let begin = args["marker_begin"]?.pythonString { given.markerBegin = begin }
        if let end = args["marker_end"]?.pythonString { given.markerEnd = end }
        given.insertAfter = args["insertafter"]?.pythonString
        given.insertBefore = args["insertbefore"]?.pythonString
        given.present = present
        given.appendNewline = args["append_newline"].flatMap(PlaybookLoader.boolean) ?? false
        given.prependNewline = args["prepend_newline"].flatMap(PlaybookLoader.boolean) ?? false
        let outcome: (text: String, changed: Bool, message: String)
        do { outcome = try BlockInFile.apply(original, given) } catch { return FileModules.failure(error.message) }
        var result: Dict = ["changed": .bool(outcome.changed), "msg": .string(outcome.message)]
        try await write(outcome.text, to: path, changed: outcome.changed, existed: original != nil, args, call, result: &result)
        // blockinfile names the path "PATH (content)", as Ansible's does.
        if call.diff, outcome.changed { result["diff"] = diff(original ?? "", outcome.text, path + " (content)") }
        return .dict(result)
    }

    static func replace(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let path = args["path"]?.pythonString ?? ""
        let contents: String
        switch try await read(path, call) {
        case .failed(let failure): return .dict(failure)
        case .missing: return FileModules.failure("Path \(path) does not exist !", ["rc": 257])
        case .text(let text): contents = text
        }
        let outcome: (text: String, changed: Bool, message: String)
        do {
            outcome = try Replace.apply(
                contents, regexp: args["regexp"]?.pythonString ?? "", replacement: args["replace"]?.pythonString ?? "",
                after: args["after"]?.pythonString, before: args["before"]?.pythonString)
        } catch {
            return FileModules.failure("Unable to process replace due to error: \(error.message)")
        }
        var result: Dict = ["changed": .bool(outcome.changed), "msg": .string(outcome.message), "rc": 0]
        try await write(outcome.text, to: path, changed: outcome.changed, existed: true, args, call, result: &result)
        if call.diff, outcome.changed { result["diff"] = diff(contents, outcome.text, path) }
        return .dict(result)
    }

    static func diff(_ before: String, _ after: String, _ path: String) -> Value {
        ["before": .string(before), "after": .string(after), "before_header": .string(path), "after_header": .string(path)]
    }

    /// `fetch`: into `dest/HOST/SRC` (or `dest` itself with `flat`), written atomically, and
    /// not rewritten when its SHA-1 already matches.
    static func fetch(_ args: Dict, _ call: ModuleCall, host: String) async throws -> Value {
        let src = args["src"]?.pythonString ?? ""
        var dest = args["dest"]?.pythonString ?? ""
        let flat = args["flat"].flatMap(PlaybookLoader.boolean) ?? false
        // ansible-core would write outside dest; cohort fetch refuses, and so does this.
        if src.split(separator: "/").contains("..") {
            return FileModules.failure("src '\(src)' holds a '..' segment: refused, it could write outside dest", ["file": .string(src)])
        }
        if flat {
            if dest.hasSuffix("/") { dest += (src as NSString).lastPathComponent }
        } else {
            dest = (dest.hasSuffix("/") ? dest : dest + "/") + host + (src.hasPrefix("/") ? src : "/" + src)
        }
        // What it is and how big, before anything reads it: no hashing a 10 GB file or a FIFO.
        let kind = try await FileModules.one(.stat(path: src, follow: true, checksum: false), call, check: false)
        if kind["exists"]?.truthy == true, kind["isdir"]?.truthy != true {
            guard kind["isreg"]?.truthy == true else { return FileModules.failure("remote file \(src) is not a regular file", ["file": .string(src)]) }
            if case .int(let size)? = kind["size"], size > FileModules.readLimit {
                return FileModules.failure("remote file \(src) is \(size) bytes, over the \(FileModules.readLimit)-byte limit of the fetch module (use cohort fetch)", ["file": .string(src)])
            }
        }
        let found = try await FileModules.one(.stat(path: src, follow: true, checksum: true), call, check: false)
        guard found["exists"]?.truthy == true else {
            if args["fail_on_missing"].flatMap(PlaybookLoader.boolean) ?? true {
                return FileModules.failure("the remote file does not exist, not transferring, ignored", ["file": .string(src)])
            }
            return ["changed": false, "msg": "the remote file does not exist, not transferring, ignored", "file": .string(src)]
        }
        if found["isdir"]?.truthy == true { return FileModules.failure("remote file is a directory, fetch cannot work on directories", ["file": .string(src)]) }
        let remoteSum = found["checksum"]?.pythonString ?? ""
        var result: Dict = ["changed": false, "dest": .string(dest), "checksum": .string(remoteSum), "remote_checksum": .string(remoteSum), "file": .string(src)]
        if let local = FileManager.default.contents(atPath: dest), Insecure_SHA1.hex(Array(local)) == remoteSum { return .dict(result) }
        result["changed"] = true
        if call.check { return .dict(result) }
        let (read, why) = try await FileModules.readWhole(src, call)
        guard let bytes = read else { return FileModules.failure(why ?? "cannot read \(src)") }
        do {
            try FileManager.default.createDirectory(atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: dest), options: .atomic)
        } catch {
            return FileModules.failure("cannot write \(dest): \(error.localizedDescription)")
        }
        return .dict(result)
    }

    static func find(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func names(_ key: String) -> [String] {
            switch args[key] {
            case .list(let items)?: items.map(\.pythonString)
            case .string(let text)?: text.split(separator: ",").map(String.init)
            default: []
            }
        }
        var op = FsFind(paths: names("paths"))
        op.patterns = names("patterns")
        op.excludes = names("excludes")
        op.recurse = SystemModules.bool(args["recurse"])
        op.hidden = SystemModules.bool(args["hidden"])
        op.useRegex = SystemModules.bool(args["use_regex"])
        if let type = args["file_type"], type != .none { op.fileType = type.pythonString }
        if let contains = args["contains"], contains != .none { op.contains = contains.pythonString }
        if case .int(let depth)? = args["depth"] { op.depth = Int64(depth) }
        if let age = args["age"], age != .none {
            guard let seconds = FindFilters.amount(age.pythonString, units: FindFilters.secondsPerUnit) else {
                return FileModules.failure("failed to process age", ["age": age])
            }
            op.ageSeconds = Int64(seconds)
            if let stamp = args["age_stamp"], stamp != .none { op.ageStamp = stamp.pythonString }
        }
        if let size = args["size"], size != .none {
            guard let bytes = FindFilters.amount(size.pythonString, units: FindFilters.bytesPerUnit) else {
                return FileModules.failure("failed to process size", ["size": size])
            }
            op.sizeBytes = Int64(bytes)
        }
        // In pages that each fit a frame: the worker says `more` until the last.
        var files: [Value] = []
        var answer = Dict()
        repeat {
            op.skip = UInt64(files.count)
            answer = try await FileModules.one(.find(op), call, check: false)
            if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "find failed") }
            guard case .list(let page)? = answer["files"], !page.isEmpty || answer["more"]?.truthy != true else { break }
            files += page
        } while answer["more"]?.truthy == true
        var result = answer
        result["more"] = nil
        result["files"] = .list(files)
        result["matched"] = .int(files.count)
        result["changed"] = false
        result["msg"] = "All paths examined"
        return .dict(result)
    }

    /// `wait_for`: polled from the coordinator (every `sleep` seconds until `timeout`), so that
    /// the worker goes on answering heartbeats meanwhile.
    static func waitFor(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let timeout = try ModuleSeconds.parse(args["timeout"], "wait_for: timeout", default: 300)
        let delay = try ModuleSeconds.parse(args["delay"], "wait_for: delay", default: 0)
        let sleep = try ModuleSeconds.parse(args["sleep"], "wait_for: sleep", default: 1)
        let path = args["path"]?.pythonString
        let port = args["port"].flatMap { Int($0.pythonString) }
        var state = args["state"]?.pythonString ?? "started"
        if state == "present" { state = "started" }
        if state == "absent" { state = "stopped" }
        let regex = args["search_regex"]?.pythonString
        let started = ContinuousClock.now
        if call.check { return ["changed": false, "elapsed": 0] }
        if delay > 0 { try await Task.sleep(for: ModuleSeconds.duration(delay)) }
        let deadline = started + ModuleSeconds.duration(timeout + delay)
        while true {
            var done = false
            if let path {
                let found = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
                let exists = found["exists"]?.truthy == true
                if state == "stopped" {
                    done = !exists
                } else if exists, let regex {
                    if case .text(let text) = try await read(path, call), let pattern = try? PythonRegex(regex, multiline: true) {
                        done = try pattern.firstMatch(text) != nil
                    }
                } else {
                    done = exists
                }
            } else if let port {
                let host = args["host"]?.pythonString ?? "127.0.0.1"
                // A port outside 1...65535 goes as 0, which the worker refuses ("a port is needed").
                let answer = try await FileModules.one(.connect(host: host, port: UInt16(exactly: port) ?? 0), call, check: false)
                let open = answer["open"]?.truthy == true
                done = state == "stopped" ? !open : open
            } else {
                // Neither: wait for the timeout, as Ansible's does.
                done = ContinuousClock.now >= started + ModuleSeconds.duration(timeout)
            }
            let elapsed = Int((ContinuousClock.now - started).components.seconds)
            if done { return .dict(Dict(strings: [("changed", false), ("elapsed", .int(elapsed)), ("state", .string(state))] + (path.map { [("path", Value.string($0))] } ?? []) + (port.map { [("port", Value.int($0))] } ?? []))) }
            if ContinuousClock.now >= deadline {
                let what = path.map { "file \($0)" } ?? port.map { "port \($0)" } ?? "nothing"
                let message = args["msg"]?.pythonString ?? "Timeout when waiting for \(what)\(regex.map { " to contain \($0)" } ?? "")"
                return FileModules.failure(message, ["elapsed": .int(elapsed)])
            }
            try await Task.sleep(for: ModuleSeconds.duration(sleep))
        }
    }

    /// `script`: the local script lands in the worker's cache, runs, and is removed.
    static func script(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let raw = args["cmd"]?.pythonString ?? args["_raw_params"]?.pythonString ?? ""
        let words: [String]
        do { words = try Shlex.split(raw) } catch { return FileModules.failure("\(error)") }
        guard let first = words.first else { return FileModules.failure("no script given") }
        let local = args["_src_path"]?.pythonString ?? first
        guard let data = FileManager.default.contents(atPath: local) else { return FileModules.failure("Could not find or access '\(first)'") }
        if let creates = args["creates"]?.pythonString, try await CommandModule.exists(creates, call) {
            return ["changed": false, "skipped": true, "msg": .string("skipped, since \(creates) exists"), "rc": 0]
        }
        if let removes = args["removes"]?.pythonString, !(try await CommandModule.exists(removes, call)) {
            return ["changed": false, "skipped": true, "msg": .string("skipped, since \(removes) does not exist"), "rc": 0]
        }
        if call.check { return ["changed": true, "skipped": true, "msg": "Command would have run if not in check mode"] }
        // Named for the worker that runs it (the shell's parent): a script left by a worker that
        // is gone (its coordinator was killed mid-task) is removed here, by the next run.
        let sweep = "mkdir -p ~/.cache/cohort && for f in ~/.cache/cohort/script-*; do [ -e \"$f\" ] || continue; "
            + "p=${f##*/script-}; p=${p%%-*}; case $p in ''|*[!0-9]*) rm -f \"$f\"; continue;; esac; kill -0 \"$p\" 2>/dev/null || rm -f \"$f\"; done; echo $PPID"
        let owner = try await call.host.shell(sweep)
        let worker = String(decoding: owner.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard owner.rc == 0, !worker.isEmpty, worker.allSatisfy(\.isNumber) else {
            return FileModules.failure("cannot prepare ~/.cache/cohort for the script: \(String(decoding: owner.stderr, as: UTF8.self))")
        }
        let remote = "~/.cache/cohort/script-\(worker)-\(UUID().uuidString)"
        let landed = try await FileModules.one(.write(path: remote, content: Array(data), attributes: FsAttributes(mode: .number(0o700))), call)
        if landed["failed"]?.truthy == true { return FileModules.failure(landed["msg"]?.pythonString ?? "cannot upload the script") }
        let command = (args["executable"].map { ShellQuote.quote($0.pythonString) + " " } ?? "") + "~/" + String(remote.dropFirst(2)).split(separator: "/").map { ShellQuote.quote(String($0)) }.joined(separator: "/")
            + words.dropFirst().map { " " + ShellQuote.quote($0) }.joined()
        var script = ""
        if let chdir = args["chdir"]?.pythonString { script += "cd \(Shlex.expandingQuote(chdir)) || exit 1; " }
        let output = try await call.host.shell(script + command)
        _ = try? await FileModules.one(.remove(path: remote), call)
        var result: Dict = ["changed": true, "rc": .int(output.rc)]
        result["stdout"] = .string(String(decoding: output.stdout, as: UTF8.self))
        result["stderr"] = .string(String(decoding: output.stderr, as: UTF8.self))
        result = CommandModule.lines(result)
        if output.rc != 0 {
            result["failed"] = true
            result["msg"] = "non-zero return code"
        }
        return .dict(result)
    }
}

/// `find`'s `age` and `size` as Ansible's module reads them: `^(-?\d+)(unit)?$` (lowered),
/// the number times the unit; a value past what an Int holds is clamped, which selects the
/// same files.
enum FindFilters {
    static let secondsPerUnit: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
    static let bytesPerUnit: [Character: Int] = ["b": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]

    static func amount(_ text: String, units: [Character: Int]) -> Int? {
        var body = Substring(text.lowercased())
        var unit = 1
        if let last = body.last, let scale = units[last] {
            unit = scale
            body = body.dropLast()
        }
        let negative = body.hasPrefix("-")
        let digits = negative ? body.dropFirst() : body
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let limit = negative ? Int.min : Int.max
        guard let magnitude = Int(digits) else { return limit }
        let (product, overflow) = magnitude.multipliedReportingOverflow(by: unit)
        if overflow { return limit }
        return negative ? -product : product
    }
}
