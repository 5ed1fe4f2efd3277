@testable import Cohort
import Testing

/// The apt module's host clock and cache times come from the host's own output: anything
/// that is not a finite time in range reads as 0, so whole seconds of it never trap.
@Suite struct AptHostTimesTests {
    @Test(arguments: [("1796661590.123456789", 1796661590.123456789), ("0", 0), ("nan", 0), ("inf", 0), ("1e300", 0), ("-1e300", 0), ("", 0), ("x", 0)])
    func hostTimesAreCheckedBeforeUse(_ text: String, _ expected: Double) {
        let value = AptModule.seconds(text)
        #expect(value == expected)
        #expect(Int(exactly: value.rounded(.down)) != nil)
    }
}
