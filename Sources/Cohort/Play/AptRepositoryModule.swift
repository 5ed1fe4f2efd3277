import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `apt_repository`: ansible-core 2.19's module on one-line sources. The host's sources.list
/// and sources.list.d/*.list are read in one round trip, edited as the module edits them
/// (AptSources), and, when anything changed, every file read is written back normalized
/// (atomically, keeping its mode and owner; a new one 0644 or `mode`), a file left without
/// lines removed, then the cache refreshed with `apt-get update`.
enum AptRepositoryModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let repo = args["repo"]?.pythonString ?? ""
        let state = args["state"]?.pythonString ?? "present"
        let updateCache = args["update_cache"].flatMap(PlaybookLoader.boolean) ?? true
        let filename = args["filename"].flatMap { $0 == .none ? nil : $0.pythonString }
        if repo.isEmpty { return FileModules.failure("Please set argument 'repo' to a non-empty value") }
        if repo.hasPrefix("ppa:") { return FileModules.failure("Cohort's apt_repository takes source lines; a ppa: repository (Launchpad) is not supported") }

        let read = try await call.host.shell("""
            for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
              [ -f "$f" ] || continue
              printf '%s\\n' "$f"; if [ -L "$f" ]; then readlink "$f" | base64 -w0; fi; echo; base64 -w0 < "$f"; echo
            done
            command -v apt-key >/dev/null || command -v gpg >/dev/null || echo 'cohort:no-key-tool'
            """)
        let lines = Strings.lines(String(decoding: read.stdout, as: UTF8.self))
        if lines.last == "cohort:no-key-tool" {
            return FileModules.failure(
                "Either apt-key or gpg binary is required, but neither could be found.The apt-key CLI has been deprecated and removed in modern Debian and derivatives, you might want to use \"deb822_repository\" instead.")
        }
        var files: [(path: String, text: String)] = []
        var links: [String: String] = [:]
        var index = 0
        while index + 2 < lines.count, lines[index] != "cohort:no-key-tool" {
            let path = lines[index]
            if !lines[index + 1].isEmpty, let target = Data(base64Encoded: lines[index + 1]) { links[path] = String(decoding: target, as: UTF8.self) }
            files.append((path, String(decoding: Data(base64Encoded: lines[index + 2]) ?? Data(), as: UTF8.self)))
            index += 3
        }

        let before = AptSources(files)
        var after = before
        do {
            if state == "present" { try after.add(repo, filename: filename) } else { try after.remove(repo) }
        } catch AptSources.EditError.invalid(let line) {
            return FileModules.failure("Invalid repository string: \(line)")
        }
        let (old, new) = (before.dump(), after.dump())
        let changed = old != new
        var added: [String] = [], removed: [String] = [], diff: [Value] = []
        if changed {
            added = new.keys.filter { old[$0] == nil }.sorted()
            removed = old.keys.filter { new[$0] == nil }.sorted()
            if call.diff {
                for name in Set(added + removed).sorted() {
                    diff.append(["before": .string(old[name] ?? ""), "after": .string(new[name] ?? ""),
                                 "before_header": .string(old[name] == nil ? "/dev/null" : name), "after_header": .string(new[name] == nil ? "/dev/null" : name)])
                }
            }
        }
        if changed, !call.check {
            if let failure = try await save(after, links: links, mode: args["mode"], call) { return failure }
            if updateCache {
                let refreshed = try await call.host.shell("LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get update -q")
                if refreshed.rc != 0 {
                    // As the module: the files put back as they were before the failure is told.
                    _ = try await save(before, links: links, mode: nil, call, removing: Set(added))
                    let err = String(decoding: refreshed.stderr, as: UTF8.self)
                    return FileModules.failure("Failed to update apt cache: \(err.isEmpty ? "unknown reason" : err)")
                }
            }
        }
        return ["changed": .bool(changed), "repo": .string(repo), "sources_added": .list(added.map { .string($0) }),
                "sources_removed": .list(removed.map { .string($0) }), "state": .string(state), "diff": .list(diff)]
    }

    /// Every file written back as `SourcesList.save` does (through a link to its target), a
    /// file without lines removed; nil when all went well.
    static func save(_ sources: AptSources, links: [String: String], mode: Value?, _ call: ModuleCall, removing: Set<String> = []) async throws -> Value? {
        var ops: [FsOp] = removing.sorted().map { .remove(path: $0) }
        let dump = sources.dump()
        for (path, lines) in sources.files {
            guard !lines.isEmpty else {
                ops.append(.remove(path: path))
                continue
            }
            let attributes = sources.newRepositories.contains(path) ? FileModules.attributes(["mode": mode ?? .none]) : .unchanged
            ops.append(.write(path: path, content: Array((dump[path] ?? "").utf8), follow: true, attributes: attributes))
        }
        for answer in try await call.host.fs(ops, check: false) where answer.dict?["failed"]?.truthy == true {
            return FileModules.failure(answer.dict?["msg"]?.pythonString ?? "the sources could not be written")
        }
        return nil
    }
}
