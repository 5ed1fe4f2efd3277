import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `command`, `shell` and `raw`, run through the worker's `shell` kind: `command` quotes each
/// word (no shell syntax, though `$VAR` and `~` expand as Ansible's `expand_argument_vars`
/// does), `shell` and `raw` hand the line to `/bin/sh -c` (or `executable`).
enum CommandModule {
    static func run(_ module: String, _ args: Dict, _ call: ModuleCall) async throws -> Value {
        var result = Dict()
        let line: String
        switch module {
        case "command":
            var words: [String]
            if case .list(let argv)? = args["argv"] {
                words = argv.map(\.pythonString)
            } else {
                do { words = try Shlex.split(args["cmd"]?.pythonString ?? args["_raw_params"]?.pythonString ?? "") } catch {
                    return failure("\(error)")
                }
            }
            guard !words.isEmpty else { return failure("no command given") }
            result["cmd"] = .list(words.map { .string($0) })
            line = words.map(Shlex.expandingQuote).joined(separator: " ")
        default:
            let text = args["cmd"]?.pythonString ?? args["_raw_params"]?.pythonString ?? ""
            guard !text.isEmpty else { return failure("no command given") }
            result["cmd"] = .string(text)
            if let executable = args["executable"]?.pythonString, module == "shell" {
                line = "exec \(ShellQuote.quote(executable)) -c \(ShellQuote.quote(text))"
            } else {
                line = text
            }
        }
        if module != "raw" {
            let shoulda = call.check ? "Would" : "Did"
            let chdir = args["chdir"]?.pythonString
            if let creates = args["creates"]?.pythonString, try await exists(creates, call, chdir: chdir) {
                result["msg"] = .string("\(shoulda) not run command since '\(creates)' exists")
                result["stdout"] = .string("skipped, since \(creates) exists")
                result["rc"] = 0
                result["changed"] = false
                return .dict(lines(result))
            }
            if let removes = args["removes"]?.pythonString, !(try await exists(removes, call, chdir: chdir)) {
                result["msg"] = .string("\(shoulda) not run command since '\(removes)' does not exist")
                result["stdout"] = .string("skipped, since \(removes) does not exist")
                result["rc"] = 0
                result["changed"] = false
                return .dict(lines(result))
            }
        }
        result["changed"] = true
        if call.check {
            result["rc"] = 0
            result["msg"] = "Command would have run if not in check mode"
            if args["creates"] == nil, args["removes"] == nil {
                result["skipped"] = true
                result["changed"] = false
            }
            return .dict(result)
        }
        var script = try exports(call.environment)
        if let chdir = args["chdir"]?.pythonString { script += "cd \(Shlex.expandingQuote(chdir)) || exit 1; " }
        script += line
        // stdin travels on the task's own stdin, not in a command line others can read.
        let stdin = args["stdin"].map { Array(($0.pythonString + (args["stdin_add_newline"].flatMap(PlaybookLoader.boolean) ?? true ? "\n" : "")).utf8) }
        let started = Date()
        let output = try await call.host.shell(script, stdin: stdin)
        let ended = Date()
        result["start"] = .string(Timestamps.text(started))
        result["end"] = .string(Timestamps.text(ended))
        result["delta"] = .string(Timestamps.delta(ended.timeIntervalSince(started)))
        result["rc"] = .int(output.rc)
        let strip = module != "raw" && (args["strip_empty_ends"].flatMap(PlaybookLoader.boolean) ?? true)
        var stdout = String(decoding: output.stdout, as: UTF8.self)
        var stderr = String(decoding: output.stderr, as: UTF8.self)
        if strip {
            stdout = Shlex.stripEnds(stdout)
            stderr = Shlex.stripEnds(stderr)
        }
        result["stdout"] = .string(stdout)
        result["stderr"] = .string(stderr)
        if let overflow = output.overflow {
            result["msg"] = .string(overflow)
            result["failed"] = true
        } else if output.rc != 0 {
            result["msg"] = "non-zero return code"
            result["failed"] = true
        } else if module == "raw" {
            result["msg"] = ""
        }
        return .dict(lines(result))
    }

    /// `export NAME='value'; ` for each variable of the task's `environment:`: a name that is
    /// not a shell variable name (`a;id`) is refused, as it would otherwise run as code.
    static func exports(_ environment: Dict) throws(TemplateError) -> String {
        var script = ""
        for (key, value) in environment.pairs {
            let name = key.pythonString
            guard !ModuleSpec.holdsNUL(value) else { throw TemplateError("environment: '\(name)': embedded null byte") }
            guard isVariableName(name) else {
                throw TemplateError("environment: '\(name)' is not a valid variable name (letters, digits and _, not starting with a digit)")
            }
            script += "export \(name)=\(ShellQuote.quote(value.pythonString)); "
        }
        return script
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Whether `path` (a glob pattern since Ansible 2.0) names anything on the host.
    static func exists(_ path: String, _ call: ModuleCall, chdir: String? = nil) async throws -> Bool {
        if path.contains(where: { "*?[".contains($0) }) || chdir != nil {
            var script = chdir.map { "cd \(Shlex.expandingQuote($0)) || exit 2; " } ?? ""
            script += "for f in \(Shlex.globQuote(path)); do [ -e \"$f\" ] || [ -L \"$f\" ] && exit 0; done; exit 1"
            return try await call.host.shell(script).rc == 0
        }
        let answer = try await call.host.fs([.stat(path: path, checksum: false)], check: false)
        return answer.first?.dict?["exists"]?.truthy ?? false
    }

    /// `stdout_lines` and `stderr_lines`, as every command result carries them: Python's
    /// `splitlines()` of the text, so a `\r` (a progress line) ends a line as in Ansible.
    static func lines(_ result: Dict) -> Dict {
        var out = result
        for key in ["stdout", "stderr"] {
            let text = out[key]?.pythonString ?? ""
            out[key] = .string(text)
            out[key + "_lines"] = .list(Strings.lines(text).map { .string($0) })
        }
        return out
    }

    static func failure(_ message: String) -> Value { ["failed": true, "changed": false, "msg": .string(message), "rc": 256] }
}

enum Timestamps {
    static func text(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: date)
    }

    static func delta(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds)
        let micros = Int((seconds - Double(whole)) * 1_000_000)
        return String(format: "%d:%02d:%02d.%06d", whole / 3600, whole / 60 % 60, whole % 60, micros)
    }
}

/// POSIX `shlex.split`, as Ansible splits a `command`'s text into words.
enum Shlex {
    struct Unbalanced: Error, CustomStringConvertible {
        var description: String { "No closing quotation" }
    }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current) }
                current = ""
                inWord = false
            case "'":
                inWord = true
                guard let end = chars.firstIndex(of: "'") else { throw Unbalanced() }
                current += chars[chars.startIndex..<end]
                chars = chars[chars.index(after: end)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\"" {
                        closed = true
                        break
                    }
                    if d == "\\", let next = chars.first, "\\\"$`\n".contains(next) {
                        current.append(chars.removeFirst())
                    } else {
                        current.append(d)
                    }
                }
                if !closed { throw Unbalanced() }
            case "\\":
                inWord = true
                if let next = chars.popFirst() { current.append(next) }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// One word for `sh`, literal except `$NAME`, `${NAME}` and a leading `~`, which the shell
    /// expands as Python's `expandvars` and `expanduser` would: a variable that is set gives
    /// its value, one that is not stays as written (`$1`, `$éa` and `${x-y}` are text); nothing
    /// else is run or split.
    static func expandingQuote(_ word: String) -> String {
        var out = ""
        var chars = Array(word)[...]
        if chars.first == "~", chars.count == 1 || chars.dropFirst().first == "/" {
            out = "~"
            chars.removeFirst()
        }
        var literal = ""
        func flush() {
            if !literal.isEmpty { out += "'" + literal.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            literal = ""
        }
        while let c = chars.popFirst() {
            if c == "$", let next = chars.first {
                if next == "{", let close = chars.firstIndex(of: "}"), close > chars.index(after: chars.startIndex) {
                    let name = String(chars[chars.index(after: chars.startIndex)..<close])
                    if isShellName(name) {
                        flush()
                        out += "\"${\(name)-\\${\(name)\\}}\""
                        chars = chars[chars.index(after: close)...]
                        continue
                    }
                }
                if next == "_" || (next.isASCII && next.isLetter) {
                    flush()
                    var name = ""
                    while let n = chars.first, isName(n) {
                        name.append(n)
                        chars.removeFirst()
                    }
                    out += "\"${\(name)-\\$\(name)}\""
                    continue
                }
            }
            literal.append(c)
        }
        flush()
        return out.isEmpty ? "''" : out
    }

    private static func isName(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }

    private static func isShellName(_ name: String) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy(isName)
    }

    /// A `creates`/`removes` pattern for `sh`: `*`, `?` and `[…]` glob as Python's `glob`
    /// does (hidden names only when the pattern names them), everything else is literal.
    static func globQuote(_ pattern: String) -> String {
        var out = ""
        for c in pattern {
            if "*?[]".contains(c) { out.append(c) } else { out += ShellQuote.quote(String(c)) }
        }
        return out
    }

    /// Python's `rstrip("\r\n")`.
    static func stripEnds(_ text: String) -> String {
        var s = Substring(text)
        while let last = s.last, last == "\n" || last == "\r" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
