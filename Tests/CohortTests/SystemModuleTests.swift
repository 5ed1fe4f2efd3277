import Testing

@testable import Cohort

/// The pure parts of the system modules (no host).
@Suite struct SystemModuleTests {
    /// `user`'s `expires` day as `time.strftime('%Y-%m-%d', time.gmtime(s))` prints it.
    @Test func expiryDaysAreCivilDates() {
        #expect(UserModule.date(days: 0) == "1970-01-01")
        #expect(UserModule.date(days: 21915) == "2030-01-01")  // 1893456000 s
        #expect(UserModule.date(days: 11016) == "2000-02-29")
        #expect(UserModule.date(days: 2_932_896) == "9999-12-31")
        #expect(UserModule.date(days: -1) == "1969-12-31")
    }

    /// When Ansible's wrapper stops a job (its first 5-second look at or past the limit) and
    /// when its poll loop gives up (as many polls as fit the limit, rounded up).
    @Test func asyncTimesAreAnsiblesSteps() {
        #expect(AsyncJobs.stopTime(1) == 5)
        #expect(AsyncJobs.stopTime(5) == 5)
        #expect(AsyncJobs.stopTime(6) == 10)
        #expect(AsyncJobs.stopTime(AsyncJobs.longest) == AsyncJobs.longest)
        #expect(AsyncJobs.pollEnd(1, poll: 10) == 10)
        #expect(AsyncJobs.pollEnd(12, poll: 5) == 15)
        #expect(AsyncJobs.pollEnd(10, poll: 5) == 10)
        #expect(AsyncJobs.pollEnd(AsyncJobs.longest, poll: 1) == AsyncJobs.longest)
    }
}
