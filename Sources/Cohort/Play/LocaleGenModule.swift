import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire

/// `locale_gen` (community.general.locale_gen, collection 12.3.0), glibc's way: a name is
/// available when /usr/share/i18n/SUPPORTED or `locale -a` knows it, present when `locale -a`
/// lists it; a change enables (or comments out) its lines in /etc/locale.gen and runs
/// `locale-gen`. As the module's ModuleHelper reports it, `changed` is whether `locale -a`
/// answers differently after than before, so check mode never says changed. Ubuntu's older way
/// (/var/lib/locales/supported.d without /etc/locale.gen) fails by name.
enum LocaleGenModule {
    static let localeGen = "/etc/locale.gen", supported = "/usr/share/i18n/SUPPORTED", ubuntu = "/var/lib/locales/supported.d"

    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let names: [String] =
            switch args["name"] {
            case .list(let items)?: items.map(\.pythonString)
            case .string(let text)?: text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            case let other?: [other.pythonString]
            case nil: []
            }
        let state = args["state"]?.pythonString ?? "present"
        // The module's output variables, in the failure too (there also as `output` and `vars`).
        var output: Dict = ["name": .list(names.map { .string($0) })]
        func fail(_ message: String) -> Value {
            var failed = output
            failed["output"] = .dict(output)
            failed["vars"] = .dict(output)
            return FileModules.failure(message, failed)
        }

        let etc = try await FileModules.one(.stat(path: localeGen, follow: true, checksum: false), call, check: false)
        guard etc["exists"]?.truthy == true else {
            let legacy = try await FileModules.one(.stat(path: ubuntu, follow: true, checksum: false), call, check: false)
            if legacy["exists"]?.truthy == true {
                return fail("Cohort's locale_gen has glibc's way only (/etc/locale.gen); this host has Ubuntu's older \(ubuntu)")
            }
            return fail("\(ubuntu) and \(localeGen) are missing. Is the package \"locales\" installed?")
        }
        output["ubuntu_mode"] = false
        output["mechanism"] = "glibc"

        func listed() async throws -> Result<String, CommandFailure> {
            let ran = try await SystemModules.run(["locale", "-a"], call)
            return ran.rc == 0 ? .success(ran.out) : .failure(CommandFailure(argv: ["locale", "-a"], ran: ran))
        }
        let supportedText: String
        switch try await MoreModules.read(supported, call) {
        case .text(let text): supportedText = text
        case .missing: return fail("[Errno 2] No such file or directory: '\(supported)'")
        case .failed(let why): return fail(why["msg"]?.pythonString ?? "cannot read \(supported)")
        }
        let before: String
        switch try await listed() {
        case .success(let out): before = out
        case .failure(let failure): return failure.result(output)
        }
        let missing = try LocaleGen.unavailable(names, supported: supportedText, localeA: before)
        if !missing.isEmpty {
            return fail("The following locales you have entered are not available on your system: " + missing.joined(separator: ", "))
        }
        let wasPresent = LocaleGen.notPresent(names, localeA: before).isEmpty
        var result = output
        result["changed"] = false
        guard (wasPresent ? "present" : "absent") != state, !call.check else { return .dict(result) }

        let (bytes, why) = try await FileModules.readWhole(localeGen, call)
        guard let bytes else { return fail(why ?? "cannot read \(localeGen)") }
        let edited = try LocaleGen.edit(PythonText.text(bytes), names: names, enabled: state == "present")
        // Rewritten in place, as the module's open(…, 'w'): the file keeps its inode, mode and owner.
        let written = try await call.host.shell("cat > " + ShellQuote.quote(localeGen), stdin: Array(edited.utf8))
        if written.rc != 0 { return fail("[Errno 13] cannot write \(localeGen): " + String(decoding: written.stderr, as: UTF8.self)) }
        let generated = try await SystemModules.run(["locale-gen"], call)
        if generated.rc != 0 { return CommandFailure(argv: ["locale-gen"], ran: generated).result(output) }
        switch try await listed() {
        case .success(let after): result["changed"] = .bool(LocaleGen.notPresent(names, localeA: after).isEmpty != wasPresent)
        case .failure(let failure): return failure.result(output)
        }
        return .dict(result)
    }

    /// A command the module runs with `check_rc`: its failure carries the command and what it said.
    struct CommandFailure: Error {
        var argv: [String]
        var ran: (rc: Int, out: String, err: String)

        func result(_ output: Dict) -> Value {
            var failed = output
            failed["cmd"] = .string(argv.joined(separator: " "))
            failed["rc"] = .int(ran.rc)
            failed["stdout"] = .string(ran.out)
            failed["stderr"] = .string(ran.err)
            return FileModules.failure(PythonText.rstrip(ran.err), failed)
        }
    }
}
