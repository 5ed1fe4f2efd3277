#if canImport(Glibc)
import Glibc
#endif

/// Limits of this process that a coordinator of many hosts outgrows.
public enum ProcessLimits {
    /// Raises the soft limit on open descriptors to the hard one (each host needs a socket,
    /// and Debian's soft default of 1,024 is reached near a thousand hosts); returns the
    /// limit now in force.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// Descriptors a run keeps for itself beyond one per host: the IO loops' wake-up pipes,
    /// standard streams, files being copied, the journal.
    public static let reserve: UInt64 = 64

    /// Why `hosts` connections cannot all be open at once under `limit` descriptors (nil if
    /// they can): said before anything connects, instead of hosts failing one by one.
    public static func shortfall(hosts: Int, limit: UInt64) -> String? {
        let needed = UInt64(hosts) + reserve
        guard needed > limit else { return nil }
        return "\(hosts) hosts need at least \(needed) open descriptors (one socket each, and \(reserve) for Cohort), but this process may open \(limit) (ulimit -n, already raised to its hard limit): raise the hard limit (as root `ulimit -Hn 65536`, or LimitNOFILE= for a service), or run on fewer hosts at once (--limit)"
    }
}
