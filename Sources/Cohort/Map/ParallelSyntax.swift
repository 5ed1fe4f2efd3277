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
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// A command template with GNU parallel replacement strings: `{}` `{.}` `{/}` `{//}` `{/.}`
/// `{#}` `{%}` and positional `{1}` `{2.}` `{3/}`... Substituted values are shell-quoted, so
/// an input line cannot inject a command. A template with none at all gets the inputs appended.
public struct CommandTemplate: Sendable {
    private enum Piece: Sendable, Equatable {
        case text(String)
        case input(position: Int?, transform: String)
        case sequence
        case slot
    }

    private let pieces: [Piece]

    public init(_ words: [String]) {
        let template = words.joined(separator: " ")
        var pieces: [Piece] = []
        var text = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            rest = rest[open...]
            if let close = rest.firstIndex(of: "}"), let piece = Self.parse(rest[rest.index(after: open)..<close]) {
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
                pieces.append(piece)
                rest = rest[rest.index(after: close)...]
            } else {
                text.append("{")
                rest = rest.dropFirst()
            }
        }
        text += rest
        if !text.isEmpty { pieces.append(.text(text)) }
        // As GNU parallel: any replacement string ({#} and {%} too) means the inputs are placed.
        if !pieces.contains(where: { if case .text = $0 { return false } else { return true } }) {
            pieces.append(.text(" "))
            pieces.append(.input(position: nil, transform: ""))
        }
        self.pieces = pieces
    }

    private static func parse(_ inner: Substring) -> Piece? {
        if inner == "#" { return .sequence }
        if inner == "%" { return .slot }
        let digits = inner.prefix { $0.isNumber }
        let transform = String(inner.dropFirst(digits.count))
        guard ["", ".", "/", "//", "/."].contains(transform) else { return nil }
        if digits.isEmpty { return .input(position: nil, transform: transform) }
        guard let position = Int(digits), position > 0 else { return nil }
        return .input(position: position, transform: transform)
    }

    /// The command line for one task: `inputs` are its values, `sequence` its 1-based number,
    /// `slot` the 1-based slot running it.
    public func render(inputs: [String], sequence: Int, slot: Int) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .sequence: out += String(sequence)
            case .slot: out += String(slot)
            case .input(let position, let transform):
                if let position {
                    out += position <= inputs.count ? ShellQuote.quote(Self.apply(transform, inputs[position - 1])) : ""
                } else {
                    out += inputs.map { ShellQuote.quote(Self.apply(transform, $0)) }.joined(separator: " ")
                }
            }
        }
        return out
    }

    static func apply(_ transform: String, _ value: String) -> String {
        let slash = value.lastIndex(of: "/")
        let base = slash.map { String(value[value.index(after: $0)...]) } ?? value
        func dropExtension(_ s: String) -> String {
            guard let dot = s.lastIndex(of: "."), dot != s.startIndex else { return s }
            return String(s[..<dot])
        }
        switch transform {
        case ".": return slash.map { String(value[...$0]) + dropExtension(base) } ?? dropExtension(value)
        case "/": return base
        case "//": return slash.map { $0 == value.startIndex ? "/" : String(value[..<$0]) } ?? "."
        case "/.": return dropExtension(base)
        default: return value
        }
    }
}
