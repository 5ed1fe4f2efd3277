import CohortCore

/// The commands a host-key error suggests. Users paste them into a shell, so every path and
/// host name in them is shell-quoted: a name from an inventory must not run as a command.
enum HostKeyAdvice {
    /// Removes the recorded key of `name` (`host` or `[host]:port`) from `file`.
    static func removeCommand(name: String, file: String) -> String {
        "ssh-keygen -f \(ShellQuote.quote(file)) -R \(ShellQuote.quote(name))"
    }

    /// Records the key the host presents now, without checking it.
    static func keyscan(address: String, port: Int, file: String) -> String {
        "ssh-keyscan -p \(port) \(ShellQuote.quote(address)) >> \(ShellQuote.quote(file))"
    }
}
