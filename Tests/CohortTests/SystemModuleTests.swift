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
}
