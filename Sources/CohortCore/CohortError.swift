/// The one error type Cohort throws across module boundaries.
///
/// Each error carries a `Code` so that the CLI can map it to a documented process exit
/// status without string matching, and a context (host, file, line) so that a user can
/// find what is wrong. A failed remote command is *not* an error: it is a result with an
/// `ExitStatus`.
public struct CohortError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable, Equatable {
        /// Malformed inventory, config, pattern, flag or argument.
        case invalidInput
        /// A pattern matched no host.
        case noHostsMatched
        /// Name resolution failed.
        case dnsFailure
        /// TCP connect refused.
        case connectionRefused
        /// Connect, banner or handshake did not finish in time.
        case connectTimeout
        /// The peer accepted TCP but never sent an SSH banner.
        case noSSHBanner
        /// The host key is not in known_hosts and accepting it was not asked for.
        case hostKeyUnknown
        /// The host key differs from the one recorded: possible man-in-the-middle.
        case hostKeyChanged
        /// No offered credential was accepted.
        case authenticationFailed
        /// The connection broke, or stopped answering heartbeats, after it was established.
        case transportLost
        /// A channel closed without an exit status.
        case noExitStatus
        /// Anything libssh2 or the OS reported that has no more specific code.
        case sshFailure
        /// Local IO failure (files, processes).
        case io
    }

    public var code: Code
    public var message: String
    public var host: String?
    public var file: String?
    public var line: Int?

    public init(_ code: Code, _ message: String, host: String? = nil, file: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.host = host
        self.file = file
        self.line = line
    }

    /// `file:line: message`, or `host: message`, the form every CLI error takes.
    public var description: String {
        if let file {
            if let line { return "\(file):\(line): \(message)" }
            return "\(file): \(message)"
        }
        if let host { return "\(host): \(message)" }
        return message
    }

    public func with(host: String) -> CohortError {
        var copy = self
        copy.host = copy.host ?? host
        return copy
    }

    /// Whether the error means "could not reach or keep the host" (as opposed to "refused").
    public var isUnreachable: Bool {
        switch code {
        case .dnsFailure, .connectionRefused, .connectTimeout, .noSSHBanner, .transportLost, .noExitStatus, .sshFailure:
            return true
        default:
            return false
        }
    }

    public var isSecurityRefusal: Bool {
        code == .hostKeyUnknown || code == .hostKeyChanged || code == .authenticationFailed
    }
}
