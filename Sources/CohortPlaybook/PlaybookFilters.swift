import CohortCore
import CohortInventory
import CohortTemplate
import Crypto

/// The filters a playbook's templates have beyond the pure engine's: YAML (through Yams for
/// reading, and an emitter that writes what PyYAML writes) and hashes.
public enum PlaybookFilters {
    public static func install(into environment: inout Environment) {
        // PyYAML takes an indent only between 2 and 9 and writes with 2 otherwise; the text is
        // bounded like every text a template builds.
        let maxSize = environment.maxSize
        environment.filters["to_yaml"] = { input, args, kwargs in
            var indent = 2
            if case .int(let n)? = kwargs["indent"] { indent = try YAMLWriter.indent(n, otherwise: 2) }
            try YAMLWriter.checkSize(input, maxSize)
            return .string(YAMLWriter(indent: indent, flowLeaves: true).document(input))
        }
        environment.filters["to_nice_yaml"] = { input, args, kwargs in
            var indent = 4
            if case .int(let n)? = kwargs["indent"] ?? args.first { indent = try YAMLWriter.indent(n, otherwise: 2) }
            try YAMLWriter.checkSize(input, maxSize)
            return .string(YAMLWriter(indent: indent, flowLeaves: false).document(input))
        }
        environment.filters["from_yaml"] = { input, _, _ in
            guard let root = try YAMLValues.compose(input.pythonString, file: "from_yaml", vault: false) else { return .none }
            return try YAMLValues.value(root, "from_yaml")
        }
        environment.filters["random"] = { input, args, kwargs in try PythonRandom.randomFilter(input, args, kwargs) }
        environment.filters["password_hash"] = { input, args, kwargs in try PasswordHash.filter(input, args, kwargs) }
        environment.filters["shuffle"] = { input, args, kwargs in
            var items: [Value]
            switch input {
            case .list(let list): items = list
            case .string(let text): items = text.map { .string(String($0)) }
            default: return input
            }
            if let seed = kwargs["seed"] ?? args.first, seed.truthy {
                var random = try PythonRandom(value: seed)
                random.shuffle(&items)
            } else {
                items.shuffle()
            }
            return .list(items)
        }
        environment.filters["to_uuid"] = { input, args, kwargs in
            try uuid5(input.pythonString, namespace: (kwargs["namespace"] ?? args.first)?.pythonString ?? ansibleNamespace)
        }
        environment.filters["hash"] = { input, args, _ in
            let bytes = Array(input.pythonString.utf8)
            let algorithm = args.first?.pythonString ?? "sha1"
            switch algorithm {
            case "sha1": return .string(Hex.lower(Insecure.SHA1.hash(data: bytes)))
            case "md5": return .string(Hex.lower(Insecure.MD5.hash(data: bytes)))
            case "sha256": return .string(Hex.lower(SHA256.hash(data: bytes)))
            case "sha384": return .string(Hex.lower(SHA384.hash(data: bytes)))
            case "sha512": return .string(Hex.lower(SHA512.hash(data: bytes)))
            default: throw TemplateError("hash: unsupported algorithm '\(algorithm)' (supported: md5, sha1, sha256, sha384, sha512)")
            }
        }
    }
}

extension PlaybookFilters {
    /// Ansible's namespace for `to_uuid`.
    static let ansibleNamespace = "361E6D51-FAEC-444A-9079-341386DA8E2E"

    /// Python's `uuid.uuid5(uuid.UUID(namespace), name)` as text: SHA-1 of the namespace's 16
    /// bytes and the name's UTF-8, cut to 16 bytes, version 5, RFC 4122 variant.
    static func uuid5(_ name: String, namespace: String) throws(TemplateError) -> Value {
        // uuid.UUID(text): `urn:`, `uuid:`, braces and hyphens dropped, then 32 hex digits.
        func removing(_ part: String, from text: String) -> String {
            Strings.split(text, separator: part, limit: nil, fromRight: false).joined()
        }
        let braces: Set<Character> = ["{", "}"]
        let trimmed = removing("uuid:", from: removing("urn:", from: namespace))
        let hex = removing("-", from: String(trimmed.drop { braces.contains($0) }.reversed().drop { braces.contains($0) }.reversed()))
        var space: [UInt8] = []
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { throw TemplateError("badly formed hexadecimal UUID string") }
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw TemplateError("badly formed hexadecimal UUID string")
            }
            space.append(byte)
        }
        var bytes = Array(Insecure.SHA1.hash(data: space + Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let text = Hex.lower(bytes)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(text[text.index(text.startIndex, offsetBy: range.lowerBound)..<text.index(text.startIndex, offsetBy: range.upperBound)])
        }
        return .string(parts.joined(separator: "-"))
    }
}

/// YAML as PyYAML's `dump` writes it for Ansible's `to_yaml` (collections of scalars only in
/// flow style, `default_flow_style=None`) and `to_nice_yaml` (all block style): keys sorted,
/// strings plain when they read back as the same string, else single-quoted.
struct YAMLWriter {
    let indent: Int

    /// PyYAML's indent: 2 to 9 as given, any other C int gives 2, past a C int an error.
    static func indent(_ n: Int, otherwise: Int) throws(TemplateError) -> Int {
        guard Int32(exactly: n) != nil else { throw TemplateError("value too large to convert to int") }
        return (2...9).contains(n) ? n : otherwise
    }

    /// Refuses a value whose text would be over `maxSize` bytes, before writing it (with
    /// room for indentation: a deep value writes more than its repr).
    static func checkSize(_ value: Value, _ maxSize: Int) throws(TemplateError) {
        guard value.reprSize(limit: maxSize / 8) <= maxSize / 8 else { throw TemplateError("to_yaml: a text over \(maxSize) bytes") }
        if let span = value.storedSpan { throw TemplateError("cannot represent an object: \(span.repr)") }
    }
    let flowLeaves: Bool

    func document(_ value: Value) -> String {
        switch value {
        case .list(let l) where !l.isEmpty && !(flowLeaves && isLeaf(value)): return block(value, level: 0)
        case .dict(let d) where !d.isEmpty && !(flowLeaves && isLeaf(value)): return block(value, level: 0)
        default: return scalarOrFlow(value, level: 0, flow: false) + "\n"
        }
    }

    func isLeaf(_ value: Value) -> Bool {
        switch value {
        case .list(let l): return l.allSatisfy { !isCollection($0) }
        case .dict(let d): return d.values.allSatisfy { !isCollection($0) }
        default: return true
        }
    }

    func isCollection(_ value: Value) -> Bool {
        switch value {
        case .list, .dict: true
        default: false
        }
    }

    /// PyYAML's `sort_keys`.
    func sortedPairs(_ dict: Dict) -> [(key: Value, value: Value)] {
        dict.pairs.sorted { $0.key.pythonString.unicodeScalars.lexicographicallyPrecedes($1.key.pythonString.unicodeScalars) }
    }

    /// A collection in block style at `level` (its lines start at level * indent).
    func block(_ value: Value, level: Int) -> String {
        let pad = String(repeating: " ", count: level * indent)
        var out = ""
        switch value {
        case .dict(let dict):
            for (key, item) in sortedPairs(dict) {
                out += pad + scalarOrFlow(key, level: level, flow: false) + ":"
                out += nested(item, level: level, inSequence: false)
            }
        case .list(let items):
            for item in items {
                out += pad + "-"
                out += nested(item, level: level, inSequence: true)
            }
        default:
            out += pad + scalarOrFlow(value, level: level, flow: false) + "\n"
        }
        return out
    }

    /// What follows `key:` or `-`.
    private func nested(_ item: Value, level: Int, inSequence: Bool) -> String {
        let empty: Bool = {
            switch item {
            case .list(let l): return l.isEmpty
            case .dict(let d): return d.isEmpty
            default: return true
            }
        }()
        if empty || (flowLeaves && isLeaf(item)) { return " " + scalarOrFlow(item, level: level + 1, flow: false) + "\n" }
        switch item {
        case .dict where inSequence:
            // The first key on the dash's line, the others under it.
            let inner = block(item, level: level + 1)
            let lines = inner.split(separator: "\n", omittingEmptySubsequences: false)
            let first = String(lines[0].dropFirst((level + 1) * indent))
            return String(repeating: " ", count: indent - 1) + first + "\n" + lines.dropFirst().joined(separator: "\n")
        case .list where !inSequence:
            // PyYAML does not indent a sequence under its key.
            return "\n" + block(item, level: level)
        case .list:
            let inner = block(item, level: level + 1)
            let lines = inner.split(separator: "\n", omittingEmptySubsequences: false)
            let first = String(lines[0].dropFirst((level + 1) * indent))
            return String(repeating: " ", count: indent - 1) + first + "\n" + lines.dropFirst().joined(separator: "\n")
        default:
            return "\n" + block(item, level: level + 1)
        }
    }

    func scalarOrFlow(_ value: Value, level: Int, flow: Bool) -> String {
        switch value {
        case .none, .undefined: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d):
            if d.isNaN { return ".nan" }
            if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
            let text = Value.float(d).pythonRepr
            // PyYAML writes an exponent with a mantissa dot: 1e+20 is 1.0e+20.
            if let e = text.firstIndex(of: "e"), !text[..<e].contains(".") { return text[..<e] + ".0" + text[e...] }
            return text
        case .string(let s): return string(s, level: level, flow: flow)
        // PyYAML writes a datetime as a timestamp, `isoformat(' ')`; checkSize refused a span.
        case .temporal(let t): return t.isoformat(separator: " ")
        case .list(let items): return "[" + items.map { scalarOrFlow($0, level: level, flow: true) }.joined(separator: ", ") + "]"
        case .dict(let dict):
            return "{" + sortedPairs(dict).map { scalarOrFlow($0.key, level: level, flow: true) + ": " + scalarOrFlow($0.value, level: level, flow: true) }
                .joined(separator: ", ") + "}"
        }
    }

    func string(_ s: String, level: Int, flow: Bool) -> String {
        if plainAllowed(s, flow: flow) { return s }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7f }) { return doubleQuoted(s) }
        let continuation = "\n" + String(repeating: " ", count: max(level, 1) * indent)
        let body = s.replacing("'", with: "''").split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + continuation)
        return "'" + body + "'"
    }

    func plainAllowed(_ s: String, flow: Bool) -> Bool {
        guard let first = s.first, let last = s.last else { return false }
        if first == " " || last == " " || s.contains("\n") || s.contains(": ") || s.contains(" #") || last == ":" { return false }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // `-`, `?` and `:` may start a plain scalar when a non-space follows.
            guard "-?:".contains(first), s.count > 1, s.dropFirst().first != " " else { return false }
        }
        if flow, s.contains(where: { ",[]{}".contains($0) }) { return false }
        if s == "=" || s == "<<" { return false }
        // Anything that would read back as another type (YAML 1.1) must be quoted.
        if case .string = YAMLValues.convert(YAML11Scalar.resolve(s)) {} else { return false }
        return true
    }

    func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let digits = Array("0123456789ABCDEF")
                    out += "\\x" + String([digits[Int(scalar.value >> 4)], digits[Int(scalar.value & 0xf)]])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
