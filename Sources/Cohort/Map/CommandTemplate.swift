import CohortCore

/// A command template with GNU parallel replacement strings: `{}` `{.}` `{/}` `{//}` `{/.}`
/// `{#}` `{%}` and positional `{1}` `{2.}` `{3/}`... A template with none at all gets the
/// inputs appended.
///
/// A value stays literal wherever its replacement string stands: bare, inside `'…'`, inside
/// `"…"`, inside `$(…)` or backquotes. Each placeholder is quoted for the shell context the
/// template text around it leaves it in (`ShellContext`), so an input such as `$(rm -rf ~)`
/// can never run, even under `echo "{}"`.
public struct CommandTemplate: Sendable {
    private enum Piece: Sendable, Equatable {
        case text(String)
        case input(position: Int?, transform: String, context: ShellContext.Kind)
        case sequence
        case slot
    }

    private let pieces: [Piece]
    /// False for text that no shell reads (`--tagstring`): values go in as they are.
    private let quotes: Bool

    /// `appendsInputs: false` leaves a template without replacement strings as it is (a
    /// `--tagstring` is text, not a command to give the inputs to).
    public init(_ words: [String], quotes: Bool = true, appendsInputs: Bool = true) {
        self.quotes = quotes
        let template = words.joined(separator: " ")
        var pieces: [Piece] = []
        var text = ""
        var context = ShellContext()
        var rest = Substring(template)
        func flush() {
            if !text.isEmpty { pieces.append(.text(text)) }
            context.consume(text)
            text = ""
        }
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            rest = rest[open...]
            if let close = rest.firstIndex(of: "}"), let piece = Self.parse(rest[rest.index(after: open)..<close]) {
                flush()
                if case .input(let position, let transform, _) = piece {
                    pieces.append(.input(position: position, transform: transform, context: context.current))
                } else {
                    pieces.append(piece)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                text.append("{")
                rest = rest.dropFirst()
            }
        }
        text += rest
        flush()
        // As GNU parallel: any replacement string ({#} and {%} too) means the inputs are placed.
        if appendsInputs, !pieces.contains(where: { if case .text = $0 { return false } else { return true } }) {
            pieces.append(.text(" "))
            pieces.append(.input(position: nil, transform: "", context: context.current))
        }
        self.pieces = pieces
    }

    private static func parse(_ inner: Substring) -> Piece? {
        if inner == "#" { return .sequence }
        if inner == "%" { return .slot }
        let digits = inner.prefix { $0.isNumber }
        let transform = String(inner.dropFirst(digits.count))
        guard ["", ".", "/", "//", "/."].contains(transform) else { return nil }
        if digits.isEmpty { return .input(position: nil, transform: transform, context: .bare) }
        guard let position = Int(digits), position > 0 else { return nil }
        return .input(position: position, transform: transform, context: .bare)
    }

    /// The command line for one task: `inputs` are its values, `sequence` its 1-based number,
    /// `slot` the 1-based slot running it.
    public func render(inputs: [String], sequence: Int, slot: Int) -> String {
        let quote: (String, ShellContext.Kind) -> String = quotes ? { ShellContext.quote($0, in: $1) } : { text, _ in text }
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .sequence: out += String(sequence)
            case .slot: out += String(slot)
            case .input(let position, let transform, let context):
                if let position {
                    out += position <= inputs.count ? quote(Self.apply(transform, inputs[position - 1]), context) : ""
                } else if context.isQuoted {
                    // Inside quotes several values stay one word, as they would be one string.
                    out += quote(inputs.map { Self.apply(transform, $0) }.joined(separator: " "), context)
                } else {
                    out += inputs.map { quote(Self.apply(transform, $0), context) }.joined(separator: " ")
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
