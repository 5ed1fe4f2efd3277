import CohortCore
import CohortPlaybook
import CohortTemplate
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
            if let creates = args["creates"]?.pythonString, try await exists(creates, call) {
                result["msg"] = .string("\(shoulda) not run command since '\(creates)' exists")
                result["stdout"] = .string("skipped, since \(creates) exists")
                result["rc"] = 0
                result["changed"] = false
                return .dict(lines(result))
            }
            if let removes = args["removes"]?.pythonString, !(try await exists(removes, call)) {
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
        var script = ""
        for (key, value) in call.environment.pairs { script += "export \(key.pythonString)=\(ShellQuote.quote(value.pythonString)); " }
        if let chdir = args["chdir"]?.pythonString { script += "cd \(Shlex.expandingQuote(chdir)) || exit 1; " }
        if let stdin = args["stdin"]?.pythonString {
            let data = stdin + (args["stdin_add_newline"].flatMap(PlaybookLoader.boolean) ?? true ? "\n" : "")
            script += "printf '%s' \(ShellQuote.quote(data)) | { \(line)\n}"
        } else {
            script += line
        }
        let started = Date()
        let output = try await call.host.shell(script)
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
        if output.rc != 0 {
            result["msg"] = "non-zero return code"
            result["failed"] = true
        } else if module == "raw" {
            result["msg"] = ""
        }
        return .dict(lines(result))
    }

    static func exists(_ path: String, _ call: ModuleCall) async throws -> Bool {
        let answer = try await call.host.fs([["op": "stat", "path": .string(path), "checksum": false]], check: false)
        return answer.first?.dict?["exists"]?.truthy ?? false
    }

    /// `stdout_lines` and `stderr_lines`, as every command result carries them.
    static func lines(_ result: Dict) -> Dict {
        var out = result
        for key in ["stdout", "stderr"] {
            let text = out[key]?.pythonString ?? ""
            out[key] = .string(text)
            out[key + "_lines"] = .list(text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) })
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
    /// expands as Python's `expandvars` and `expanduser` would; nothing else is run or split.
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
                if next == "{", let close = chars.firstIndex(of: "}"), chars[chars.index(after: chars.startIndex)..<close].allSatisfy(isName),
                    close > chars.index(after: chars.startIndex)
                {
                    flush()
                    out += "\"$" + String(chars[chars.startIndex...close]) + "\""
                    chars = chars[chars.index(after: close)...]
                    continue
                }
                if next == "_" || next.isLetter {
                    flush()
                    var name = ""
                    while let n = chars.first, isName(n) {
                        name.append(n)
                        chars.removeFirst()
                    }
                    out += "\"${" + name + "}\""
                    continue
                }
            }
            literal.append(c)
        }
        flush()
        return out.isEmpty ? "''" : out
    }

    private static func isName(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }

    /// Python's `rstrip("\r\n")`.
    static func stripEnds(_ text: String) -> String {
        var s = Substring(text)
        while let last = s.last, last == "\n" || last == "\r" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
