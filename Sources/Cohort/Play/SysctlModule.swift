import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `sysctl` (ansible.posix.sysctl, collection 12.3.0) on Linux: the key's value read with
/// `sysctl -e -n`, the file read and rewritten as the module does (`SysctlFile`), set with
/// `sysctl -w` (`sysctl_set`) and the file applied with `sysctl -p` (`reload`), deciding
/// `changed` as its `process()` does; check mode. Its result is `changed` alone.
enum SysctlModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func text(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }
        func flag(_ key: String, _ fallback: Bool) -> Bool { args[key].flatMap { $0 == .none ? nil : PlaybookLoader.boolean($0) } ?? fallback }
        let state = text("state") ?? "present"
        let rawValue = text("value")
        if state == "present", rawValue == nil { return FileModules.failure("state is present but all of the following are missing: value") }
        let name = PythonText.strip(text("name") ?? "")
        if name.isEmpty { return FileModules.failure("name cannot be blank") }
        if state == "present", rawValue == "" { return FileModules.failure("value cannot be blank") }
        let value = SysctlFile.parseValue(rawValue)
        let file = text("sysctl_file") ?? "/etc/sysctl.conf"
        let reload = flag("reload", true), setProc = flag("sysctl_set", false), ignoreErrors = flag("ignoreerrors", false)

        guard let tool = try await SystemModules.binPath("sysctl", call) else { return SystemModules.missingExecutable("sysctl") }
        // The module runs "sysctl -e -n NAME" as one string, split as shlex splits it.
        let read = try await sysctl("\(tool) -e -n \(name)", call)
        let procValue = read.rc == 0 ? read.out : nil

        let stat = try await FileModules.one(.stat(path: file, follow: true, checksum: false), call, check: false)
        var current = ""
        if stat["isreg"]?.truthy == true {
            let (bytes, why) = try await FileModules.readWhole(file, call)
            guard let bytes else { return FileModules.failure("Failed to open \(file): \(why ?? "cannot read")") }
            current = PythonText.text(bytes)
        }
        let parsed = SysctlFile(current)
        let inFile = parsed.values[name]

        var changed = false, writeFile = false, setValue = false
        if inFile == nil, state == "present" {
            (changed, writeFile) = (true, true)
        } else if inFile == nil {
            changed = false
        } else if let inFile, !inFile.isEmpty, state == "absent" {
            (changed, writeFile) = (true, true)
        } else if inFile != value {
            (changed, writeFile) = (true, true)
        } else if reload {
            if procValue == nil || !SysctlFile.equal(procValue, value) { changed = true }
        }
        if setProc, state == "present" {
            if procValue == nil {
                changed = true
            } else if !SysctlFile.equal(procValue, value) {
                (changed, setValue) = (true, true)
            }
        }
        if !call.check {
            if setValue {
                let quoted = PythonText.split(value).isEmpty ? value : "\"\(value)\""
                let set = try await sysctl("\(tool) \(ignoreErrors ? "-e" : "") -w \(name)=\(quoted)", call)
                if set.rc != 0 || failedBySysctl(set.err) { return FileModules.failure("setting \(name) failed: \(set.out)\(set.err)") }
            }
            if writeFile {
                let answer = try await FileModules.one(
                    .write(path: file, content: Array(parsed.fixed(name: name, value: value, present: state == "present").utf8), follow: true), call)
                if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "cannot write \(file)") }
            }
            if changed, reload {
                let argv = [tool] + (ignoreErrors ? ["-e"] : []) + ["-p", file]
                let applied = try await SystemModules.run(argv, call)
                if applied.rc != 0 || failedBySysctl(applied.err) { return FileModules.failure("Failed to reload sysctl: \(applied.out)\(applied.err)") }
            }
        }
        return ["changed": .bool(changed)]
    }

    /// One command line as the module hands it to `run_command`, split as `shlex.split`
    /// splits it, in the C locale (the module reads sysctl's stderr).
    static func sysctl(_ line: String, _ call: ModuleCall) async throws -> (rc: Int, out: String, err: String) {
        try await SystemModules.run((try? Shlex.split(line)) ?? [line], call)
    }

    /// sysctl may fail to set a value and still exit 0: the module also reads its stderr.
    static let setFailure = try? PythonRegex(#"^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$"#, multiline: true)

    static func failedBySysctl(_ err: String) -> Bool {
        (try? setFailure?.firstMatch(err)) != nil
    }
}
