/// Process exit statuses of the `cohort` command; one meaning each, documented in README.md.
public enum CohortExitCode: Int32, Sendable {
    case ok = 0
    /// A command failed (non-zero exit or signal) on at least one host.
    case commandFailed = 1
    /// At least one host could not be reached or was lost.
    case unreachable = 2
    /// Refused for security: unknown or changed host key, authentication failed.
    case securityRefused = 3
    /// Invalid input or usage; nothing ran.
    case invalidInput = 4

    public init(for error: CohortError) {
        if error.isSecurityRefusal {
            self = .securityRefused
        } else if error.isUnreachable {
            self = .unreachable
        } else if error.code == .invalidInput || error.code == .noHostsMatched {
            self = .invalidInput
        } else {
            self = .commandFailed
        }
    }
}
