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
        for word in try words(text, at: location) {
            let decoded = decodeEscapes(word)
            // The first `=` not escaped with a backslash ends the key.
            var chars = Array(decoded)
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
                if chars.contains("=") { chars = Array(decoded.replacing("\\=", with: "=")) }
                raw.append(freeForm ? word : String(chars))
                continue
            }
            let key = String(chars[..<split]).trimmed
            if freeForm, !(known.contains(key) && key != "_raw_params") {
                raw.append(word)
                continue
            }
            pairs.append((key, .string(unquote(String(chars[(split + 1)...]).trimmed))))
        }
        if !raw.isEmpty { pairs.append(("_raw_params", .string(raw.joined(separator: " ")))) }
        return pairs
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

    /// Splits on spaces, keeping quoted parts and `{{ … }}` / `{% … %}` whole.
    static func words(_ text: String, at location: Location) throws(CohortError) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var depth = 0
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                current.append(c)
                if c == "\\", let next = chars.popFirst() {
                    current.append(next)
                } else if c == q {
                    quote = nil
                }
                continue
            }
            if c == "{", let next = chars.first, next == "{" || next == "%" {
                depth += 1
                current.append(c)
                current.append(chars.removeFirst())
                continue
            }
            if depth > 0, c == "}" || c == "%", chars.first == "}" {
                depth -= 1
                current.append(c)
                current.append(chars.removeFirst())
                continue
            }
            if depth == 0, c == " " || c == "\t" || c == "\n" {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            if depth == 0, c == "'" || c == "\"" { quote = c }
            current.append(c)
        }
        if quote != nil { throw YAMLValues.error("unbalanced quotes in: \(text)", at: location) }
        if !current.isEmpty { words.append(current) }
        return words
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
