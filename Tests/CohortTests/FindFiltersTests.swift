@testable import Cohort
import Testing

/// `find`'s `age` and `size` as Ansible's module reads them (`^(-?\d+)(unit)?$`, lowered).
struct FindFiltersTests {
    @Test func amounts() {
        let s = FindFilters.secondsPerUnit, b = FindFilters.bytesPerUnit
        #expect(FindFilters.amount("5", units: s) == 5)
        #expect(FindFilters.amount("2D", units: s) == 172_800)
        #expect(FindFilters.amount("-1w", units: s) == -604_800)
        #expect(FindFilters.amount("3k", units: b) == 3072)
        #expect(FindFilters.amount("-10", units: b) == -10)
        for bad in ["", "d", "1.5d", "yesterday", "1y", "--1", "1 d", "+1"] { #expect(FindFilters.amount(bad, units: s) == nil, "\(bad)") }
        // Past an Int: clamped, which selects the same files as Python's big numbers.
        #expect(FindFilters.amount("99999999999999999999w", units: s) == Int.max)
        #expect(FindFilters.amount("-9999999999999999t", units: b) == Int.min)
    }
}
