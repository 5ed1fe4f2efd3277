import CohortCore
import Foundation
import Testing

@testable import Cohort

/// GNU parallel's input syntax, without any host.
@Suite struct ParallelSyntaxTests {
    @Test func sourcesCombineLastFastest() throws {
        let inputs = try ParallelSyntax(arguments: ["echo", ":::", "a", "b", ":::", "1", "2", "3"]).inputs { [] }
        #expect(inputs.count == 6)
        #expect(inputs.indices.map { inputs[$0] } == [["a", "1"], ["a", "2"], ["a", "3"], ["b", "1"], ["b", "2"], ["b", "3"]])
    }

    /// 10^8 combinations are refused at once, holding only the 20,000 values.
    @Test func aHugeCrossProductIsRefusedWithoutBuildingIt() throws {
        let values = (1...10_000).map(String.init)
        let syntax = try ParallelSyntax(arguments: ["echo", ":::"] + values + [":::"] + values)
        let error = #expect(throws: CohortError.self) { try syntax.inputs { [] } }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("more than 10000000 tasks") == true)
        // Just under the limit: computed on demand, not stored.
        let big = try ParallelSyntax(arguments: ["echo", ":::"] + values + [":::"] + Array(values.prefix(1000))).inputs { [] }
        #expect(big.count == 10_000_000)
        #expect(big[9_999_999] == ["10000", "1000"])
    }

    @Test func crlfLineEndsEndLines() throws {
        #expect(ParallelSyntax.lines("a\r\nb\r\n") == ["a", "b"])
        #expect(ParallelSyntax.lines("a\nb") == ["a", "b"])
        let dir = NSTemporaryDirectory() + "cohort-crlf-" + UUID().uuidString
        try "x\r\ny\r\n".write(toFile: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs = try ParallelSyntax(arguments: ["echo", "::::", dir]).inputs { [] }
        #expect(inputs.indices.map { inputs[$0] } == [["x"], ["y"]])
    }
}
