import CohortTemplate
@testable import CohortPlaybook
import Testing

/// Python's `Random(seed)`, draw for draw: the values below are CPython 3.11's
/// (`random.Random('h1').randrange(0, 59, 1)`, `Random(12345).randrange(0, 2**32, 1)`…,
/// where 2**32 takes 33-bit draws); the template oracle checks the filters
/// against ansible-core itself.
@Suite struct PythonRandomTests {
    @Test func drawsAreCPythons() {
        var text = PythonRandom(seed: "h1")
        #expect(text.below(59) == 32 && text.below(59) == 51)
        var number = PythonRandom(seed: 12345)
        #expect(number.below(1 << 32) == 831_769_172)
        #expect(number.below(1 << 40) == 960_208_693_573)
        var empty = PythonRandom(seed: "")
        #expect(empty.below(1000) == 983)
        var items = Array(0..<10)
        var shuffler = PythonRandom(seed: "s")
        shuffler.shuffle(&items)
        #expect(items == [3, 2, 1, 4, 8, 0, 6, 5, 9, 7])
    }

    /// Ends of Int: a range as wide as Int allows, and one wider, never trap.
    @Test func wideRangesAreCheckedNotTrapped() throws {
        #expect(throws: TemplateError.self) { try PythonRandom.randomFilter(.int(Int.max), [.int(Int.min)], ["seed": "x"]) }
        let value = try PythonRandom.randomFilter(.int(Int.max), [.int(1), .int(Int.max)], ["seed": "x"])
        #expect(value == .int(1))
        #expect(throws: TemplateError.self) { try PythonRandom.randomFilter(.int(10), [], ["seed": .float(1.5)]) }
    }
}
