import CohortCore
import CohortTemplate

/// `module: key=value key2="a b" free text`, as Ansible's `parse_kv` reads it: words split
/// on spaces outside quotes and `{{ }}`; `key=value` words are arguments (quotes removed),
/// others are the free-form text. For free-form modules only their own argument names are
/// taken out of the text (`chdir=/tmp ls x=1` runs `ls x=1` in /tmp).
enum KeyValueArguments {
    static func parse(_ text: String, freeForm: Bool, known: Set<String>, at location: Location) throws(CohortError) -> [(String, Value)] {
        var pairs: [(String, Value)] = []
        var raw: [String] = []
        for word in try splitArgs(text, at: location) {
            let decoded = decodeEscapes(word)
            // The first `=` not escaped with a backslash ends the key.
            let chars = Array(decoded)
            var split: Int?
            var index = 1
            while index < chars.count {
                if chars[index] == "=", chars[index - 1] != "\\" {
                    split = index
                    break
                }
                index += 1
            }
            guard let split else {
                // Only escaped `=`: the word, unescaped, is free text; with no `=`, as written.
                raw.append(chars.contains("=") ? decoded.replacing("\\=", with: "=") : word)
                continue
            }
            let key = String(chars[..<split]).trimmed
            if freeForm, !(known.contains(key) && key != "_raw_params") {
                raw.append(word)
                continue
            }
            pairs.append((key, .string(unquote(String(chars[(split + 1)...]).trimmed))))
        }
        if !raw.isEmpty { pairs.append(("_raw_params", .string(joinArgs(raw)))) }
        return pairs
    }

    /// Ansible's `join_args`: the free text as written, its newlines and runs of spaces kept
    /// (`shell: |` gives the shell every line).
    static func joinArgs(_ words: [String]) -> String {
        var out = ""
        for word in words {
            if out.isEmpty || out.hasSuffix("\n") { out += word } else { out += " " + word }
        }
        return out
    }

    /// Python's escapes in `key=value` words (`\n`, `\t`, `\\`, `\'`, `\"`, `\xNN`,
    /// `\uNNNN`), decoded as Ansible's `parse_kv` decodes them.
    static func decodeEscapes(_ word: String) -> String {
        var out = ""
        var chars = Array(word)[...]
        while let c = chars.popFirst() {
            guard c == "\\", let next = chars.first else {
                out.append(c)
                continue
            }
            let simple: [Character: String] = ["\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "n": "\n", "r": "\r", "t": "\t", "v": "\u{0B}"]
            if let decoded = simple[next] {
                out += decoded
                chars.removeFirst()
            } else if let width = ["x": 2, "u": 4, "U": 8][next], chars.count > width,
                let code = UInt32(String(chars.dropFirst().prefix(width)), radix: 16), chars.dropFirst().prefix(width).allSatisfy(\.isHexDigit),
                let scalar = Unicode.Scalar(code)
            {
                out.unicodeScalars.append(scalar)
                chars.removeFirst(width + 1)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Ansible's `split_args`: splits on spaces and newlines, keeping quoted parts and
    /// `{{ }}`, `{% %}`, `{# #}` whole, and remembering which whitespace it split on (a run
    /// of spaces, a newline) so that `joinArgs` gives the text back as written. A backslash
    /// alone at the end of a line joins it to the next.
    static func splitArgs(_ args: String, at location: Location) throws(CohortError) -> [String] {
        if args.isEmpty { return [] }
        var params: [String] = []
        let items = args.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var quoteChar: Character?
        var insideQuotes = false
        var printDepth = 0, blockDepth = 0, commentDepth = 0
        func appendToLast(_ text: String) {
            if params.isEmpty { params.append("") }
            params[params.count - 1] += text
        }
        for (itemIndex, item) in items.enumerated() {
            let tokens = item.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            var lineContinuation = false
            for (index, token) in tokens.enumerated() {
                if token.isEmpty, index != 0 {
                    appendToLast(" ")
                    continue
                }
                if token == "\\", !insideQuotes {
                    lineContinuation = true
                    continue
                }
                let wasInsideQuotes = insideQuotes
                quoteChar = quoteState(token, quoteChar)
                insideQuotes = quoteChar != nil
                var appended = false
                let inBlock = printDepth > 0 || blockDepth > 0 || commentDepth > 0
                if insideQuotes, !wasInsideQuotes, !inBlock {
                    params.append(token)
                    appended = true
                } else if inBlock || insideQuotes || wasInsideQuotes {
                    appendToLast((index == 0 && wasInsideQuotes) || index == 0 ? token : " " + token)
                    appended = true
                }
                for (open, close, depth) in [("{{", "}}", 0), ("{%", "%}", 1), ("{#", "#}", 2)] {
                    let before = [printDepth, blockDepth, commentDepth][depth]
                    let after = count(token, open) == count(token, close) ? before : max(0, before + count(token, open) - count(token, close))
                    switch depth {
                    case 0: printDepth = after
                    case 1: blockDepth = after
                    default: commentDepth = after
                    }
                    if after != before, !appended {
                        params.append(token)
                        appended = true
                    }
                }
                if printDepth == 0, blockDepth == 0, commentDepth == 0, !insideQuotes, !appended, !token.isEmpty { params.append(token) }
            }
            if items.count > 1, itemIndex != items.count - 1, !lineContinuation { appendToLast("\n") }
        }
        if printDepth > 0 || blockDepth > 0 || commentDepth > 0 || insideQuotes {
            throw YAMLValues.error("failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(args)", at: location)
        }
        return params
    }

    /// The quote a token leaves open (nil: none), from the one open before it.
    private static func quoteState(_ token: String, _ open: Character?) -> Character? {
        var quote = open
        var previous: Character?
        for c in token {
            if c == "\"" || c == "'", previous != "\\" {
                if let q = quote {
                    if c == q { quote = nil }
                } else {
                    quote = c
                }
            }
            previous = c
        }
        return quote
    }

    /// Python's `str.count`: non-overlapping occurrences.
    private static func count(_ text: String, _ needle: String) -> Int {
        text.split(separator: needle, omittingEmptySubsequences: false).count - 1
    }

    static func unquote(_ value: String) -> String {
        if value.count >= 2, let first = value.first, first == "'" || first == "\"", value.last == first {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}

/// Whether a value fits an argument's type, as Ansible's argument spec converts it.
enum ArgumentTypes {
    static func problem(_ value: Value, _ kind: ModuleSpec.Kind) -> String? {
        switch kind {
        case .raw: return nil
        case .string, .path:
            switch value {
            case .list, .dict: return "must be a string, not a \(value.typeName)"
            default: return nil
            }
        case .bool:
            return PlaybookLoader.boolean(value) == nil ? "must be a boolean (yes/no, true/false), not \(value.pythonRepr)" : nil
        case .int:
            switch value {
            case .int: return nil
            case .string(let s) where Int(s.trimmed) != nil: return nil
            default: return "must be an integer, not \(value.pythonRepr)"
            }
        case .list:
            switch value {
            case .list, .string, .int, .float, .bool: return nil
            default: return "must be a list, not a \(value.typeName)"
            }
        case .dict:
            if case .dict = value { return nil }
            return "must be a mapping, not a \(value.typeName)"
        }
    }
}
