import Cohort
import Testing

/// `-j`'s forms as GNU parallel 20221122 computes them (`user_requested_processes`: cores
/// plus or minus N, N% of cores rounded up), and what no input can make them do: overflow,
/// or fall below one worker.
struct SlotCountTests {
    @Test func parsing() {
        #expect(SlotCount(parsing: "4") == .exactly(4))
        #expect(SlotCount(parsing: "+2") == .coresPlus(2))
        #expect(SlotCount(parsing: "-2") == .coresPlus(-2))
        #expect(SlotCount(parsing: "10.5%") == .percentOfCores(10.5))
        for bad in ["0", "", "+", "-", "%", "0%", "x", "1e3%", "1.%", ".5%", " 2", "2 ", "+-1", "99999999999999999999", "١٢"] {
            #expect(SlotCount(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func resolvedFromCores() {
        #expect(SlotCount.exactly(3).resolve(cores: 16) == 3)
        #expect(SlotCount.coresPlus(2).resolve(cores: 16) == 18)
        #expect(SlotCount.coresPlus(-20).resolve(cores: 16) == 1)
        #expect(SlotCount.percentOfCores(150).resolve(cores: 2) == 3)
        #expect(SlotCount.percentOfCores(10.5).resolve(cores: 16) == 2)
        #expect(SlotCount.percentOfCores(1).resolve(cores: 2) == 1)
    }

    @Test func hugeInputIsBoundedNotATrap() {
        #expect(SlotCount(parsing: "+99999999999999999999999") == .coresPlus(Int.max))
        #expect(SlotCount.coresPlus(Int.max).resolve(cores: 16) == SlotCount.maximum)
        #expect(SlotCount.coresPlus(-Int.max).resolve(cores: 16) == 1)
        #expect(SlotCount(parsing: "1" + String(repeating: "0", count: 300) + "%")?.resolve(cores: 16) == SlotCount.maximum)
        // Past what a Double holds: refused, not infinite.
        #expect(SlotCount(parsing: "9" + String(repeating: "9", count: 400) + "%") == nil)
    }
}
