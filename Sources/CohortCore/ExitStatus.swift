/// How a remote or local process ended. A non-zero status is a result, not an error.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    /// `name` is the signal name without `SIG` (as SSH reports it: "KILL", "TERM").
    case signaled(name: String, message: String = "")

    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let name, _): return "signal \(name)"
        }
    }
}
