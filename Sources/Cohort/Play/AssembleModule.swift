import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Crypto
import Foundation

/// `assemble`: the regular files of a folder on the host (sorted by name, as Python sorts
/// them; `regexp` searched in the name, hidden ones left out with `ignore_hidden`) joined into
/// `dest`, a `delimiter` between them and a newline after a fragment that lacks one, as
/// ansible-core 2.19's module joins them; written atomically (mode, owner, backup, validate
/// as `copy`) only when its SHA-1 differs.
enum AssembleModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let src = args["src"]?.pythonString ?? ""
        let dest = args["dest"]?.pythonString ?? ""
        if args["remote_src"].flatMap(PlaybookLoader.boolean) == false {
            return FileModules.failure("assemble: remote_src: false (fragments on the coordinator) is not supported by cohort play yet")
        }
        var result: Dict = ["src": .string(src), "dest": .string(dest)]
        let folder = try await FileModules.one(.stat(path: src, follow: true, checksum: false), call, check: false)
        if folder["exists"]?.truthy != true { return FileModules.failure("Source (\(src)) does not exist", result) }
        if folder["isdir"]?.truthy != true { return FileModules.failure("Source (\(src)) is not a directory", result) }
        var pattern: PythonRegex?
        if let regexp = args["regexp"].flatMap({ $0 == .none ? nil : $0.pythonString }) {
            do { pattern = try PythonRegex(regexp) } catch { return FileModules.failure("Invalid Regexp (\(error.message)) in \"\(regexp)\"", result) }
        }
        if let validate = args["validate"]?.pythonString, !validate.contains("%s") { return FileModules.failure("validate must contain %s: \(validate)", result) }

        // The folder's regular files (links followed, as os.path.isfile), NUL-separated.
        let listed = try await call.host.shell(
            "cd \(ShellQuote.quote(src)) && for f in * .[!.]* ..?*; do if [ -f \"$f\" ]; then printf '%s\\0' \"$f\"; fi; done")
        guard listed.rc == 0 else { return FileModules.failure("cannot list \(src): \(String(decoding: listed.stderr, as: UTF8.self))", result) }
        let names = listed.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        var assembled: [UInt8] = []
        var delimiter = args["delimiter"].flatMap { $0 == .none ? nil : Array($0.pythonString.utf8) }
        var (delimit, newline) = (false, false)
        for name in names {
            if let pattern, try pattern.firstMatch(name) == nil { continue }
            if SystemModules.bool(args["ignore_hidden"]), name.hasPrefix(".") { continue }
            let (bytes, why) = try await FileModules.readWhole(src + "/" + name, call)
            guard let fragment = bytes else { return FileModules.failure(why ?? "cannot read \(name)", result) }
            if newline { assembled.append(10) }
            if delimit, let raw = delimiter, !raw.isEmpty {
                // Python's codecs.escape_decode, applied again for each fragment as the module does.
                guard let decoded = EscapeDecode.bytes(raw) else {
                    return FileModules.failure("invalid escape in delimiter '\(String(decoding: raw, as: UTF8.self))'", result)
                }
                delimiter = decoded
                assembled += decoded
                if decoded.last != 10 { assembled.append(10) }
            }
            assembled += fragment
            guard assembled.count <= FileModules.readLimit else { return FileModules.failure("the assembled file is larger than \(FileModules.readLimit) bytes", result) }
            delimit = true
            newline = fragment.last != 10
        }
        let checksum = Insecure_SHA1.hex(assembled)
        result["checksum"] = .string(checksum)
        result["md5sum"] = .string(Hex.lower(Insecure.MD5.hash(data: assembled)))
        let found = try await FileModules.one(.stat(path: dest, follow: true, checksum: true), call, check: false)
        let differs = found["checksum"]?.string != checksum
        if differs, let validate = args["validate"]?.pythonString {
            switch try await FileModules.validation(assembled, beside: dest, with: validate, ownership: args, call) {
            case .passed: break
            case .failed(let message): return FileModules.failure(message, result)
            case .refused(let rc, let out, let err):
                result["validation"] = ["rc": .int(rc), "stdout": .string(out), "stderr": .string(err)]
                return FileModules.failure("failed to validate: rc:\(rc) error:\(err)", result)
            }
        }
        let backup = SystemModules.bool(args["backup"]) && differs
        let answer = try await FileModules.one(
            .write(path: dest, content: assembled, follow: true, backup: backup, attributes: FileModules.attributes(args)), call)
        if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "cannot write \(dest)", result) }
        if let backup = answer["backup_file"] { result["backup_file"] = backup }
        result["changed"] = .bool(differs || answer["changed"]?.truthy == true)
        result["msg"] = "OK"
        return .dict(result)
    }
}
