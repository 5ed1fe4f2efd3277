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

    /// Reads file sources (one value per line; `-` is stdin) and returns every combination,
    /// the last source varying fastest, as GNU parallel orders them.
    public func inputs(stdin: () -> [String]) throws -> [[String]] {
        var lists: [[String]] = []
        for source in sources {
            switch source {
            case .values(let values):
                lists.append(values)
            case .file(let path):
                if path == "-" {
                    lists.append(stdin())
                    continue
                }
                // Through a FileHandle, so that pipes (`:::: <(seq 10)`) read like files.
                guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
                    throw CohortError(.invalidInput, "cannot read input file", file: path)
                }
                lists.append(Self.lines(String(decoding: data, as: UTF8.self)))
            }
        }
        if sources.isEmpty { lists.append(stdin()) }
        return lists.reduce([[]]) { partial, list in partial.flatMap { prefix in list.map { prefix + [$0] } } }
    }

    public static func lines(_ text: String) -> [String] {
        TextLines.records(text)
    }
}
