import CohortCore
import Foundation

/// GNU parallel's command-line syntax, so that `cohort map` reads like `parallel`:
/// `COMMAND ::: a b c :::: file`, a cross product of input sources, and replacement strings.
public struct ParallelSyntax: Sendable {
    public enum Source: Sendable, Equatable {
        case values([String])
        case file(String)
    }

    /// The markers that start an input source; a `+` links it to the source before it.
    public static let markers: Set<String> = [":::", "::::", ":::+", "::::+"]

    /// The command words (before the first `:::` or `::::`).
    public var command: [String]
    /// Each source, and whether it is linked to the one before it (`:::+`, `::::+`).
    public var sources: [(source: Source, linked: Bool)]
    /// `--link`: every source linked, the shorter ones wrapping around.
    public var linkAll = false
    /// `-N n`: values per task.
    public var perTask = 1
    /// `--colsep REGEX`: the regular expression that splits each value into columns.
    public var columnSeparator: String?

    /// Splits `cmd args ::: a b :::+ 1 2 :::: file`; with no source, input comes from stdin lines.
    /// `files` (`-a FILE`) are sources before the others, as GNU parallel puts them.
    public init(arguments: [String], files: [String] = [], linkAll: Bool = false) throws {
        var command: [String] = []
        var sources: [(source: Source, linked: Bool)] = files.map { (.file($0), false) }
        var index = 0
        while index < arguments.count, !Self.markers.contains(arguments[index]) {
            command.append(arguments[index])
            index += 1
        }
        while index < arguments.count {
            let marker = arguments[index]
            index += 1
            var values: [String] = []
            while index < arguments.count, !Self.markers.contains(arguments[index]) {
                values.append(arguments[index])
                index += 1
            }
            // A `+` with nothing before it links to nothing: a plain source, as in GNU parallel.
            let linked = marker.hasSuffix("+") && !sources.isEmpty
            if marker.hasPrefix("::::") {
                guard !values.isEmpty else { throw CohortError(.invalidInput, "\(marker) needs at least one file") }
                sources += values.map { (.file($0), linked) }
            } else {
                sources.append((.values(values), linked))
            }
        }
        guard !command.isEmpty else { throw CohortError(.invalidInput, "no command given: cohort map COMMAND ::: INPUTS") }
        self.command = command
        self.sources = sources
        self.linkAll = linkAll
    }

    /// Reads file sources (one value per line; `-` is stdin) and returns their combinations,
    /// the last source varying fastest, as GNU parallel orders them; linked sources go side by
    /// side.
    public func inputs(stdin: () throws -> [String]) throws -> MapInputs {
        var groups: [[[String]]] = []
        for (source, linked) in sources {
            let column: [String]
            switch source {
            case .values(let values):
                column = values
            case .file(let path) where path == "-":
                column = try stdin()
            case .file(let path):
                // Through a file descriptor, so that pipes (`:::: <(seq 10)`) read like files.
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CohortError(.invalidInput, "cannot read input file: \(String(cString: strerror(errno)))", file: path) }
                defer { close(fd) }
                column = try Self.lines(readingAll: fd, name: path)
            }
            if (linked || linkAll), !groups.isEmpty { groups[groups.count - 1].append(column) } else { groups.append([column]) }
        }
        if sources.isEmpty { groups.append([try stdin()]) }
        var columns: (@Sendable (String) -> [String])?
        if let columnSeparator {
            guard !columnSeparator.isEmpty else { throw CohortError(.invalidInput, "--colsep is empty") }
            guard perTask == 1 else { throw CohortError(.invalidInput, "--colsep and -N cannot be combined") }
            let separator = try ColumnSeparator(columnSeparator)
            columns = { separator.split($0) }
        }
        return try MapInputs(groups: groups, wraps: linkAll, perTask: perTask, columns: columns)
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

/// `--colsep`: GNU parallel's column separator is a regular expression; a text without regex
/// syntax (`,` `\t` `::`) splits as plain text.
struct ColumnSeparator: Sendable {
    let literal: String?
    nonisolated(unsafe) let pattern: Regex<AnyRegexOutput>?

    init(_ text: String) throws {
        let special = Set("\\^$.|?*+()[]{}")
        if text == "\\t" || text == "\t" {
            literal = "\t"
            pattern = nil
        } else if !text.contains(where: special.contains) {
            literal = text
            pattern = nil
        } else {
            do { pattern = try Regex(text) } catch { throw CohortError(.invalidInput, "--colsep is not a regular expression: \(error)") }
            literal = nil
        }
    }

    func split(_ value: String) -> [String] {
        if let literal { return value.split(separator: literal, omittingEmptySubsequences: false).map(String.init) }
        return value.split(separator: pattern!, omittingEmptySubsequences: false).map(String.init)
    }
}
