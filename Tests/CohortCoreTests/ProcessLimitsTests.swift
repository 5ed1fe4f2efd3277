import CohortCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessLimitsTests {
    /// The soft limit on descriptors ends at the hard one, and the call says so.
    @Test func openFilesGoUpToTheHardLimit() {
        let now = ProcessLimits.raiseOpenFiles()
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == limit.rlim_max)
        #expect(now == UInt64(limit.rlim_cur))
    }
}
