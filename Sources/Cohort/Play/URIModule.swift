import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `uri`, as ansible-core 2.19's module answers: the request made from the host (the
/// worker's `http` op, the body of any answer brought back, at most 8 MiB), the response's
/// headers as result keys (lower-cased, `-` as `_`), `json` when the body is JSON, `content`
/// with `return_content`, `dest` written when the status is wanted; a status outside
/// `status_code` fails the task. http URLs only.
struct URIModule {
    let args: Dict
    let call: ModuleCall

    func string(_ key: String) -> String? { args[key].flatMap { $0 == .none ? nil : $0.pythonString } }

    func execute() async throws -> Value {
        // Ansible's module has no check mode: it is skipped, and nothing is sent.
        if call.check { return ["changed": false, "skipped": true, "msg": "remote module (uri) does not support check mode"] }
        let url = string("url") ?? ""
        let masked = GetURLModule.masked(url)
        let method = (string("method") ?? "GET").uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            return FileModules.failure("Parameter 'method' needs to be a single word in uppercase, like GET or POST.")
        }
        var wanted: [Int] = []
        let codes: [Value] = args["status_code"].map { value -> [Value] in
            if case .list(let list) = value { return list }
            // Ansible's list type splits text on commas: `status_code=201,202`.
            return value.pythonString.split(separator: ",").map { .string(String($0)) }
        } ?? [200]
        for code in codes {
            guard let number = Int(code.pythonString.trimmingCharacters(in: .whitespaces)) else {
                return FileModules.failure("status_code: '\(code.pythonString)' is not an integer")
            }
            wanted.append(number)
        }
        var headers = args["headers"]?.dict ?? Dict()
        func setType(_ type: String) {
            if !headers.keys.contains(where: { $0.pythonString.lowercased() == "content-type" }) { headers["Content-Type"] = .string(type) }
        }
        var body: [UInt8]?
        if let given = args["body"], given != .none {
            switch (string("body_format") ?? "raw").lowercased() {
            case "json":
                let text = try given.string ?? given.json(asciiOnly: true)
                body = Array(text.utf8)
                setType("application/json")
            case "form-urlencoded":
                guard let text = given.string ?? Self.formEncoded(given) else { return FileModules.failure("failed to parse body as form_urlencoded", ["elapsed": 0]) }
                body = Array(text.utf8)
                setType("application/x-www-form-urlencoded")
            case "form-multipart":
                return FileModules.failure("uri: body_format form-multipart is not supported by cohort play yet")
            default:
                guard let text = given.string else { return FileModules.failure("uri: a raw body must be text (body_format json sends data)") }
                body = Array(text.utf8)
            }
        }
        for (key, exists) in [("creates", true), ("removes", false)] {
            guard let path = string(key) else { continue }
            let found = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
            if (found["exists"]?.truthy == true) == exists {
                return ["changed": false, "stdout": .string(exists ? "skipped, since '\(path)' exists" : "skipped, since '\(path)' does not exist")]
            }
        }
        var dest = string("dest")
        var request = FsHTTP(url: url)
        request.method = method
        request.timeoutSeconds = Int64(try ModuleSeconds.parse(args["timeout"], "timeout", default: 30))
        request.capture = true
        request.follow = string("follow_redirects") ?? "safe"
        request.forceBasicAuth = SystemModules.bool(args["force_basic_auth"])
        request.headers = FileModules.headers(headers)
        request.body = body
        request.username = string("url_username")
        request.password = string("url_password")
        request.agent = string("http_agent")
        if let path = dest, !SystemModules.bool(args["force"]) {
            let found = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
            if found["isreg"]?.truthy == true, let since = GetURLModule.wholeSeconds(found["mtime"]) { request.ifModifiedSince = Int64(since) }
        }
        let started = Date()
        let info = try await FileModules.one(.http(request), call, check: false)
        let elapsed = Int(Date().timeIntervalSince(started))
        if info["failed"]?.truthy == true { return FileModules.failure(info["msg"]?.pythonString ?? "uri failed") }
        let status = info["status"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? -1
        let finalURL = info["url"]?.pythonString ?? url
        var result: Dict = ["redirected": .bool(GetURLModule.masked(finalURL) != masked)]
        var responseHeaders = info["headers"]?.dict ?? Dict()
        if (200..<300).contains(status) {
            let cookies = Self.cookies(responseHeaders["set-cookie"]?.string)
            responseHeaders["cookies_string"] = .string(cookies.map { "\($0.0)=\($0.1)" }.joined(separator: "; "))
            responseHeaders["cookies"] = .dict(Dict(strings: cookies.map { ($0.0, .string($0.1)) }))
        }
        for (key, value) in responseHeaders.pairs { result[.string(key.pythonString.replacingOccurrences(of: "-", with: "_"))] = value }
        result["msg"] = info["msg"] ?? ""
        result["url"] = .string(GetURLModule.masked(finalURL))
        result["status"] = .int(status)
        result["elapsed"] = .int(elapsed)
        result["changed"] = false
        if let location = result["location"]?.string { result["location"] = .string(Self.joined(location, base: masked)) }
        let content = info["content"]?.string.flatMap { Base64.decode($0) } ?? []
        if var path = dest, status != -1 {
            let found = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
            if found["isdir"]?.truthy == true {
                path = (path.hasSuffix("/") ? path : path + "/") + HTTPFilename.fromURL(finalURL)
                dest = path
            }
            if wanted.contains(status), status != 304 {
                let answer = try await FileModules.one(.write(path: path, content: content, attributes: FileModules.attributes(args)), call)
                if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "cannot write \(path)", result) }
                result["changed"] = true
            }
            result["path"] = .string(path)
        }
        let type = Self.contentType(responseHeaders["content-type"]?.string)
        let text = String(decoding: content, as: UTF8.self)
        if ["json", "javascript"].contains(type.subtype.lowercased()), let parsed = try? Value(json: text) { result["json"] = parsed }
        let returnContent = SystemModules.bool(args["return_content"])
        if !wanted.contains(status) {
            let codes = "[" + wanted.map(String.init).joined(separator: ", ") + "]"
            result["msg"] = .string("Status code was \(status) and not \(codes): \(result["msg"]?.pythonString ?? "")")
            if returnContent { result["content"] = .string(text) }
            result["failed"] = true
            return .dict(try await Self.withPathInfo(result, call))
        }
        if returnContent { result["content"] = .string(text) }
        return .dict(try await Self.withPathInfo(result, call))
    }

    /// With `dest`, the result names the file, and exit_json and fail_json add its
    /// attributes (owner, mode, size, state…), as for every module result with a `path`.
    static func withPathInfo(_ result: Dict, _ call: ModuleCall) async throws -> Dict {
        guard let path = result["path"]?.string else { return result }
        return try await FileModules.withPathInfo(result, path, call)
    }

    /// The subtype of Content-Type (`json` of `application/json; charset=utf-8`; a `+json`
    /// suffix counts), `application/octet-stream` without one, as parse_content_type.
    static func contentType(_ header: String?) -> (type: String, subtype: String) {
        let full = (header ?? "application/octet-stream").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let parts = full.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return ("text", "plain") }
        let subtype = parts[1].contains("+") ? String(parts[1].split(separator: "+").last ?? "") : parts[1]
        return (parts[0], subtype)
    }

    /// `Set-Cookie` values (joined with ", " when repeated) as name and value pairs.
    static func cookies(_ header: String?) -> [(String, String)] {
        guard let header else { return [] }
        var out: [(String, String)] = []
        for cookie in header.components(separatedBy: ", ") {
            let pair = cookie.split(separator: ";", maxSplits: 1).first ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains(" ") else { continue }
            out.append((name, String(pair[pair.index(after: equals)...])))
        }
        return out
    }

    /// Python's urljoin for a Location header.
    static func joined(_ location: String, base: String) -> String {
        if location.contains("://") { return location }
        guard let scheme = base.range(of: "://") else { return location }
        let afterScheme = base[scheme.upperBound...]
        let hostEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let origin = String(base[..<hostEnd])
        if location.hasPrefix("/") { return origin + location }
        let path = String(base[hostEnd...]).split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let folder = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + folder + location
    }

    /// urllib's urlencode(pairs, doseq=True) of a mapping or a list of pairs.
    static func formEncoded(_ value: Value) -> String? {
        var pairs: [(String, Value)] = []
        switch value {
        case .dict(let dict): pairs = dict.pairs.map { ($0.key.pythonString, $0.value) }
        case .list(let items):
            for item in items {
                guard case .list(let pair) = item, pair.count == 2 else { return nil }
                pairs.append((pair[0].pythonString, pair[1]))
            }
        default: return nil
        }
        var out: [String] = []
        for (key, values) in pairs {
            let list: [Value] = if case .list(let l) = values { l } else { [values] }
            for item in list where item != .none { out.append(quotePlus(key) + "=" + quotePlus(item.pythonString)) }
        }
        return out.joined(separator: "&")
    }

    /// Python's quote_plus: letters, digits and `_.-~` kept, a space as `+`, the rest `%XX`.
    static func quotePlus(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
