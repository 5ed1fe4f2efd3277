import CohortCore
import CohortPlaybook
import CohortTemplate
import Foundation

/// Filters and lookups that read the coordinator (its clock, its working folder, its files,
/// its shell), as Ansible's run on the controller: `strftime`, `relpath`, `expanduser`,
/// `realpath`; `lookup('pipe')`, `lookup('fileglob')`, `lookup('first_found')`.
enum CoordinatorFilters {
    static func install(into environment: inout Environment, playbookDirectory: String) {
        environment.filters["strftime"] = { input, args, kwargs in
            let format = input.pythonString
            guard format.utf8.count <= 4096 else { throw TemplateError("strftime: a format of more than 4096 bytes") }
            let second = kwargs["second"] ?? args.first
            let utc = (kwargs["utc"] ?? (args.count > 1 ? args[1] : nil)).map(\.truthy) ?? false
            var time = time_t(Date().timeIntervalSince1970)
            if let second, second != .none {
                let value: Double? = switch second {
                    case .int(let n): Double(n)
                    case .float(let d): d
                    case .string(let s): Double(s)
                    default: nil
                    }
                guard let value, value.isFinite, abs(value) < 1e15 else { throw TemplateError("Invalid value for epoch value (\(second.pythonString))") }
                time = time_t(value.rounded(.down))
            }
            var parts = tm()
            if utc { gmtime_r(&time, &parts) } else { localtime_r(&time, &parts) }
            var buffer = [CChar](repeating: 0, count: 8192)
            let count = strftime(&buffer, buffer.count, format, &parts)
            return .string(String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        environment.filters["relpath"] = { input, args, kwargs in
            let start = (kwargs["start"] ?? args.first)?.pythonString ?? "."
            return .string(relativePath(input.pythonString, from: start))
        }
        environment.filters["expanduser"] = { input, _, _ in .string((input.pythonString as NSString).expandingTildeInPath) }
        environment.filters["realpath"] = { input, _, _ in
            .string(URL(fileURLWithPath: PlaybookPaths.absolute(input.pythonString)).resolvingSymlinksInPath().path)
        }
        environment.variableLookups["template"] = { terms, kwargs, variables, environment in
            try templateLookup(terms, kwargs, variables, environment, playbookDirectory: playbookDirectory)
        }
        environment.lookups["password"] = { args, kwargs in try PasswordLookup.run(args, kwargs, playbookDirectory: playbookDirectory) }
        environment.lookups["pipe"] = { args, _ in .list(try args.map { .string(try pipe($0.pythonString)) }) }
        environment.lookups["fileglob"] = { args, _ in
            var out: [Value] = []
            for pattern in args.map(\.pythonString) {
                let full = pattern.hasPrefix("/") ? pattern : playbookDirectory + "/files/" + pattern
                let fallback = pattern.hasPrefix("/") ? [] : [playbookDirectory + "/" + pattern]
                for candidate in [full] + fallback {
                    let found = TaskExecutor.glob(candidate).filter { !TaskExecutor.isDirectory($0) }
                    if !found.isEmpty {
                        out += found.map { .string($0) }
                        break
                    }
                }
            }
            return .list(out)
        }
        environment.lookups["first_found"] = { args, kwargs in
            var names: [String] = []
            for arg in args {
                if case .list(let list) = arg { names += list.map(\.pythonString) } else { names.append(arg.pythonString) }
            }
            for name in names {
                // In a template (not with_first_found) ansible-core 2.19 looks beside the playbook
                // only, not in files/.
                let candidates = name.hasPrefix("/") ? [name] : [playbookDirectory + "/" + name]
                if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return .list([.string(PlaybookPaths.absolute(found))]) }
            }
            if kwargs["skip"]?.truthy == true { return .list([]) }
            throw TemplateError("No file was found when using first_found.")
        }
    }

    /// `lookup('template', NAME…)`: each file rendered with the caller's variables, as
    /// ansible-core 2.19's lookup: found in `templates/` of the role (`role_path`), then the
    /// role's folder, then `templates/` beside the playbook and beside it; `template_vars=`
    /// over the variables; the template variables the template module adds.
    static func templateLookup(
        _ terms: [Value], _ kwargs: [String: Value], _ variables: @escaping @Sendable (String) -> Value?, _ environment: Environment,
        playbookDirectory: String
    ) throws -> [Value] {
        for option in ["variable_start_string", "variable_end_string", "comment_start_string", "comment_end_string", "convert_data", "jinja2_native"]
        where kwargs[option] != nil {
            throw TemplateError("option '\(option)' of lookup('template') is not supported by cohort play yet")
        }
        if let trim = kwargs["trim_blocks"], !trim.truthy { throw TemplateError("trim_blocks=False in lookup('template') is not supported by cohort play yet") }
        var extra = Dict()
        if let given = kwargs["template_vars"] {
            guard case .dict(let dict) = given else { throw TemplateError("template_vars must be a dict, not \(given.typeName)") }
            extra = dict
        }
        var bases: [String] = []
        if case .string(let role)? = variables("role_path") { bases.append(role) }
        bases.append(playbookDirectory)
        var out: [Value] = []
        for term in terms {
            let name = term.pythonString
            let candidates = name.hasPrefix("/") ? [name] : bases.flatMap { [$0 + "/templates/" + name, $0 + "/" + name] }
            guard let path = candidates.first(where: { !TaskExecutor.isDirectory($0) && FileManager.default.fileExists(atPath: $0) }),
                let data = FileManager.default.contents(atPath: path)
            else { throw TemplateError("the template file \(name) could not be found for the lookup") }
            var added: [String: Value] = [
                "template_path": .string(name), "template_fullpath": .string(PlaybookPaths.absolute(path)),
                "template_host": .string(templateHost),
            ]
            if variables("ansible_managed") == nil { added["ansible_managed"] = "Ansible managed" }
            let given = extra
            let template = added
            let scope: @Sendable (String) -> Value? = { key in given[.string(key)] ?? template[key] ?? variables(key) }
            out.append(try Template(String(decoding: data, as: UTF8.self)).render(scope, in: environment))
        }
        return out
    }

    /// `template_host`, as Ansible's `os.uname()[1]`: the node name, never resolved
    /// (`ProcessInfo.hostName` asks the resolver for a canonical name, a DNS query where the
    /// name is not in /etc/hosts).
    static let templateHost: String = {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }()

    /// Python's os.path.relpath: both made absolute against the working folder.
    static func relativePath(_ path: String, from start: String) -> String {
        let target = PlaybookPaths.absolute(path).split(separator: "/")
        let base = PlaybookPaths.absolute(start).split(separator: "/")
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// `lookup('pipe', CMD)`: the command's standard output run by /bin/sh on the coordinator,
    /// trailing whitespace removed, as Ansible's; a non-zero exit is an error. At most 64 MiB.
    static func pipe(_ command: String) throws(TemplateError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw TemplateError("lookup_plugin.pipe(\(command)) could not run: \(error)") }
        var data = Data()
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
            guard data.count <= 64 << 20 else {
                process.terminate()
                throw TemplateError("lookup_plugin.pipe(\(command)): more than 64 MiB of output")
            }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TemplateError("lookup_plugin.pipe(\(command)) returned \(process.terminationStatus)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
