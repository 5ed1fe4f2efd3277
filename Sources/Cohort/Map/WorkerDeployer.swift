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

    func deploy(on connection: SSHConnection, host: String) async throws -> Deployed {
        let probe = try await connection.run("uname -s; uname -m; (nproc || getconf _NPROCESSORS_ONLN) 2>/dev/null")
        let facts = String(decoding: probe.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        guard probe.status.isSuccess, facts.count >= 2 else {
            throw CohortError(.sshFailure, "cannot probe the host: \(String(decoding: probe.stderr, as: UTF8.self))", host: host)
        }
        guard facts[0] == binary.os, facts[1] == binary.arch else {
            throw CohortError(
                .invalidInput, "host is \(facts[0]) \(facts[1]) (uname -sm), the worker was built for \(binary.os) \(binary.arch)",
                host: host)
        }
        let cores = facts.count > 2 ? Int(facts[2]) ?? 1 : 1
        let file = "\(directory)/cohort-worker"
        // A cached copy counts only if its hash still matches (where sha256sum exists to check).
        let check = try await connection.run("""
            f=\(file); [ -x "$f" ] || exit 1
            command -v sha256sum >/dev/null 2>&1 || exit 0
            [ "$(sha256sum < "$f" | cut -d' ' -f1)" = \(binary.sha256) ]
            """)
        var uploaded = false
        if !check.status.isSuccess {
            let upload = try await connection.run(
                """
                umask 077 && d=\(directory) && mkdir -p "$d" && chmod 700 "$d" && \
                t="$d/.cohort-worker.$$" && cat > "$t" && chmod 700 "$t" && mv -f "$t" "$d/cohort-worker"
                """, stdin: binary.bytes)
            guard upload.status.isSuccess else {
                throw CohortError(.sshFailure, "cannot upload the worker: \(String(decoding: upload.stderr, as: UTF8.self))", host: host)
            }
            uploaded = true
        }
        let arguments = binary.arguments.map { " " + ShellQuote.quote($0) }.joined()
        return Deployed(command: "exec \(file)\(arguments)", cores: max(1, cores), uploaded: uploaded)
    }
}
