import CohortTemplate
import Testing

@testable import CohortPlaybook

/// The with_* lookups' bounds and errors (their items are compared with ansible-playbook by
/// the oracle playbook Tests/Playbooks/lookups.yml).
@Suite struct LoopLookupsTests {
    /// A sequence or a product past the bound is an error at once, never a list that fills
    /// the coordinator's memory or an overflow trap.
    @Test func hugeSequencesAndProductsAreErrors() {
        for term in ["count=1000000000000", "start=0 end=9223372036854775807", "start=-9223372036854775807 end=9223372036854775807 stride=1",
            "count=9223372036854775807 stride=2", "start=0 end=-9223372036854775808 stride=-1"]
        {
            #expect(throws: TemplateError.self, "\(term)") { try LoopLookups.items("sequence", .string(term)) }
        }
        let thousand = Value.list((0..<1000).map { .int($0) })
        #expect(throws: TemplateError.self) { try LoopLookups.items("nested", .list([thousand, thousand, thousand])) }
    }

    @Test func badTermsSayWhatIsWrong() throws {
        let cases: [(String, Value, String)] = [
            ("sequence", "end=3 count=2", "can't specify both count and end in with_sequence"),
            ("sequence", "start=5 end=1", "to count backwards make stride negative"),
            ("sequence", "end=3 format=%d%d", "bad formatting string: %d%d"),
            ("sequence", "end=3 bogus=1", "unrecognized arguments to with_sequence: ['bogus']"),
            ("subelements", .list([.list([.dict(["name": "a"])]), "groups"]), "could not find 'groups' key in iterated item '{'name': 'a'}'"),
            ("nested", .list([]), "with_nested requires at least one element in the nested list"),
        ]
        for (lookup, terms, message) in cases {
            let error = #expect(throws: TemplateError.self) { try LoopLookups.items(lookup, terms) }
            #expect(error?.message == message, "\(lookup) \(terms)")
        }
        #expect(try LoopLookups.items("sequence", "start=10 end=0 stride=-5") == ["10", "5", "0"])
    }

    /// serial sizes from the playbook: percentages round down with at least one host, the
    /// last size repeats, and a huge percentage or count is every host, never a trap.
    @Test func serialBatchesAsAnsibleMakesThem() {
        let hosts = (1...5).map { "h\($0)" }
        #expect(SerialSize.batches(hosts, [.count(1), .percent(40), .count(3)]) == [["h1"], ["h2", "h3"], ["h4", "h5"]])
        #expect(SerialSize.batches(hosts, [.percent(10)]).count == 5)
        let thousand = (1...1000).map { "h\($0)" }
        #expect(SerialSize.batches(thousand, [.percent(Int.max)]) == [thousand])
        #expect(SerialSize.batches(hosts, [.count(Int.max)]) == [hosts])
        #expect(SerialSize.batches(hosts, [.count(0)]) == [hosts])
        #expect(SerialSize.batches([], [.count(2)]).isEmpty)
    }
}
