import CohortTestSupport
import Foundation
import Testing

/// Every Swift snippet in README.md and docs/ is compiled: each is kept verbatim in the
/// CohortDocSnippets target (the first as its main.swift, the n-th as SnippetN.swift), which
/// the build compiles, and this test checks that the copies still match the docs.
@Suite struct DocSnippetTests {
    /// The ```swift blocks of a Markdown text, each with its indentation removed.
    static func swiftBlocks(_ markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        var indent = 0
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if current == nil, trimmed == "```swift" {
                indent = line.count - trimmed.count
                current = []
            } else if current != nil, trimmed == "```" {
                blocks.append(current!.map { $0.count >= indent ? String($0.dropFirst(indent)) : String($0) }.joined(separator: "\n") + "\n")
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test func everySnippetIsCompiledAsWritten() throws {
        let root = TestFleet.repositoryRoot
        let docs = try FileManager.default.contentsOfDirectory(atPath: root + "/docs").filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var blocks: [(String, String)] = []
        for file in ["README.md"] + docs {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            blocks += Self.swiftBlocks(text).map { (file, $0) }
        }
        try #require(!blocks.isEmpty)
        let folder = root + "/Tests/CohortDocSnippets/"
        let kept = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }
        #expect(kept.count == blocks.count, "\(blocks.count) snippets in the docs, \(kept.count) in Tests/CohortDocSnippets")
        for (offset, (file, block)) in blocks.enumerated() {
            let name = offset == 0 ? "main.swift" : "Snippet\(offset + 1).swift"
            let copy = try? String(contentsOfFile: folder + name, encoding: .utf8)
            #expect(copy == block, "snippet \(offset + 1) of the docs (in \(file)) differs from Tests/CohortDocSnippets/\(name)")
        }
    }
}
