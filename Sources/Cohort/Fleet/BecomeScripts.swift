import CohortCore
import CohortSSH
import Foundation

/// The shell text that runs a host's worker as another user through `sudo` (`become`): pure,
/// so that its quoting is tested without a host.
///
/// Three steps, each a command run through the login's shell: `check` asks sudo once whether it
/// prompts (a rule with a password) and whether the password is right; `install` copies the
/// login's verified worker into the become user's own cache (`~/.cache/cohort/<sha256>/`, that
/// user's HOME, as `sudo -H` sets it), checked by hash; `start` runs it there. A password goes
/// only to sudo's stdin as the first line, and only when sudo prompts (`-k` makes every call
/// prompt alike, whatever sudo remembers), so it never reaches a command line, and a rule
/// without a password never sees it as the worker's input.
struct BecomeScripts: Sendable {
    let binary: WorkerBinary
    let user: String
    /// Whether sudo prompts for a password (from `check`): the password line is sent first.
    var prompts = false

    static let prompt = "[cohort-become-prompt]"
    static let checked = "COHORT-BECOME-OK"

    private var sudo: String {
        let password = prompts ? "-S -p ''" : "-n"
        return "sudo -k \(password) -H -u \(ShellQuote.quote(user)) --"
    }

    /// Whether sudo lets the login run as `user`, and whether it prompts: the prompt is on
    /// stderr when it does. With a password known it is given on stdin (a rule without a
    /// password leaves it unread); without one, `-n` fails where a password is required.
    func check(withPassword: Bool) -> String {
        let options = withPassword ? "-S -p \(ShellQuote.quote(Self.prompt))" : "-n"
        return "sudo -k \(options) -H -u \(ShellQuote.quote(user)) -- /bin/sh -c 'echo \(Self.checked)'"
    }

    /// The login's worker, streamed through sudo into the become user's cache unless a copy
    /// there already has the right hash.
    var install: String {
        let hash = binary.sha256
        let inner = """
            d="$HOME/.cache/cohort/\(hash)"; f="$d/cohort-worker"
            if [ -x "$f" ] && [ "$(sha256sum < "$f" 2>/dev/null | cut -d' ' -f1)" = \(hash) ]; then exit 0; fi
            umask 077 && mkdir -p "$d" && chmod 700 "$d" && t="$d/.cohort-worker.$$" && cat > "$t" && \
            [ "$(sha256sum < "$t" | cut -d' ' -f1)" = \(hash) ] && chmod 700 "$t" && mv -f "$t" "$f" || \
            { rm -f "$t"; echo "cannot install the worker in $d" >&2; exit 3; }
            """
        let source = "\"$HOME/.cache/cohort/\(hash)/cohort-worker\""
        let feed = prompts ? "{ IFS= read -r p; printf '%s\\n' \"$p\"; cat \(source); }" : "cat \(source)"
        return "\(feed) | \(sudo) /bin/sh -c \(ShellQuote.quote(inner))"
    }

    /// The channel's command: the become user's copy, with the worker's own arguments.
    var start: String {
        let run = "exec \"$HOME/.cache/cohort/\(binary.sha256)/cohort-worker\" \"$@\""
        let arguments = binary.arguments.map { " " + ShellQuote.quote($0) }.joined()
        return "exec \(sudo) /bin/sh -c \(ShellQuote.quote(run)) cohort-worker\(arguments)"
    }

    /// What `check` said: nil when sudo let the login through; else the reason, in Ansible's
    /// words where it has them.
    static func failure(status: ExitStatus, stdout: String, stderr: String) -> String? {
        if status.isSuccess, stdout.contains(checked) { return nil }
        if stderr.contains("a password is required") { return "Missing sudo password" }
        if stderr.contains("incorrect password") || stderr.contains("Sorry, try again") { return "Incorrect sudo password" }
        let said = stderr.replacingOccurrences(of: prompt, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        return "sudo refused: " + (said.isEmpty ? "\(status)" : Printable.escaped(said))
    }
}

extension HostWorkers {
    /// A worker channel on this host's connection running as `user` through sudo; the
    /// password, when sudo asks for one, goes first on the channel's stdin. Throws with the
    /// reason (in Ansible's words where it has them) when sudo refuses.
    func becomeChannel(user: String, password: String?, worker: WorkerBinary) async throws -> WorkerChannel {
        guard let connection = connections.first else {
            throw CohortError(.invalidInput, "become on the coordinator (a local host) is not supported by cohort play yet", host: name)
        }
        var scripts = BecomeScripts(binary: worker, user: user)
        let line = password.map { Array(($0 + "\n").utf8) } ?? []
        let check = try await connection.run(scripts.check(withPassword: password != nil), stdin: line)
        let (stdout, stderr) = (String(decoding: check.stdout, as: UTF8.self), String(decoding: check.stderr, as: UTF8.self))
        if let failure = BecomeScripts.failure(status: check.status, stdout: stdout, stderr: stderr) {
            throw CohortError(.becomeRefused, failure, host: name)
        }
        scripts.prompts = stderr.contains(BecomeScripts.prompt)
        let install = try await connection.run(scripts.install, stdin: scripts.prompts ? line : [])
        guard install.status.isSuccess else {
            let said = String(decoding: install.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CohortError(.becomeRefused, "cannot start the worker as \(user): \(Printable.escaped(said))", host: name)
        }
        let process = connection.open(scripts.start)
        if scripts.prompts { process.send(line) }
        return WorkerChannel(link: process, events: .remote(process.output))
    }
}
