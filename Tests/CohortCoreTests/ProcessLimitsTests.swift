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

    @Test func moreHostsThanDescriptorsIsSaidOnce() {
        #expect(ProcessLimits.shortfall(hosts: 960, limit: 1024) == nil)
        let why = ProcessLimits.shortfall(hosts: 1000, limit: 1024)
        #expect(why?.hasPrefix("1000 hosts need at least 1064 open descriptors") == true)
        #expect(why?.contains("may open 1024") == true)
    }
}
