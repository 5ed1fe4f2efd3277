import CohortCore
import CohortSSH
import Foundation

/// Puts the worker on a host: checks the platform, reuses a verified cached copy, or uploads it
/// to a temporary name and renames it into `~/.cache/cohort/<sha256>/` (mode 0700).
struct WorkerDeployer: Sendable {
    let binary: WorkerBinary

    struct Deployed: Sendable {
        /// Shell words that start the worker.
        var command: String
        var cores: Int
        var uploaded: Bool
    }

    var directory: String { "\"$HOME/.cache/cohort/\(binary.sha256)\"" }

    /// One round trip: the platform, the core count, and whether the cached copy is good. A
    /// copy is good when its hash matches; that is checked once and remembered in `.verified`
    /// as the file's inode, size, mtime and ctime (to the nanosecond; touch cannot set ctime
    /// back, and a new upload is a new inode), so that later runs need not hash tens of
    /// megabytes on every host. A host without sha256sum never has a trusted copy: the worker
    /// is uploaded again on every run.
    private var probeScript: String {
        let file = "\(directory)/cohort-worker"
        return """
            uname -s; uname -m; (nproc || getconf _NPROCESSORS_ONLN) 2>/dev/null
            f=\(file); v=\(directory)/.verified
            [ -x "$f" ] || { echo missing; exit 0; }
            id=$(stat -c '%i %s %y %z' "$f" 2>/dev/null)
            if [ -n "$id" ] && [ "$(cat "$v" 2>/dev/null)" = "$id" ]; then touch \(directory) 2>/dev/null; echo cached
            elif ! command -v sha256sum >/dev/null 2>&1; then echo stale
            elif [ "$(sha256sum < "$f" | cut -d' ' -f1)" = \(binary.sha256) ]; then
              [ -n "$id" ] && (umask 077 && echo "$id" > "$v.$$" && mv -f "$v.$$" "$v"); touch \(directory) 2>/dev/null; echo cached
            else echo stale; fi
            """
    }

    /// Writes the upload to a temporary name and renames it into place only once it is known
    /// whole; a cache that cannot be written (read-only, full, not a folder) fails the upload
    /// with the shell's own words, and only the pruning after a good upload may fail quietly. The stream ending is not success (`cat` exits 0 on EOF when the coordinator dies
    /// mid-upload), so the file's own SHA-256, computed after the last byte, must equal its
    /// name, or, on a host without sha256sum, its size must be right (and it is not marked
    /// verified). Anything else is removed and the upload fails.
    var uploadScript: String {
        """
        umask 077 && d=\(directory) && mkdir -p "$d" && chmod 700 "$d" && t="$d/.cohort-worker.$$" && cat > "$t" && \
        if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum < "$t" | cut -d' ' -f1); else s=none; fi && \
        n=$(wc -c < "$t") && \
        if [ "$n" -ne \(binary.bytes.count) ] || { [ "$s" != none ] && [ "$s" != \(binary.sha256) ]; }; then \
          rm -f "$t"; echo "the upload arrived incomplete or altered ($n of \(binary.bytes.count) bytes); removed" >&2; exit 3; fi && \
        chmod 700 "$t" && mv -f "$t" "$d/cohort-worker" && \
        if [ "$s" = \(binary.sha256) ]; then stat -c '%i %s %y %z' "$d/cohort-worker" > "$d/.verified" 2>/dev/null || rm -f "$d/.verified"; \
        else rm -f "$d/.verified"; fi && \
        \(pruneScript)
        """
    }

    /// Copies of the same program kept in the cache besides the one just deployed: each
    /// rebuild of a library program is a new copy of tens of megabytes on every host.
    static let keptPrevious = 1

    /// After an upload: records which program the copy is (its file name), then removes that
    /// program's older copies past the most recently used `keptPrevious` (a cached copy is
    /// touched each time it is used). Only entries named by a SHA-256 are considered; another
    /// coordinator still running an old copy keeps it running (its file is unlinked, not gone).
    private var pruneScript: String {
        let program = ShellQuote.quote((binary.path as NSString).lastPathComponent)
        let older = WorkerCache.walk(
            #"[ "$p" = "$mine" ] || continue; k=$((k + 1)); [ $k -gt \#(Self.keptPrevious) ] && rm -rf "./$o""#, skipping: binary.sha256)
        return """
            { mine=\(program) && printf '%s\\n' "$mine" > "$d/.program" && k=0 && \(older); true; }
            """
    }

    func deploy(on connection: SSHConnection, host: String) async throws -> Deployed {
        let probe = try await connection.run(probeScript)
        let facts = String(decoding: probe.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        guard probe.status.isSuccess, facts.count >= 3 else {
            throw CohortError(.sshFailure, "cannot probe the host: \(String(decoding: probe.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))", host: host)
        }
        guard facts[0] == binary.os, facts[1] == binary.arch else {
            throw CohortError(
                .invalidInput, "host is \(facts[0]) \(facts[1]) (uname -sm), the worker was built for \(binary.os) \(binary.arch)",
                host: host)
        }
        // nproc's line is missing where neither nproc nor getconf exists.
        let cores = facts.count > 3 ? Int(facts[2]) ?? 1 : 1
        let file = "\(directory)/cohort-worker"
        var uploaded = false
        if facts.last != "cached" {
            let upload = try await connection.run(uploadScript, stdin: binary.bytes)
            guard upload.status.isSuccess else {
                throw CohortError(.sshFailure, "cannot upload the worker: \(String(decoding: upload.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))", host: host)
            }
            uploaded = true
        }
        let arguments = binary.arguments.map { " " + ShellQuote.quote($0) }.joined()
        return Deployed(command: "exec \(file)\(arguments)", cores: max(1, cores), uploaded: uploaded)
    }
}
