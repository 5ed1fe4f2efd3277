@testable import Cohort
import CohortCore
import CohortTestSupport
import Foundation
import Testing

/// The sudo command lines of `become`, without a host: a stand-in `sudo` on PATH prints the
/// words it was given, so the quoting is checked by a real shell; and sudo's answers are read
/// as Ansible words them.
@Suite struct BecomeScriptsTests {
    static let binary = WorkerBinary(path: "/w", bytes: [1, 2, 3], sha256: String(repeating: "ab", count: 32), os: "Linux", arch: "x86_64", arguments: ["--cohort-worker", "a b"])

    /// The words `script` passes to sudo, run by /bin/sh with `sudo` a shell function that
    /// prints them (no file is written and executed: under the parallel tests another
    /// thread's fork can hold a new file open, and its exec fails with ETXTBSY). `start`'s
    /// leading `exec` is dropped, since `exec` does not call functions.
    static func sudoWords(_ script: String) throws -> [String] {
        let body = script.hasPrefix("exec ") ? String(script.dropFirst(5)) : script
        let result = try Shell.run("/bin/sh", ["-c", "sudo() { printf '%s\\0' \"$@\"; }\n" + body], environment: ["PATH": "/usr/bin:/bin", "HOME": "/home/login"])
        return result.stdout.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func aHostileUserNameStaysOneWord() throws {
        let user = "o'brien; touch /tmp/pwned $(id)"
        let scripts = BecomeScripts(binary: Self.binary, user: user)
        let start = try Self.sudoWords(scripts.start)
        try #require(start.count == 12, "\(start)")
        #expect(Array(start.prefix(8)) == ["-k", "-n", "-H", "-u", user, "--", "/bin/sh", "-c"])
        #expect(Array(start.dropFirst(9)) == ["cohort-worker", "--cohort-worker", "a b"])
        #expect(start[8].contains("exec \"$f\" \"$@\"") && start[8].contains(BecomeScripts.notInstalled))
        let syntax = try Shell.run("/bin/sh", ["-n", "-c", start[8]])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        #expect(try Self.sudoWords(scripts.check) == ["-k", "-S", "-p", BecomeScripts.prompt, "-H", "-u", user, "--", "/bin/sh", "-c", "echo \(BecomeScripts.checked)"])
        var prompting = scripts
        prompting.prompts = true
        #expect(try Self.sudoWords(prompting.start).prefix(6) == ["-k", "-S", "-p", "", "-H", "-u"])
    }

    /// The install step's inner script is one word for sudo's /bin/sh, and valid shell.
    @Test func theInstallScriptIsOneValidWord() throws {
        let words = try Self.sudoWords(BecomeScripts(binary: Self.binary, user: "root").install)
        try #require(words.count == 9, "\(words)")
        #expect(Array(words.prefix(8)) == ["-k", "-n", "-H", "-u", "root", "--", "/bin/sh", "-c"])
        let syntax = try Shell.run("/bin/sh", ["-n", "-c", words[8]])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        #expect(words[8].contains(Self.binary.sha256))
    }

    /// su gets the password line alone on its standard input (its PAM conversation reads
    /// with one `read`, which would take what follows too); the command su runs reads the rest
    /// of the channel on descriptor 3. A stand-in `su` prints its words, its input and fd 3's.
    @Test func suGetsThePasswordAloneAndTheCommandTheRest() throws {
        let user = "o'brien $(id)"
        let scripts = BecomeScripts(binary: Self.binary, user: user, method: .su)
        #expect(scripts.prompts)
        let standIn = "su() { printf '%s\\0' \"$@\"; printf 'IN:'; cat; printf 'FD3:'; cat <&3; }\n"
        for script in [scripts.start, scripts.check] {
            let result = try Shell.run("/bin/sh", ["-c", standIn + script], stdin: "pass word\nframes and more\n")
            let parts = result.stdout.split(separator: "\0", omittingEmptySubsequences: false)
            try #require(parts.count == 4, "\(result.stdout.debugDescription) \(result.stderr)")
            #expect(parts[0] == user && parts[1] == "-c")
            #expect(parts[3] == "IN:pass word\nFD3:frames and more\n")
        }
        let started = try Shell.run("/bin/sh", ["-c", standIn + scripts.start], stdin: "")
        let command = started.stdout.split(separator: "\0", omittingEmptySubsequences: false)[2]
        #expect(command.hasPrefix("exec /bin/sh -c ") && command.hasSuffix("cohort-worker --cohort-worker 'a b' <&3 3<&-"), "\(command)")
        let syntax = try Shell.run("/bin/sh", ["-n", "-c", String(command)])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        let install = try Shell.run("/bin/sh", ["-n", "-c", scripts.install])
        #expect(install.status == 0 && scripts.install.contains(Self.binary.sha256), "\(install.stderr)")
    }

    @Test func suAnswersReadAsAnsibleWordsThem() {
        #expect(BecomeScripts.failure(status: .exited(0), stdout: "COHORT-BECOME-OK\n", stderr: "Password: ", method: .su, password: nil) == nil)
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "Password: su: Authentication failure\n", method: .su, password: nil) == "Missing su password")
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "Password: su: Authentication failure\n", method: .su, password: "x") == "Incorrect su password")
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "su: user bob does not exist\n", method: .su) == "su refused: su: user bob does not exist")
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "", method: .su) == "su refused: exit 1")
    }

    @Test func sudoAnswersReadAsAnsibleWordsThem() {
        #expect(BecomeScripts.failure(status: .exited(0), stdout: "COHORT-BECOME-OK\n", stderr: "") == nil)
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "sudo: a password is required\n") == "Missing sudo password")
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "\(BecomeScripts.prompt)Sorry, try again.\nsudo: 1 incorrect password attempt\n") == "Incorrect sudo password")
        #expect(BecomeScripts.failure(status: .exited(1), stdout: "", stderr: "carol is not in the sudoers file.\u{1b}[2J\n") == "sudo refused: carol is not in the sudoers file.\\x1b[2J")
        #expect(BecomeScripts.failure(status: .exited(0), stdout: "", stderr: "") == "sudo refused: exit 0")
        // What a worker channel started through sudo says when sudo stops it.
        #expect(BecomeScripts.refusal("worker ended (exit 1): sudo: a password is required") == "Missing sudo password")
        #expect(BecomeScripts.refusal("worker ended (exit 1): bob is not allowed to run sudo on h1.") == "sudo refused: bob is not allowed to run sudo on h1.")
        #expect(BecomeScripts.refusal("worker ended (exit 75): \(BecomeScripts.notInstalled)") == nil)
    }
}
