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
}
