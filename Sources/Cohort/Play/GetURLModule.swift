import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `get_url`, as ansible-core 2.19's module decides: an existing `dest` with a matching
/// `checksum` (and no `force`) is left alone; otherwise the URL is fetched on the host (the
/// worker's `http` op, `If-Modified-Since` the file's mtime so that an unchanged file answers
/// 304), the download's SHA-1 compared with `dest`'s, the file moved into place only when it
/// differs (an existing file's mode and owner kept, a new one's from the umask, as
/// `atomic_move`), then `mode`/`owner`/`group` applied. Digests are the host's coreutils
/// (`sha256sum`…), so the file never travels to the coordinator. http URLs only.
struct GetURLModule {
    let args: Dict
    let call: ModuleCall

    static let digests = ["md5": "md5sum", "sha1": "sha1sum", "sha224": "sha224sum", "sha256": "sha256sum", "sha384": "sha384sum", "sha512": "sha512sum"]

    func string(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }

    func execute() async throws -> Value {
        let url = string("url") ?? ""
        var dest = string("dest") ?? ""
        var result: Dict = ["changed": false, "checksum_dest": .none, "checksum_src": .none, "dest": .string(dest), "elapsed": 0, "url": .string(Self.masked(url))]
        if SystemModules.bool(args["backup"]) { return FileModules.failure("get_url: backup is not supported by cohort play yet", result) }
        var force = SystemModules.bool(args["force"])
        var algorithm = "", checksum = ""
        if let given = string("checksum"), !given.isEmpty {
            guard let colon = given.firstIndex(of: ":") else { return FileModules.failure("The checksum parameter has to be in format <algorithm>:<checksum>", result) }
            algorithm = String(given[..<colon])
            checksum = String(given[given.index(after: colon)...])
            if checksum.contains("://") { return FileModules.failure("get_url: a checksum from a URL is not supported by cohort play yet", result) }
            // Python's re.sub(r'\W+', '', checksum).lower(), then int(checksum, 16).
            checksum = String(checksum.filter { $0.isLetter || $0.isNumber || $0 == "_" }).lowercased()
            guard !checksum.isEmpty, checksum.allSatisfy(\.isHexDigit) else { return FileModules.failure("The checksum format is invalid", result) }
            guard Self.digests[algorithm] != nil else {
                return FileModules.failure("get_url: checksum algorithm '\(algorithm)' is not supported (\(Self.digests.keys.sorted().joined(separator: ", ")))", result)
            }
        }
        let found = try await stat(dest)
        let destIsDir = found["isdir"]?.truthy == true
        var since: Int?
        if !destIsDir, found["exists"]?.truthy == true {
            var mismatch = false
            if !force, !checksum.isEmpty { mismatch = try await digest(dest, algorithm) != checksum }
            if !force, !checksum.isEmpty, !mismatch {
                let changed = try await attributes(dest)
                result["changed"] = .bool(changed)
                result["msg"] = .string(changed ? "file already exists but file attributes changed" : "file already exists")
                return .dict(try await withPathInfo(result, dest))
            }
            since = Self.wholeSeconds(found["mtime"])
            if mismatch { force = true }
        }
        let folder = string("tmp_dest") ?? (destIsDir ? dest : (dest as NSString).deletingLastPathComponent)
        var request = FsHTTP(url: url)
        request.method = call.check ? "HEAD" : "GET"
        request.timeoutSeconds = Int64(try ModuleSeconds.parse(args["timeout"], "timeout", default: 10))
        request.directory = folder.isEmpty ? "." : folder
        request.forceBasicAuth = SystemModules.bool(args["force_basic_auth"])
        if !force, let since { request.ifModifiedSince = Int64(since) }
        request.username = string("url_username")
        request.password = string("url_password")
        request.agent = string("http_agent")
        request.headers = FileModules.headers(args["headers"]?.dict ?? Dict())
        let started = Date()
        let info = try await FileModules.one(.http(request), call, check: false)
        let elapsed = Int(Date().timeIntervalSince(started))
        if info["failed"]?.truthy == true { return FileModules.failure(info["msg"]?.pythonString ?? "get_url failed", result) }
        let status = info["status"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? -1
        let message = info["msg"] ?? ""
        switch status {
        case 304:
            let out: Dict = ["url": .string(Self.masked(url)), "dest": .string(dest), "changed": false, "msg": message, "status_code": 304, "elapsed": .int(elapsed)]
            return .dict(try await withPathInfo(out, dest))
        case -1:
            return FileModules.failure(message.pythonString, ["url": .string(Self.masked(url)), "dest": .string(dest), "elapsed": .int(elapsed)])
        case 200: break
        default:
            return FileModules.failure(
                "Request failed", ["status_code": .int(status), "response": message, "url": .string(Self.masked(url)), "dest": .string(dest), "elapsed": .int(elapsed)])
        }
        guard let tmp = info["tmp"]?.string else { return FileModules.failure("Request failed", result) }
        result["elapsed"] = .int(elapsed)
        result["src"] = .string(tmp)
        if destIsDir {
            let headers = info["headers"]?.dict
            let named = HTTPFilename.fromDisposition(headers?["content-disposition"]?.string)
            dest = (dest.hasSuffix("/") ? dest : dest + "/") + (named ?? HTTPFilename.fromURL(info["url"]?.pythonString ?? url))
            result["dest"] = .string(dest)
        }
        let source = try await stat(tmp, checksum: true)
        result["checksum_src"] = source["checksum"] ?? .none
        let target = try await stat(dest, checksum: true)
        if target["exists"]?.truthy == true {
            result["checksum_dest"] = target["checksum"] ?? .none
        } else {
            let parent = (dest as NSString).deletingLastPathComponent
            if try await stat(parent.isEmpty ? "." : parent)["exists"]?.truthy != true {
                try await remove(tmp)
                return FileModules.failure("Destination \(parent) does not exist", result)
            }
        }
        if call.check {
            try await remove(tmp)
            result["changed"] = .bool(result["checksum_src"] != result["checksum_dest"])
            result["msg"] = message
            return .dict(result)
        }
        if !checksum.isEmpty {
            let got = try await digest(tmp, algorithm)
            if got != checksum {
                try await remove(tmp)
                return FileModules.failure("The checksum for \(tmp) did not match \(checksum); it was \(got).", result)
            }
        }
        var changed = false
        if result["checksum_src"] != result["checksum_dest"] {
            // atomic_move: the file replaced gives its mode and owner; a new one gets 0666
            // less the umask (mkstemp made it 0600).
            let (q, t) = (ShellQuote.quote(tmp), ShellQuote.quote(dest))
            let moved = try await call.host.shell(
                "if [ -e \(t) ]; then chmod --reference=\(t) \(q) && chown --reference=\(t) \(q) 2>/dev/null; "
                    + "else chmod $(printf '%o' $(( 0666 & ~0$(umask) ))) \(q); fi; mv -f \(q) \(t)")
            guard moved.rc == 0 else {
                try await remove(tmp)
                return FileModules.failure("failed to copy \(tmp) to \(dest): \(String(decoding: moved.stderr, as: UTF8.self))", result)
            }
            changed = true
        } else {
            try await remove(tmp)
        }
        if try await attributes(dest) { changed = true }
        result["changed"] = .bool(changed)
        result["md5sum"] = .string(try await digest(dest, "md5"))
        result["msg"] = message
        result["status_code"] = .int(status)
        return .dict(try await withPathInfo(result, dest))
    }

    func stat(_ path: String, checksum: Bool = false) async throws -> Dict {
        try await FileModules.one(.stat(path: path, follow: true, checksum: checksum), call, check: false)
    }

    func remove(_ path: String) async throws {
        _ = try await FileModules.one(.remove(path: path), call, check: false)
    }

    /// A file's digest by the host's coreutils, reading it on standard input (no name to escape).
    func digest(_ path: String, _ algorithm: String) async throws -> String {
        guard let tool = Self.digests[algorithm] else { return "" }
        let out = try await call.host.shell("\(tool) < \(ShellQuote.quote(path))")
        return String(String(decoding: out.stdout, as: UTF8.self).prefix { $0.isHexDigit })
    }

    /// `mode`, `owner`, `group` applied as set_fs_attributes_if_different: whether any changed.
    func attributes(_ path: String) async throws -> Bool {
        let attributes = FileModules.attributes(args)
        guard attributes != .unchanged else { return false }
        let answer = try await FileModules.one(.attributes(path: path, attributes: attributes), call)
        if answer["failed"]?.truthy == true { throw CohortError(.invalidInput, answer["msg"]?.pythonString ?? "cannot set the attributes of \(path)") }
        return answer["changed"]?.truthy == true
    }

    /// What exit_json adds for a result with `dest` (FileModules.withPathInfo).
    func withPathInfo(_ result: Dict, _ path: String) async throws -> Dict {
        try await FileModules.withPathInfo(result, path, call)
    }

    /// A host's mtime as whole seconds for If-Modified-Since; nil where it is not a finite
    /// number inside Int's range (Int(Double) would trap on a host's hostile stat).
    static func wholeSeconds(_ value: Value?) -> Int? {
        guard let seconds = value?.number, seconds.isFinite else { return nil }
        return Int(exactly: seconds.rounded(.down))
    }

    /// Ansible's mask_url: a password in the URL is shown as `********`.
    static func masked(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let info = url[scheme.upperBound..<at]
        guard let colon = info.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":********" + String(url[at...])
    }
}

/// The file name get_url gives a download into a folder: Content-Disposition's, else the
/// URL path's last part (`index.html` for none), as its url_filename.
enum HTTPFilename {
    static func fromURL(_ url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        guard let slash = rest.firstIndex(of: "/") else { return "index.html" }
        let name = rest[slash...].split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return name.isEmpty ? "index.html" : name
    }

    static func fromDisposition(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "filename" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            let base = (value as NSString).lastPathComponent
            return base.isEmpty || base == "/" ? nil : base
        }
        return nil
    }
}
