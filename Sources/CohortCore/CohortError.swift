/// The one error type Cohort throws across module boundaries.
///
/// Each error carries a `Code` so that the CLI can map it to a documented process exit
/// status without string matching, and a context (host, file, line) so that a user can
/// find what is wrong. A failed remote command is *not* an error: it is a result with an
/// `ExitStatus`.
public struct CohortError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, as a growable set of codes (a struct with static members, as
    /// swift-nio-ssh and swift-subprocess do): new codes (copy, playbooks) can be added without
    /// breaking a library user's `switch`, which needs a `default:` anyway. `rawValue` is the
    /// stable name `--json` prints.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        public init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// Malformed inventory, config, pattern, flag or argument.
        public static let invalidInput = Code("invalidInput")
        /// A pattern matched no host.
        public static let noHostsMatched = Code("noHostsMatched")
        /// Name resolution failed.
        public static let dnsFailure = Code("dnsFailure")
        /// TCP connect refused.
        public static let connectionRefused = Code("connectionRefused")
        /// Connect, banner or handshake did not finish in time.
        public static let connectTimeout = Code("connectTimeout")
        /// The peer accepted TCP but never sent an SSH banner.
        public static let noSSHBanner = Code("noSSHBanner")
        /// The host key is not in known_hosts and accepting it was not asked for.
        public static let hostKeyUnknown = Code("hostKeyUnknown")
        /// The host key differs from the one recorded: possible man-in-the-middle.
        public static let hostKeyChanged = Code("hostKeyChanged")
        /// No offered credential was accepted.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The connection broke, or stopped answering heartbeats, after it was established.
        public static let transportLost = Code("transportLost")
        /// A channel closed without an exit status.
        public static let noExitStatus = Code("noExitStatus")
        /// Anything libssh2 or the OS reported that has no more specific code.
        public static let sshFailure = Code("sshFailure")
        /// Local IO failure (files, processes).
        public static let io = Code("io")
        /// sudo would not run the worker as the `become` user (no password where one is needed,
        /// a wrong one, no rule): the task fails, the host stays reachable.
        public static let becomeRefused = Code("becomeRefused")
    }

    public var code: Code
    public var message: String
    public var host: String?
    public var file: String?
    public var line: Int?
    /// 1-based column within `line`, where the input's format gives one (YAML playbooks).
    public var column: Int?

    public init(_ code: Code, _ message: String, host: String? = nil, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.host = host
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line: message` (`file:line:column:` where known), or `host: message`, the form
    /// every CLI error takes.
    public var description: String {
        if let file {
            if let line, let column { return "\(file):\(line):\(column): \(message)" }
            if let line { return "\(file):\(line): \(message)" }
            return "\(file): \(message)"
        }
        if let host { return "\(host): \(message)" }
        return message
    }

    /// `description` as a terminal is shown it: control characters escaped (`\n`, `\x1b`), so
    /// that a host name, a playbook value, a remote path or a host's message quoted in an error
    /// can neither forge a line nor move the cursor. A message's own trailing line end (a
    /// host's stderr) is dropped, not shown as `\n`.
    public var shown: String {
        var copy = self
        while let last = copy.message.last, last.isNewline { copy.message.removeLast() }
        return Printable.escaped(copy.description)
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
