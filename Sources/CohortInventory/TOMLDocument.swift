import CohortCore

/// A TOML 1.0 document, parsed in file order with a line for every key.
///
/// Written here rather than taken from TOMLKit: toml++ (under TOMLKit) keeps tables in a
/// sorted map, and an inventory's order is meaning (`web[0]` is the group's first host, hosts
/// run and print in file order), which ansible-core's `tomllib` keeps. Pure: text in, tree or
/// `file:line` error out.
final class TOMLTable {
    private(set) var keys: [String] = []
    private(set) var values: [String: TOMLValue] = [:]
    private(set) var lines: [String: Int] = [:]
    /// Made by a dotted key or a `[a.b]` header's prefix, and still open to its own header.
    var implicit = false
    /// Defined by a `[header]` already (a second one is an error).
    var defined = false
    /// Inline `{...}` tables and dotted-key tables under them cannot be extended later.
    var frozen = false

    init(implicit: Bool = false) { self.implicit = implicit }

    subscript(key: String) -> TOMLValue? { values[key] }

    func line(of key: String) -> Int? { lines[key] }

    func set(_ key: String, _ value: TOMLValue, line: Int) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
        lines[key] = line
    }
}

indirect enum TOMLValue {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    /// Dates and times, kept as written.
    case datetime(String)
    case array([TOMLValue])
    case table(TOMLTable)
    /// `[[name]]`: each header appends a table.
    case tableArray([TOMLTable])
}

struct TOMLError: Error {
    var message: String
    var line: Int
}

struct TOMLParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private let root = TOMLTable()
    private var depth = 0

    init(_ text: String) { s = Array(text.unicodeScalars) }

    static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.document()
    }

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }
    private func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }
    private func fail(_ message: String) -> TOMLError { TOMLError(message: message, line: line) }

    private mutating func advance() {
        if s[i] == "\n" { line += 1 }
        i += 1
    }

    private mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" { i += 1 }
    }

    /// Spaces, then a comment or the end of the line (`\n` or `\r\n`), or the end of the text.
    private mutating func endOfLine() throws(TOMLError) {
        skipSpace()
        if peek == "#" { while let c = peek, c != "\n" { i += 1 } }
        if peek == "\r", peek(1) == "\n" { i += 1 }
        guard let c = peek else { return }
        guard c == "\n" else { throw fail("expected the end of the line, found '\(c)'") }
        advance()
    }

    /// Blank lines, comments and line ends inside arrays.
    private mutating func skipBlank() {
        while let c = peek {
            if c == " " || c == "\t" || c == "\r" {
                i += 1
            } else if c == "\n" {
                advance()
            } else if c == "#" {
                while let c = peek, c != "\n" { i += 1 }
            } else {
                return
            }
        }
    }

    private mutating func document() throws(TOMLError) -> TOMLTable {
        var current = root
        while true {
            skipBlank()
            guard let c = peek else { return root }
            if c == "[" {
                let isArray = peek(1) == "["
                i += isArray ? 2 : 1
                skipSpace()
                let headerLine = line
                let path = try keyPath()
                skipSpace()
                guard peek == "]", !isArray || peek(1) == "]" else { throw fail("a table header must end with '\(isArray ? "]]" : "]")'") }
                i += isArray ? 2 : 1
                try endOfLine()
                current = try header(path, array: isArray, line: headerLine)
            } else {
                try keyValue(into: current)
                try endOfLine()
            }
        }
    }

    /// The table a `[a.b.c]` or `[[a.b.c]]` header opens.
    private mutating func header(_ path: [String], array: Bool, line: Int) throws(TOMLError) -> TOMLTable {
        var table = root
        for key in path.dropLast() { table = try descend(table, key, line: line) }
        let last = path[path.count - 1]
        if array {
            let fresh = TOMLTable()
            switch table[last] {
            case nil: table.set(last, .tableArray([fresh]), line: line)
            case .tableArray(let tables): table.set(last, .tableArray(tables + [fresh]), line: line)
            default: throw TOMLError(message: "'\(last)' is already defined and is not an array of tables", line: line)
            }
            return fresh
        }
        switch table[last] {
        case nil:
            let fresh = TOMLTable()
            fresh.defined = true
            table.set(last, .table(fresh), line: line)
            return fresh
        case .table(let existing) where existing.implicit && !existing.defined && !existing.frozen:
            existing.defined = true
            return existing
        default:
            throw TOMLError(message: "table '\(path.joined(separator: "."))' is defined twice", line: line)
        }
    }

    /// The table under `key`, made if missing (implicitly), or the last of an array of tables.
    private func descend(_ table: TOMLTable, _ key: String, line: Int) throws(TOMLError) -> TOMLTable {
        switch table[key] {
        case nil:
            let fresh = TOMLTable(implicit: true)
            table.set(key, .table(fresh), line: line)
            return fresh
        case .table(let existing) where !existing.frozen:
            return existing
        case .tableArray(let tables):
            return tables[tables.count - 1]
        default:
            throw TOMLError(message: "'\(key)' is already defined as a value, not a table", line: line)
        }
    }

    private mutating func keyValue(into table: TOMLTable) throws(TOMLError) {
        let keyLine = line
        let path = try keyPath()
        skipSpace()
        guard peek == "=" else { throw fail("expected '=' after the key '\(path.joined(separator: "."))'") }
        i += 1
        skipSpace()
        let value = try self.value()
        var target = table
        for key in path.dropLast() {
            target = try descend(target, key, line: keyLine)
        }
        let last = path[path.count - 1]
        guard target[last] == nil else { throw TOMLError(message: "key '\(path.joined(separator: "."))' is defined twice", line: keyLine) }
        if case .table(let inline) = value { inline.frozen = true }
        target.set(last, value, line: keyLine)
    }

    /// `a`, `"a b"`, `'a'`, `a.b . "c"`.
    private mutating func keyPath() throws(TOMLError) -> [String] {
        var path: [String] = []
        while true {
            skipSpace()
            guard let c = peek else { throw fail("expected a key") }
            if c == "\"" {
                path.append(try basicString())
            } else if c == "'" {
                path.append(try literalString())
            } else {
                let start = i
                while let c = peek, c.properties.isASCIIHexDigit || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == "-" {
                    i += 1
                }
                guard i > start else { throw fail("expected a key, found '\(c)'") }
                path.append(String(String.UnicodeScalarView(s[start..<i])))
            }
            skipSpace()
            guard peek == "." else { return path }
            i += 1
        }
    }

    private mutating func value() throws(TOMLError) -> TOMLValue {
        guard let c = peek else { throw fail("expected a value") }
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw fail("values nested more than 200 deep") }
        switch c {
        case "\"":
            if peek(1) == "\"", peek(2) == "\"" { return .string(try multilineBasicString()) }
            return .string(try basicString())
        case "'":
            if peek(1) == "'", peek(2) == "'" { return .string(try multilineLiteralString()) }
            return .string(try literalString())
        case "[": return try array()
        case "{": return try inlineTable()
        default: return try scalar()
        }
    }

    private mutating func array() throws(TOMLError) -> TOMLValue {
        i += 1
        var items: [TOMLValue] = []
        while true {
            skipBlank()
            guard let c = peek else { throw fail("an array is not closed") }
            if c == "]" {
                i += 1
                return .array(items)
            }
            items.append(try value())
            skipBlank()
            if peek == "," {
                i += 1
            } else if peek != "]" {
                throw fail("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        i += 1
        let table = TOMLTable()
        skipSpace()
        if peek == "}" {
            i += 1
            return .table(table)
        }
        while true {
            skipSpace()
            if peek == "\n" || peek == "\r" { throw fail("an inline table must fit on one line") }
            try keyValue(into: table)
            skipSpace()
            guard let c = peek else { throw fail("an inline table is not closed") }
            i += 1
            if c == "}" { return .table(table) }
            guard c == "," else { throw fail("expected ',' or '}' in an inline table (which must fit on one line)") }
        }
    }

    private mutating func scalar() throws(TOMLError) -> TOMLValue {
        let start = i
        while let c = peek, !(c == "," || c == "]" || c == "}" || c == "\n" || c == "\r" || c == "#") {
            // A space belongs to a date-time ("1979-05-27 07:32:00") only between date and time.
            if c == " " || c == "\t" {
                guard c == " ", i - start == 10, peek(1).map({ ("0"..."9").contains($0) }) == true else { break }
            }
            i += 1
        }
        let text = String(String.UnicodeScalarView(s[start..<i]))
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if let number = Self.integer(text) { return .integer(number) }
        if let number = Self.float(text) { return .float(number) }
        if Self.isDateTime(text) { return .datetime(text) }
        throw TOMLError(message: text.isEmpty ? "expected a value" : "'\(text)' is not a TOML value (strings need quotes)", line: line)
    }

    static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard !negative, text.first != "+" else { return nil }
            return digits(body.dropFirst(2), radix: radix)
        }
        guard body.first != "0" || body.count == 1 else { return nil }
        return digits(body, radix: 10).map { negative ? -$0 : $0 }
    }

    /// Digits with single underscores between them.
    private static func digits(_ text: Substring, radix: Int) -> Int? {
        guard !text.isEmpty, text.first != "_", text.last != "_", !text.contains("__") else { return nil }
        return Int(text.filter { $0 != "_" }, radix: radix)
    }

    static func float(_ text: String) -> Double? {
        guard text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "e" || $0 == "E" })
        // Every part has digits on both sides of a dot or an exponent: "1." and ".5" are not TOML.
        guard parts.allSatisfy({ part in
            let body = part.drop { $0 == "+" || $0 == "-" }
            return !body.isEmpty && body.first != "_" && body.last != "_" && body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") }
        }) else { return nil }
        let whole = parts[0].drop { $0 == "+" || $0 == "-" }
        guard whole.first != "0" || whole.count == 1 else { return nil }
        return Double(text.filter { $0 != "_" })
    }

    static func isDateTime(_ text: String) -> Bool {
        let digitsOrSeparators = text.allSatisfy { $0.isASCII && ($0.isNumber || "-:T tZz.+".contains($0)) }
        return digitsOrSeparators && text.first?.isNumber == true && (text.contains("-") || text.contains(":"))
    }

    private mutating func basicString() throws(TOMLError) -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek, c != "\n" else { throw fail("a string is not closed on its line") }
            i += 1
            if c == "\"" { return String(out) }
            if c == "\\" { out.append(try escape()) } else { out.append(c) }
        }
    }

    private mutating func multilineBasicString() throws(TOMLError) -> String {
        i += 3
        if peek == "\r", peek(1) == "\n" { i += 1 }
        if peek == "\n" { advance() }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw fail("a \"\"\" string is not closed") }
            if c == "\"", peek(1) == "\"", peek(2) == "\"" {
                // Up to two quotes may end the content right before the closing three.
                var extra = 0
                while peek(3 + extra) == "\"", extra < 2 { extra += 1 }
                for _ in 0..<extra { out.append("\"") }
                i += 3 + extra
                return String(out)
            }
            advance()
            if c == "\\" {
                // A backslash at the end of a line trims the line end and the blanks after it.
                var j = i
                while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 }
                if j < s.count, s[j] == "\n" || s[j] == "\r" {
                    i = j
                    skipBlank()
                    continue
                }
                out.append(try escape())
            } else {
                out.append(c)
            }
        }
    }

    private mutating func literalString() throws(TOMLError) -> String {
        i += 1
        let start = i
        while let c = peek, c != "'" {
            guard c != "\n" else { throw fail("a string is not closed on its line") }
            i += 1
        }
        guard peek == "'" else { throw fail("a string is not closed on its line") }
        defer { i += 1 }
        return String(String.UnicodeScalarView(s[start..<i]))
    }

    private mutating func multilineLiteralString() throws(TOMLError) -> String {
        i += 3
        if peek == "\r", peek(1) == "\n" { i += 1 }
        if peek == "\n" { advance() }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw fail("a ''' string is not closed") }
            if c == "'", peek(1) == "'", peek(2) == "'" {
                var extra = 0
                while peek(3 + extra) == "'", extra < 2 { extra += 1 }
                for _ in 0..<extra { out.append("'") }
                i += 3 + extra
                return String(out)
            }
            advance()
            out.append(c)
        }
    }

    private mutating func escape() throws(TOMLError) -> Unicode.Scalar {
        guard let c = peek else { throw fail("a string ends in a backslash") }
        i += 1
        switch c {
        case "b": return "\u{8}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{c}"
        case "r": return "\r"
        case "e": return "\u{1b}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            guard i + count <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[i..<i + count])), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw fail("bad \\\(c) escape") }
            i += count
            return scalar
        default:
            throw fail("unknown escape '\\\(c)'")
        }
    }
}
