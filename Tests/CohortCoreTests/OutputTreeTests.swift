import CohortCore
import Testing

/// `--gather`'s folding, without hosts: outputs as paths of lines in one tree.
@Suite struct OutputTreeTests {
    /// A thousand outputs of the same thousand lines hold a thousand lines, whatever the chunks
    /// they arrive in (before, every host's output was kept whole until the end).
    @Test func identicalOutputsShareTheirLines() {
        let tree = OutputTree()
        let text = Array((1...1000).map { "line \($0)\n" }.joined().utf8)
        var cursors: [OutputTree.Cursor] = []
        for host in 0..<1000 {
            var cursor = tree.start()
            // Each host's bytes cut at different places, as reads from a channel are.
            var offset = 0
            let step = host % 97 + 1
            while offset < text.count {
                tree.append(text[offset..<min(offset + step, text.count)], to: &cursor)
                offset += step
            }
            tree.finish(&cursor)
            cursors.append(cursor)
        }
        #expect(tree.nodeCount == 1000)
        #expect(Set(cursors.map { ObjectIdentifier($0.node) }).count == 1)
        #expect(tree.bytes(upTo: cursors[0].node) == text)
    }

    @Test func differentOutputsStayApartAndAnUnterminatedLastLineCounts() {
        let tree = OutputTree()
        func output(_ text: String) -> OutputTree.Cursor {
            var cursor = tree.start()
            tree.append(Array(text.utf8), to: &cursor)
            tree.finish(&cursor)
            return cursor
        }
        let a = output("same\nend\n")
        let b = output("same\nend")
        let c = output("same\nother\n")
        let empty = output("")
        #expect(a.node !== b.node && a.node !== c.node)
        #expect(tree.bytes(upTo: b.node) == Array("same\nend".utf8))
        #expect(tree.bytes(upTo: c.node) == Array("same\nother\n".utf8))
        #expect(empty.node === tree.root && tree.bytes(upTo: empty.node).isEmpty)
        #expect(tree.nodeCount == 4)  // "same\n" once, then "end\n", "end", "other\n"
    }
}
