import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `known_hosts`: a host's key added to, replaced in or removed from a known_hosts file on
/// the host, found with `ssh-keygen -F` (and removed with `ssh-keygen -R` when no key is
/// given) as ansible-core 2.19's module does, the file rewritten atomically (its mode and
/// owner kept). Results: the arguments, `changed`, `diff`.
struct KnownHostsModule {
    let args: Dict
    let call: ModuleCall

    init(_ args: Dict, _ call: ModuleCall) {
        self.args = args
        self.call = call
    }

    func execute() async throws -> Value {
        let name = args["name"]?.pythonString ?? ""
        let host = name.lowercased()
        var key = args["key"].flatMap { $0 == .none ? nil : $0.pythonString } ?? ""
        let present = (args["state"]?.pythonString ?? "present") == "present"
        let hashHost = SystemModules.bool(args["hash_host"])
        var path = args["path"].flatMap { $0 == .none ? nil : $0.pythonString } ?? "~/.ssh/known_hosts"
        if path == "~" || path.hasPrefix("~/") {
            let home = try await SystemModules.run(["sh", "-c", "printf %s \"$HOME\""], call)
            path = home.out + path.dropFirst()
        }
        var result: Dict = [
            "name": .string(name), "key": args["key"] ?? Value.none, "path": .string(path),
            "hash_host": .bool(hashHost), "state": .string(present ? "present" : "absent"),
        ]
        guard try await SystemModules.binPath("ssh-keygen", call) != nil else { return SystemModules.missingExecutable("ssh-keygen", result) }
        if key.isEmpty, present { return FileModules.failure("No key specified when adding a host", result) }
        if !key.isEmpty, hashHost {
            var salt = [UInt8](repeating: 0, count: 20)
            var generator = SystemRandomNumberGenerator()
            for index in salt.indices { salt[index] = generator.next() }
            key = KnownHostsEdit.hashed(host: host, key: key, salt: salt)
        }
        if !key.isEmpty, !key.hasSuffix("\n") { key += "\n" }
        if !key.isEmpty {
            if KnownHostsEdit.namesSeveralHosts(host) {
                return FileModules.failure(
                    "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.", result)
            }
            // The key alone in a file of its own: does ssh-keygen find the host in it?
            let alone = try await call.host.shell(
                "t=$(mktemp) && cat > \"$t\" && LC_ALL=C ssh-keygen -F \(ShellQuote.quote(host)) -f \"$t\"; rc=$?; rm -f \"$t\"; exit $rc",
                stdin: Array(key.utf8))
            if alone.stdout.isEmpty { return FileModules.failure("Host parameter does not match hashed host field in supplied key", result) }
        }

        let stat = try await FileModules.one(.stat(path: path, follow: true, checksum: false), call, check: false)
        var search = KnownHostsEdit.Search(found: false, replaceOrAdd: false, foundLine: nil)
        if stat["exists"]?.truthy == true {
            let listed = try await SystemModules.run(["ssh-keygen", "-F", host, "-f", path], call)
            if !(listed.out.isEmpty && listed.err.isEmpty && (listed.rc == 0 || listed.rc == 1)) {
                if listed.rc != 0 { return FileModules.failure("ssh-keygen failed (rc=\(listed.rc), stdout='\(listed.out)',stderr='\(listed.err)')", result) }
                if key.isEmpty {
                    search = KnownHostsEdit.Search(found: true, replaceOrAdd: false, foundLine: nil)
                } else {
                    do { search = try KnownHostsEdit.search(keygenOutput: listed.out, key: key) } catch { return FileModules.failure(error.message, result) }
                }
            }
        }

        let before = try await text(path, exists: stat["exists"]?.truthy == true)
        result["diff"] = [
            "before_header": .string(before == nil ? "/dev/null" : path), "after_header": .string(path), "before": .string(before ?? ""),
            "after": .string(KnownHostsEdit.after(before ?? "", search, present: present, key: key.isEmpty ? nil : key)),
        ]
        result["changed"] = false
        if !present, search.foundLine == nil, !key.isEmpty { return .dict(result) }
        if call.check {
            result["changed"] = .bool(search.replaceOrAdd || present != search.found)
            return .dict(result)
        }
        if search.found, key.isEmpty, !present {
            let removed = try await SystemModules.run(["ssh-keygen", "-R", host, "-f", path], call)
            if removed.rc != 0 { return FileModules.failure(removed.err, result.merging(["rc": .int(removed.rc), "stdout": .string(removed.out), "stderr": .string(removed.err)])) }
            result["changed"] = true
        }
        if search.replaceOrAdd || search.found != present {
            // Read again: ssh-keygen -R may have just rewritten it.
            let current = try await text(path, exists: true) ?? ""
            let written = KnownHostsEdit.after(current, search, present: present, key: key.isEmpty ? nil : key)
            let answer = try await FileModules.one(.write(path: path, content: Array(written.utf8)), call)
            if answer["failed"]?.truthy == true { return FileModules.failure("Failed to write to file '\(path)'.", result) }
            result["changed"] = true
        }
        return .dict(result)
    }

    /// The file's text, nil when it is not there (or cannot be read).
    func text(_ path: String, exists: Bool) async throws -> String? {
        guard exists else { return nil }
        let (bytes, _) = try await FileModules.readWhole(path, call)
        return bytes.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Dict {
    fileprivate func merging(_ other: Dict) -> Dict {
        var out = self
        for (key, value) in other.pairs { out[key] = value }
        return out
    }
}
