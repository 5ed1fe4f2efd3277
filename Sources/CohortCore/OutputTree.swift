/// Outputs folded as they arrive, ClusterShell's MsgTree: each output is a path of lines in one
/// tree, so that a thousand hosts printing the same thousand lines hold a thousand lines, not a
/// million (`cohort run --gather`). Memory grows with the distinct output, not hosts × output.
public final class OutputTree {
    /// One line (with its `\n`, unless it is an output's unterminated last piece) after the
    /// lines on the way from the root.
    public final class Node {
        let line: [UInt8]
        let parent: Node?
        var children: [[UInt8]: Node] = [:]

        init(line: [UInt8], parent: Node?) {
            self.line = line
            self.parent = parent
        }
    }

    /// Where one output stands: the node of its last complete line, and what came after it.
    public struct Cursor {
        public fileprivate(set) var node: Node
        fileprivate var partial: [UInt8] = []
    }

    public let root = Node(line: [], parent: nil)
    /// Lines held, over every output (for tests and the curious).
    public private(set) var nodeCount = 0

    public init() {}

    public func start() -> Cursor { Cursor(node: root) }

    /// Adds bytes of the output at `cursor`; complete lines move it down the tree.
    public func append(_ bytes: some Collection<UInt8>, to cursor: inout Cursor) {
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            let next = bytes.index(after: index)
            if bytes[index] == UInt8(ascii: "\n") {
                cursor.partial += bytes[start..<next]
                cursor.node = child(of: cursor.node, cursor.partial)
                cursor.partial.removeAll(keepingCapacity: false)
                start = next
            }
            index = next
        }
        cursor.partial += bytes[start...]
    }

    /// Ends the output at `cursor`: an unterminated last piece becomes its last line.
    public func finish(_ cursor: inout Cursor) {
        guard !cursor.partial.isEmpty else { return }
        cursor.node = child(of: cursor.node, cursor.partial)
        cursor.partial = []
    }

    /// The whole output ending at `node`.
    public func bytes(upTo node: Node) -> [UInt8] {
        var lines: [[UInt8]] = []
        var current = node
        while let parent = current.parent {
            lines.append(current.line)
            current = parent
        }
        return Array(lines.reversed().joined())
    }

    private func child(of node: Node, _ line: [UInt8]) -> Node {
        if let existing = node.children[line] { return existing }
        let made = Node(line: line, parent: node)
        node.children[line] = made
        nodeCount += 1
        return made
    }
}
