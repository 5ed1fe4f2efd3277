import Glibc

/// Lines of text as Cohort reads every file and stream: split at `\n` and at `\r\n`, as
/// Ansible and GNU parallel do. (A Swift `String` holds `\r\n` as one `Character`, so a plain
/// `split(separator: "\n")` would leave CRLF files as one long line.)
public enum TextLines {
    /// Every line, empty ones included; a final line end leaves one empty line after it.
    public static func split(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }

    /// The lines of a stream of records: as `split`, without the empty line after the last end.
    public static func records(_ text: String) -> [String] {
        var lines = split(text).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

extension TextLines {
    /// Each line of what `fd` gives, read a chunk at a time, so that a file of 10^8 lines costs
    /// one chunk and one line of memory, not the file. `body` gets the line's bytes (without
    /// its `\n` or `\r\n`), whether a line end closed it (only the last line may lack one), and
    /// the offset of the byte after it. `lineLimit` bounds one line (longer: an error).
    public static func forEach(
        readingFD fd: Int32, name: String, lineLimit: Int = 1 << 20,
        _ body: (_ line: [UInt8], _ ended: Bool, _ end: Int) throws -> Void
    ) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var line: [UInt8] = []
        var offset = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw CohortError(.io, "cannot read: \(String(cString: strerror(errno)))", file: name) }
            if n == 0 { break }
            var start = 0
            for index in 0..<n where chunk[index] == UInt8(ascii: "\n") {
                line += chunk[start..<index]
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                try body(line, true, offset + index + 1)
                line.removeAll(keepingCapacity: true)
                start = index + 1
            }
            line += chunk[start..<n]
            guard line.count <= lineLimit else { throw CohortError(.invalidInput, "a line is longer than \(lineLimit) bytes", file: name) }
            offset += n
        }
        if !line.isEmpty { try body(line, false, offset) }
    }
}
