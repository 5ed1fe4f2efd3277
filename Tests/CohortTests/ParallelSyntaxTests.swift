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

    /// 10^8 combinations hold only their 20,000 values: task i's values are computed from i.
    /// (Refused before, over 10,000,000 tasks.) A product past Int.max is refused, not trapped.
    @Test func aHugeCrossProductIsComputedNotBuilt() throws {
        let values = (1...10_000).map(String.init)
        let big = try ParallelSyntax(arguments: ["echo", ":::"] + values + [":::"] + values).inputs { [] }
        #expect(big.count == 100_000_000)
        #expect(big[99_999_999] == ["10000", "10000"])
        #expect(big[12_345] == ["2", "2346"])
        let huge = Array(repeating: ":::", count: 5).flatMap { [$0] + values }
        let error = #expect(throws: CohortError.self) { try ParallelSyntax(arguments: ["echo"] + huge).inputs { [] } }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("sources' sizes multiply") == true)
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

    static func rows(_ arguments: [String], files: [String] = [], link: Bool = false, perTask: Int = 1, colsep: String? = nil) throws -> [[String]] {
        var syntax = try ParallelSyntax(arguments: ["echo"] + arguments, files: files, linkAll: link)
        syntax.perTask = perTask
        syntax.columnSeparator = colsep
        let inputs = try syntax.inputs { ["stdin"] }
        return inputs.indices.map { inputs[$0] }
    }

    /// `:::+` and `::::+` link a source to the one before it (the n-th values together, as long
    /// as the shortest); before, `:::+` was taken for an input value. Expected rows are GNU
    /// parallel 20221122's.
    @Test func linkedSourcesGoSideBySide() throws {
        #expect(try Self.rows([":::", "a", "b", "c", ":::+", "1", "2", "3"]) == [["a", "1"], ["b", "2"], ["c", "3"]])
        #expect(try Self.rows([":::", "a", "b", "c", ":::+", "1", "2"]) == [["a", "1"], ["b", "2"]])
        #expect(try Self.rows([":::", "a", "b", "c", ":::+", "1", "2", "3", ":::", "x", "y"]) == [
            ["a", "1", "x"], ["a", "1", "y"], ["b", "2", "x"], ["b", "2", "y"], ["c", "3", "x"], ["c", "3", "y"],
        ])
        #expect(try Self.rows([":::", "a", "b", ":::", "1", "2", "3", ":::+", "p", "q", "r"]) == [
            ["a", "1", "p"], ["a", "2", "q"], ["a", "3", "r"], ["b", "1", "p"], ["b", "2", "q"], ["b", "3", "r"],
        ])
        // A `+` with nothing before it is a plain source.
        #expect(try Self.rows([":::+", "a", "b"]) == [["a"], ["b"]])
        // --link: every source linked, the shorter ones wrapping around.
        #expect(try Self.rows([":::", "a", "b", ":::", "1", "2", "3", ":::+", "p", "q"], link: true) == [["a", "1", "p"], ["b", "2", "q"], ["a", "3", "p"]])
        // An empty source in a linked group makes no task (and never divides by zero).
        #expect(try Self.rows([":::", ":::+", "1"], link: true).isEmpty)
        #expect(try Self.rows([":::", "a", ":::+"]).isEmpty)
    }

    @Test func fileSourcesLinkAndArgFilesComeFirst() throws {
        let dir = NSTemporaryDirectory() + "cohort-link-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "1\n2\n3\n".write(toFile: dir + "/n", atomically: true, encoding: .utf8)
        try "x\ny\nz\n".write(toFile: dir + "/l", atomically: true, encoding: .utf8)
        // Every file after `::::+` is linked.
        #expect(try Self.rows([":::", "a", "b", "c", "::::+", dir + "/n", dir + "/l"]) == [["a", "1", "x"], ["b", "2", "y"], ["c", "3", "z"]])
        #expect(try Self.rows([":::", "a", "b"], files: [dir + "/n"]) == [["1", "a"], ["1", "b"], ["2", "a"], ["2", "b"], ["3", "a"], ["3", "b"]])
        #expect(try Self.rows([], files: [dir + "/n", dir + "/l"]).count == 9)
    }

    /// `-N n` takes n values per task, the last task the rest; `--colsep` splits each value.
    @Test func valuesPerTaskAndColumns() throws {
        #expect(try Self.rows([":::", "a", "b", "c"], perTask: 2) == [["a", "b"], ["c"]])
        #expect(try Self.rows([":::", "a", "b", "c", "d"], perTask: 2) == [["a", "b"], ["c", "d"]])
        #expect(throws: CohortError.self) { try Self.rows([":::", "a", ":::", "b"], perTask: 2) }
        // Any -N up to Int.max: one task with every value, no overflow trap.
        #expect(try Self.rows([":::", "a", "b", "c"], perTask: Int.max) == [["a", "b", "c"]])
        #expect(try Self.rows([":::", "a,b", "c,d,", "e"], colsep: ",") == [["a", "b"], ["c", "d", ""], ["e"]])
        #expect(try Self.rows([":::", "a,b", "c;d"], colsep: "[,;]") == [["a", "b"], ["c", "d"]])
        #expect(try Self.rows([":::", "a\tb"], colsep: "\\t") == [["a", "b"]])
        let bad = #expect(throws: CohortError.self) { try Self.rows([":::", "a"], colsep: "(") }
        #expect(bad?.message.hasPrefix("--colsep is not a regular expression") == true)
        // {2} of a task with one value is empty, {} the values it has.
        let template = CommandTemplate(["echo", "{1}-{2}", "[{}]"])
        #expect(template.render(inputs: ["c"], sequence: 2, slot: 1) == "echo c- [c]")
    }

    /// `--tagstring` is text: replacement strings unquoted, no inputs appended.
    @Test func anUnquotedTemplateForTags() {
        #expect(CommandTemplate(["{1}:{#}"], quotes: false, appendsInputs: false).render(inputs: ["b c"], sequence: 2, slot: 1) == "b c:2")
        #expect(CommandTemplate(["X"], quotes: false, appendsInputs: false).render(inputs: ["a"], sequence: 1, slot: 1) == "X")
    }

    /// `--results`: GNU parallel's folders; a value never names a path outside DIR.
    @Test func resultFoldersKeepEachValueOneComponent() {
        let folders = ResultFolders(root: "out")
        #expect(folders.folder(for: ["a", "x"]) == "out/1/a/2/x")
        #expect(folders.folder(for: ["b/c", "x\\y"]) == "out/1/b\\_c/2/x\\\\y")
        #expect(folders.folder(for: ["..", "."]) == "out/1/\\.\\./2/\\.")
    }
}
