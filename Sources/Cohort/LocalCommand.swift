import CohortCore
import CohortSSH
import Foundation

/// Runs a command on this machine for `ansible_connection=local` hosts, producing the same
/// events as a remote command, with output as raw bytes.
enum LocalCommand {
    static func run(_ command: String, onEvent: @escaping @Sendable (ProcessEvent) -> Void) async throws -> ExitStatus {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Blocking reads and waits run on threads of their own, never on Dispatch's small
        // global pool, where they could starve other work (name resolution among it).
        let pending = DispatchGroup()
        for (pipe, isStdout) in [(out, true), (err, false)] {
            pending.enter()
            let handle = pipe.fileHandleForReading
            Thread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    onEvent(isStdout ? .stdout(Array(data)) : .stderr(Array(data)))
                }
                pending.leave()
            }.start()
        }
        do { try process.run() } catch {
            throw CohortError(.io, "cannot start /bin/sh: \(error.localizedDescription)")
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                process.waitUntilExit()
                pending.wait()
                continuation.resume()
            }.start()
        }
        if process.terminationReason == .uncaughtSignal {
            return .signaled(name: signalName(process.terminationStatus))
        }
        return .exited(process.terminationStatus)
    }

    static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGABRT: "ABRT", SIGFPE: "FPE",
            SIGKILL: "KILL", SIGSEGV: "SEGV", SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM", SIGUSR1: "USR1", SIGUSR2: "USR2",
        ]
        return names[number] ?? String(number)
    }
}
