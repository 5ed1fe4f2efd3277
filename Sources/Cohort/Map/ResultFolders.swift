import CohortCore
import Foundation

/// `--results DIR`, GNU parallel's layout: each task's output in
/// `DIR/1/<value 1>/2/<value 2>/…/{stdout,stderr,seq}`, so a shell glob finds any slice of a
/// cross product. A value is one path component: `/` is written `\_` and `\` `\\` as GNU
/// parallel writes them, and `.` and `..` as `\.` and `\.\.`, so nothing lands outside DIR.
public struct ResultFolders: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The folder of a task whose values are `values`.
    public func folder(for values: [String]) -> String {
        var path = root
        for (position, value) in values.enumerated() {
            path += "/\(position + 1)/" + Self.component(value)
        }
        return path
    }

    static func component(_ value: String) -> String {
        if value == "." { return "\\." }
        if value == ".." { return "\\.\\." }
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "/": out += "\\_"
            case "\0": out += "\\0"
            default: out.append(character)
            }
        }
        return out
    }

    /// Writes one task's files (made with their folders, each replaced whole); the error says
    /// which file could not be written.
    public func write(values: [String], sequence: Int, stdout: [UInt8], stderr: [UInt8]) throws(CohortError) {
        let folder = folder(for: values)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CohortError(.io, "--results: cannot make the folder: \(error.localizedDescription)", file: folder)
        }
        for (name, bytes) in [("stdout", stdout), ("stderr", stderr), ("seq", Array("\(sequence)".utf8))] {
            let path = folder + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CohortError(.io, "--results: cannot write \(name): \(String(cString: strerror(errno)))", file: path)
            }
        }
    }
}
