/// A template's tokens: text between tags, and the expression tokens inside `{{ }}` and
/// `{% %}`, each with its line. Whitespace control (`{%-`, `-%}`, `{{-`, `-}}`) and Ansible's
/// `trim_blocks` (the newline right after a block tag goes) are applied here.
struct Token: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case int(Int)
        case float(Double)
        /// An operator or punctuation: `+`, `//`, `==`, `(`, `|`…
        case op(String)
    }

    var kind: Kind
    var line: Int
}

enum Lexer {
    /// Longest first, so that `//` is not read as two `/`.
    private static let operators = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"]
        .map { ($0, Array($0.unicodeScalars)) }

    static func tokens(_ source: String) throws(TemplateError) -> [Token] {
        let chars = Array(source.unicodeScalars)
        var tokens: [Token] = []
        var line = 1
        var i = 0
        var text: [Unicode.Scalar] = []
        var textLine = 1
        /// Set by `-%}` / `-}}`: the next text loses its leading whitespace.
        var stripNext = false
        /// Set by `%}`: the next text loses one leading newline.
        var trimNewline = false

        func flushText(stripTrailing: Bool) {
            var scalars = text[...]
            if stripNext { scalars = scalars.drop { $0.properties.isWhitespace } }
            else if trimNewline, scalars.first == "\n" { scalars = scalars.dropFirst() }
            if stripTrailing { while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() } }
            if !scalars.isEmpty { tokens.append(Token(kind: .text(String(String.UnicodeScalarView(scalars))), line: textLine)) }
            text = []
            stripNext = false
            trimNewline = false
        }

        while i < chars.count {
            let c = chars[i]
            if c == "{", i + 1 < chars.count, chars[i + 1] == "{" || chars[i + 1] == "%" || chars[i + 1] == "#" {
                let opener = chars[i + 1]
                let minus = i + 2 < chars.count && chars[i + 2] == "-"
                if opener == "#" {
                    // A comment: skipped, whitespace control and all.
                    flushText(stripTrailing: minus)
                    let start = line
                    i += 2
                    while i + 1 < chars.count, !(chars[i] == "#" && chars[i + 1] == "}") {
                        if chars[i] == "\n" { line += 1 }
                        i += 1
                    }
                    guard i + 1 < chars.count else { throw TemplateError("unterminated comment", line: start) }
                    stripNext = i > 0 && chars[i - 1] == "-"
                    // trim_blocks applies after a comment as after a block tag.
                    trimNewline = !stripNext
                    i += 2
                    textLine = line
                    continue
                }
                flushText(stripTrailing: minus)
                let tagLine = line
                i += minus ? 3 : 2
                if opener == "%", let (raw, after, endLine, strip) = try rawBlock(chars, from: i, line: line) {
                    tokens.append(Token(kind: .text(raw), line: tagLine))
                    i = after
                    line = endLine
                    stripNext = strip
                    trimNewline = !strip
                    textLine = line
                    continue
                }
                tokens.append(Token(kind: opener == "{" ? .variableBegin : .blockBegin, line: tagLine))
                let closer: Unicode.Scalar = opener == "{" ? "}" : "%"
                // Brackets opened inside the tag: `}}` closes a dict literal there, not the tag.
                var depth = 0
                while true {
                    guard i < chars.count else { throw TemplateError("unexpected end of template: \(opener == "{" ? "}}" : "%}") expected", line: tagLine) }
                    let d = chars[i]
                    if d == "\n" { line += 1; i += 1; continue }
                    if d.properties.isWhitespace { i += 1; continue }
                    if depth == 0, d == "-", i + 2 < chars.count, chars[i + 1] == closer, chars[i + 2] == "}" {
                        stripNext = true
                        i += 3
                        break
                    }
                    if depth == 0, d == closer, i + 1 < chars.count, chars[i + 1] == "}" {
                        trimNewline = opener == "%"
                        i += 2
                        break
                    }
                    let kind = try expressionToken(chars, &i, line: line)
                    if case .op(let op) = kind {
                        if op == "(" || op == "[" || op == "{" { depth += 1 }
                        if op == ")" || op == "]" || op == "}" { depth = max(0, depth - 1) }
                    }
                    tokens.append(Token(kind: kind, line: line))
                }
                tokens.append(Token(kind: opener == "{" ? .variableEnd : .blockEnd, line: line))
                textLine = line
                continue
            }
            if text.isEmpty { textLine = line }
            if c == "\n" { line += 1 }
            text.append(c)
            i += 1
        }
        flushText(stripTrailing: false)
        return tokens
    }

    /// `{% raw %}…{% endraw %}` (with `i` just past `{%`): its text verbatim, where it ends, the
    /// line there, and whether the end tag strips what follows. Nil when the tag is not `raw`.
    private static func rawBlock(_ chars: [Unicode.Scalar], from start: Int, line: Int) throws(TemplateError) -> (String, Int, Int, Bool)? {
        var i = start
        while i < chars.count, chars[i] == " " { i += 1 }
        guard i + 3 <= chars.count, String(String.UnicodeScalarView(chars[i..<i + 3])) == "raw" else { return nil }
        i += 3
        while i < chars.count, chars[i] == " " { i += 1 }
        if i < chars.count, chars[i] == "-" { i += 1 }
        guard i + 1 < chars.count, chars[i] == "%", chars[i + 1] == "}" else { return nil }
        i += 2
        var body: [Unicode.Scalar] = []
        var currentLine = line
        while i < chars.count {
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "%" {
                var j = i + 2
                if j < chars.count, chars[j] == "-" { j += 1 }
                while j < chars.count, chars[j] == " " { j += 1 }
                if j + 6 <= chars.count, String(String.UnicodeScalarView(chars[j..<j + 6])) == "endraw" {
                    j += 6
                    while j < chars.count, chars[j] == " " { j += 1 }
                    let strip = j < chars.count && chars[j] == "-"
                    if strip { j += 1 }
                    guard j + 1 < chars.count, chars[j] == "%", chars[j + 1] == "}" else { throw TemplateError("malformed endraw", line: currentLine) }
                    return (String(String.UnicodeScalarView(body)), j + 2, currentLine, strip)
                }
            }
            if chars[i] == "\n" { currentLine += 1 }
            body.append(chars[i])
            i += 1
        }
        throw TemplateError("missing endraw for raw", line: line)
    }

    private static func expressionToken(_ chars: [Unicode.Scalar], _ i: inout Int, line: Int) throws(TemplateError) -> Token.Kind {
        let c = chars[i]
        if c == "_" || c.properties.isAlphabetic {
            var name = String.UnicodeScalarView()
            while i < chars.count, chars[i] == "_" || chars[i].properties.isAlphabetic || ("0"..."9").contains(chars[i]) {
                name.append(chars[i])
                i += 1
            }
            return .name(String(name))
        }
        if ("0"..."9").contains(c) {
            var digits = ""
            var isFloat = false
            while i < chars.count {
                let d = chars[i]
                if ("0"..."9").contains(d) || d == "_" {
                    if d != "_" { digits.unicodeScalars.append(d) }
                } else if d == ".", !isFloat, i + 1 < chars.count, ("0"..."9").contains(chars[i + 1]) {
                    isFloat = true
                    digits += "."
                } else if d == "e" || d == "E", i + 1 < chars.count, ("0"..."9").contains(chars[i + 1]) || chars[i + 1] == "-" || chars[i + 1] == "+" {
                    isFloat = true
                    digits += "e"
                    i += 1
                    digits.unicodeScalars.append(chars[i])
                } else {
                    break
                }
                i += 1
            }
            if isFloat {
                guard let value = Double(digits) else { throw TemplateError("bad number \(digits)", line: line) }
                return .float(value)
            }
            guard let value = Int(digits) else { throw TemplateError("integer \(digits) is too large", line: line) }
            return .int(value)
        }
        if c == "'" || c == "\"" {
            return .string(try stringLiteral(chars, &i, line: line))
        }
        for (op, scalars) in operators {
            if i + scalars.count <= chars.count, chars[i..<i + scalars.count].elementsEqual(scalars) {
                i += scalars.count
                return .op(op)
            }
        }
        throw TemplateError("unexpected character '\(c)'", line: line)
    }

    /// A quoted string, its backslashes kept as written: Ansible 2.19 processes no escapes in
    /// template string literals (`'\\d+'` is three characters), though `\'` does not end one.
    private static func stringLiteral(_ chars: [Unicode.Scalar], _ i: inout Int, line: Int) throws(TemplateError) -> String {
        let quote = chars[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < chars.count, chars[i] != quote {
            if chars[i] == "\\", i + 1 < chars.count {
                out.append(chars[i])
                i += 1
            }
            out.append(chars[i])
            i += 1
        }
        guard i < chars.count else { throw TemplateError("unterminated string", line: line) }
        i += 1
        return String(out)
    }
}
