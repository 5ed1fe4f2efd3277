import CohortCore

/// Where a POSIX shell stands after reading some text: bare, inside single or double quotes,
/// inside `$(…)` or backquotes (nested). Pure; it reads just enough of sh's grammar to know how
/// a value placed at that point must be quoted to stay one literal string.
struct ShellContext: Sendable {
    enum Kind: Sendable, Equatable {
        case bare, single, double, substitution, backquote

        var isQuoted: Bool { self == .single || self == .double }
    }

    private var stack: [Kind] = [.bare]
    private var escaped = false

    var current: Kind { stack.last ?? .bare }

    mutating func consume(_ text: String) {
        var previous: Character?
        for ch in text {
            defer { previous = ch }
            if escaped {
                escaped = false
                continue
            }
            switch current {
            case .single:
                if ch == "'" { stack.removeLast() }
            case .double:
                switch ch {
                case "\\": escaped = true
                case "\"": stack.removeLast()
                case "(" where previous == "$": stack.append(.substitution)
                case "`": stack.append(.backquote)
                default: break
                }
            case .bare, .substitution, .backquote:
                switch ch {
                case "\\": escaped = true
                case "'": stack.append(.single)
                case "\"": stack.append(.double)
                case "(" where current == .substitution || previous == "$": stack.append(.substitution)
                case ")" where current == .substitution: stack.removeLast()
                case "`" where current == .backquote: stack.removeLast()
                case "`": stack.append(.backquote)
                default: break
                }
            }
        }
    }

    /// `value` written so that, read at a point of kind `kind`, the shell sees exactly it.
    static func quote(_ value: String, in kind: Kind) -> String {
        switch kind {
        case .bare, .substitution:
            return ShellQuote.quote(value)
        case .single:
            // Close the quote, give the quote character escaped, reopen.
            var out = ""
            for ch in value { out += ch == "'" ? #"'\''"# : String(ch) }
            return out
        case .double:
            var out = ""
            for ch in value {
                if ch == "\\" || ch == "\"" || ch == "$" || ch == "`" { out.append("\\") }
                out.append(ch)
            }
            return out
        case .backquote:
            // Inside backquotes the shell first undoes \\, \` and \$, then parses the rest.
            var out = ""
            for ch in ShellQuote.quote(value) {
                if ch == "\\" || ch == "`" || ch == "$" { out.append("\\") }
                out.append(ch)
            }
            return out
        }
    }
}
