import CohortCore
import Foundation

/// GNU parallel's command-line syntax, so that `cohort map` reads like `parallel`:
/// `COMMAND ::: a b c :::: file`, a cross product of input sources, and replacement strings.
public struct ParallelSyntax: Sendable {
    public enum Source: Sendable, Equatable {
        case values([String])
        case file(String)
    }

    /// The command words (before the first `:::` or `::::`).
    public var command: [String]
    public var sources: [Source]

    /// Splits `cmd args ::: a b :::: file`; with no source, input comes from stdin lines.
    public init(arguments: [String]) throws {
        var command: [String] = []
        var sources: [Source] = []
        var index = 0
        while index < arguments.count, arguments[index] != ":::", arguments[index] != "::::" {
            command.append(arguments[index])
            index += 1
        }
        while index < arguments.count {
            let marker = arguments[index]
            index += 1
            var values: [String] = []
            while index < arguments.count, arguments[index] != ":::", arguments[index] != "::::" {
                values.append(arguments[index])
                index += 1
            }
            if marker == ":::" {
                sources.append(.values(values))
            } else {
                guard !values.isEmpty else { throw CohortError(.invalidInput, ":::: needs at least one file") }
                sources += values.map(Source.file)
            }
        }
        guard !command.isEmpty else { throw CohortError(.invalidInput, "no command given: cohort map COMMAND ::: INPUTS") }
        self.command = command
        self.sources = sources
    }

    /// Reads file sources (one value per line; `-` is stdin) and returns their combinations,
    /// the last source varying fastest, as GNU parallel orders them.
    public func inputs(stdin: () throws -> [String]) throws -> MapInputs {
        var lists: [[String]] = []
        for source in sources {
            switch source {
            case .values(let values):
                lists.append(values)
            case .file(let path):
                if path == "-" {
                    lists.append(try stdin())
                    continue
                }
                // Through a file descriptor, so that pipes (`:::: <(seq 10)`) read like files.
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CohortError(.invalidInput, "cannot read input file: \(String(cString: strerror(errno)))", file: path) }
                defer { close(fd) }
                lists.append(try Self.lines(readingAll: fd, name: path))
            }
        }
        if sources.isEmpty { lists.append(try stdin()) }
        return try MapInputs(sources: lists)
    }

    /// The lines of everything `fd` gives, up to `MapInputs.byteLimit` (then an error, exit 4).
    public static func lines(readingAll fd: Int32, name: String) throws -> [String] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw CohortError(.invalidInput, "cannot read input: \(String(cString: strerror(errno)))", file: name) }
            if n == 0 { break }
            data += chunk[..<n]
            guard data.count <= MapInputs.byteLimit else {
                throw CohortError(.invalidInput, "input is larger than \(MapInputs.byteLimit >> 20) MiB; split the map", file: name)
            }
        }
        return lines(String(decoding: data, as: UTF8.self))
    }

    public static func lines(_ text: String) -> [String] {
        TextLines.records(text)
    }
}
