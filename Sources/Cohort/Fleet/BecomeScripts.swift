import CohortCore
import CohortSSH
import Foundation

/// The shell text that runs a host's worker as another user through `sudo` (`become`): pure,
/// so that its quoting is tested without a host.
///
/// In the steady state one sudo per host and user: `start` runs the become user's own copy
/// of the worker (`~/.cache/cohort/<sha256>/`, that user's HOME, as `sudo -H` sets it) when
/// its record of a verified copy (inode, size, times) still holds, and otherwise exits with
/// `notInstalled` before anything runs; then `install` copies the login's verified worker
/// there through sudo, checked by hash, and `start` is tried once more. With a password,
/// `check` first asks sudo whether it prompts (a rule with a password) and whether the
/// password is right. A password goes only to sudo's stdin as the first line, and only when
/// sudo prompts (`-k` makes every call prompt alike, whatever sudo remembers), so it never
/// reaches a command line, and a rule without a password never sees it as input.
///
/// `su` reads the password the same way (util-linux su, through PAM, reads one line from its
/// standard input when that is no terminal), but reads it with one `read` that would swallow
/// what follows in the same pipe. So with su the channel's first line is always the password
/// (empty when there is none), read by the shell a byte at a time; su gets it alone on a pipe
/// of its own, and the command it runs takes the channel's input on descriptor 3. su is
/// always asked first (`check`): it prompts for anyone but root.
struct BecomeScripts: Sendable {
    enum Method: String, Sendable {
        case sudo, su
    }

    let binary: WorkerBinary
    let user: String
    var method: Method = .sudo
    /// Whether a password line is sent first: sudo prompts (from `check`), or the method is su.
    var prompts = false

    init(binary: WorkerBinary, user: String, method: Method = .sudo) {
        self.binary = binary
        self.user = user
        self.method = method
        prompts = method == .su
    }

    static let prompt = "[cohort-become-prompt]"
    static let checked = "COHORT-BECOME-OK"
    static let notInstalled = "COHORT-BECOME-NOT-INSTALLED"

    private var sudo: String {
        let password = prompts ? "-S -p ''" : "-n"
        return "sudo -k \(password) -H -u \(ShellQuote.quote(user)) --"
    }

    /// Where the become user keeps the worker, and its record of a verified copy.
    private var folder: String { "d=\"$HOME/.cache/cohort/\(binary.sha256)\"; f=\"$d/cohort-worker\"" }
    private static let record = "stat -c '%i %s %y %z' \"$f\" 2>/dev/null"

    /// Whether sudo lets the login run as `user`, and whether it prompts: the prompt is on
    /// stderr when it does. The password is given on stdin (a rule without a password
    /// leaves it unread).
    var check: String {
        if method == .su { return su("echo \(Self.checked)") }
        return "sudo -k -S -p \(ShellQuote.quote(Self.prompt)) -H -u \(ShellQuote.quote(user)) -- /bin/sh -c 'echo \(Self.checked)'"
    }

    /// `command` run by su as the user (with the user's shell, as Ansible's su plugin runs
    /// it), the password line read from the channel first and given to su alone.
    private func su(_ command: String, input: String? = nil) -> String {
        let asked = "printf '%s\\n' \"$p\" | su \(ShellQuote.quote(user)) -c \(ShellQuote.quote(command))"
        guard let input else { return "IFS= read -r p; exec 3<&0; \(asked)" }
        return "IFS= read -r p; \(input) | { exec 3<&0; \(asked); }"
    }

    /// The login's worker, streamed through sudo into the become user's cache unless a copy
    /// there already has the right hash; either way the copy's record is written.
    var install: String {
        let hash = binary.sha256
        let inner = """
            \(folder)
            if ! { [ -x "$f" ] && [ "$(sha256sum < "$f" 2>/dev/null | cut -d' ' -f1)" = \(hash) ]; }; then
              umask 077 && mkdir -p "$d" && chmod 700 "$d" && t="$d/.cohort-worker.$$" && cat > "$t" && \
              [ "$(sha256sum < "$t" | cut -d' ' -f1)" = \(hash) ] && chmod 700 "$t" && mv -f "$t" "$f" || \
              { rm -f "$t"; echo "cannot install the worker in $d" >&2; exit 3; }
            fi
            (umask 077 && \(Self.record) > "$d/.verified.$$" && mv -f "$d/.verified.$$" "$d/.verified")
            """
        let source = "\"$HOME/.cache/cohort/\(hash)/cohort-worker\""
        if method == .su { return su("/bin/sh -c \(ShellQuote.quote(inner)) <&3 3<&-", input: "cat \(source)") }
        let feed = prompts ? "{ IFS= read -r p; printf '%s\\n' \"$p\"; cat \(source); }" : "cat \(source)"
        return "\(feed) | \(sudo) /bin/sh -c \(ShellQuote.quote(inner))"
    }

    /// The channel's command: the become user's verified copy, with the worker's own
    /// arguments; `notInstalled` on stderr and exit 75 when there is none.
    var start: String {
        let run = """
            \(folder); id=$(\(Self.record))
            if [ -z "$id" ] || [ "$(cat "$d/.verified" 2>/dev/null)" != "$id" ]; then echo \(Self.notInstalled) >&2; exit 75; fi
            exec "$f" "$@"
            """
        let arguments = binary.arguments.map { " " + ShellQuote.quote($0) }.joined()
        if method == .su { return su("exec /bin/sh -c \(ShellQuote.quote(run)) cohort-worker\(arguments) <&3 3<&-") }
        return "exec \(sudo) /bin/sh -c \(ShellQuote.quote(run)) cohort-worker\(arguments)"
    }

    /// What `check` said: nil when sudo let the login through; else the reason, in Ansible's
    /// words where it has them.
    static func failure(status: ExitStatus, stdout: String, stderr: String, method: Method = .sudo, password: String? = nil) -> String? {
        if status.isSuccess, stdout.contains(checked) { return nil }
        return refusal(stderr, method: method, password: password)
            ?? "\(method) refused: " + (stderr.trimmed.isEmpty ? "\(status)" : Printable.escaped(stderr.trimmed))
    }

    /// sudo's or su's refusal in what a command or a worker channel said (nil: not theirs).
    static func refusal(_ said: String, method: Method = .sudo, password: String? = nil) -> String? {
        if method == .su {
            // su says the same for a wrong password and for none: Ansible tells them apart by
            // whether it had one to send.
            if said.contains("Authentication failure") { return (password ?? "").isEmpty ? "Missing su password" : "Incorrect su password" }
            guard let range = said.range(of: "su: ") else { return nil }
            return "su refused: " + Printable.escaped(String(said[range.lowerBound...]).trimmed)
        }
        if said.contains("a password is required") { return "Missing sudo password" }
        if said.contains("incorrect password") || said.contains("Sorry, try again") { return "Incorrect sudo password" }
        let from: String.Index
        if let range = said.range(of: "sudo: ") {
            from = range.lowerBound
        } else if said.contains("is not in the sudoers file") || said.contains("is not allowed to") {
            // "worker ended (exit 1): carol is not in the sudoers file…": sudo's own words.
            from = said.range(of: "): ").map(\.upperBound) ?? said.startIndex
        } else {
            return nil
        }
        return "sudo refused: " + Printable.escaped(String(said[from...]).trimmed)
    }
}

extension String {
    fileprivate var trimmed: String { replacingOccurrences(of: BecomeScripts.prompt, with: "").trimmingCharacters(in: .whitespacesAndNewlines) }
}

extension HostWorkers {
    /// The become scripts for `user` on this host: with a password, sudo is asked once
    /// whether it prompts and whether the password is right. Throws `becomeRefused` with
    /// the reason, in Ansible's words where it has them.
    func becomeScripts(user: String, password: String?, method: BecomeScripts.Method = .sudo, worker: WorkerBinary) async throws -> BecomeScripts {
        guard let connection = connections.first else {
            throw CohortError(.invalidInput, "become on the coordinator (a local host) is not supported by cohort play yet", host: name)
        }
        var scripts = BecomeScripts(binary: worker, user: user, method: method)
        guard password != nil || method == .su else { return scripts }
        let check = try await connection.run(scripts.check, stdin: Array(((password ?? "") + "\n").utf8))
        let (stdout, stderr) = (String(decoding: check.stdout, as: UTF8.self), String(decoding: check.stderr, as: UTF8.self))
        if let failure = BecomeScripts.failure(status: check.status, stdout: stdout, stderr: stderr, method: method, password: password) {
            // Ansible sends su no password it does not have: it waits for the escalation, times
            // out and reports the host unreachable, not the task failed.
            let unreachable = method == .su && failure == "Missing su password"
            throw CohortError(unreachable ? .authenticationFailed : .becomeRefused, failure, host: name)
        }
        if method == .sudo { scripts.prompts = stderr.contains(BecomeScripts.prompt) }
        return scripts
    }

    /// Copies the worker into the become user's cache (see `BecomeScripts.install`).
    func installBecome(_ scripts: BecomeScripts, password: String?) async throws {
        guard let connection = connections.first else { return }
        let line = scripts.prompts ? Array(((password ?? "") + "\n").utf8) : []
        let install = try await connection.run(scripts.install, stdin: line)
        guard install.status.isSuccess else {
            let said = String(decoding: install.stderr, as: UTF8.self)
            throw CohortError(
                .becomeRefused, BecomeScripts.refusal(said, method: scripts.method, password: password) ?? "cannot start the worker as \(scripts.user): \(Printable.escaped(said.trimmed))", host: name)
        }
    }

    /// A worker channel on this host's connection running as the scripts' user; the
    /// password, when sudo asks for one, goes first on the channel's stdin.
    func becomeChannel(_ scripts: BecomeScripts, password: String?) -> WorkerChannel? {
        guard let connection = connections.first else { return nil }
        let process = connection.open(scripts.start)
        if scripts.prompts { process.send(Array(((password ?? "") + "\n").utf8)) }
        return WorkerChannel(link: process, events: .remote(process.output))
    }
}
