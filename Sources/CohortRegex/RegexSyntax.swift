import CohortValue

/// A pattern in Python's `re` syntax, parsed: what the playbooks and templates write
/// (classes, groups, named groups, backreferences, lookaround, lazy and counted repeats,
/// inline flags). Parsing is pure and bounded: nesting and counted repeats past the limits
/// are errors, never a deep recursion or a huge program.
indirect enum RegexNode: Sendable {
    case empty
    case scalar(Unicode.Scalar, fold: Bool)
    case any(dotAll: Bool)
    case set(ScalarSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    case group(RegexNode, index: Int?)
    case repetition(RegexNode, min: Int, max: Int?, lazy: Bool)
    case assertion(RegexAssertion)
    case backreference(Int, fold: Bool)
    case look(RegexNode, ahead: Bool, negated: Bool)
}

enum RegexAssertion: Sendable, Equatable {
    /// `^`: the start, or after any newline in multiline mode.
    case lineStart(multiline: Bool)
    /// `$`: the end or before a final newline; before any newline in multiline mode.
    case lineEnd(multiline: Bool)
    case textStart, textEnd, wordBoundary, notWordBoundary
}

/// A character class: ranges and class escapes, possibly negated, possibly case-blind.
struct ScalarSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case digit(Bool), word(Bool), space(Bool)
    }
    var items: [Item] = []
    var negated = false
    var fold = false

    func contains(_ c: Unicode.Scalar) -> Bool {
        var hit = matches(c.value)
        if !hit, fold {
            for other in CaseFold.variants(c) where matches(other.value) {
                hit = true
                break
            }
        }
        return hit != negated
    }

    private func matches(_ v: UInt32) -> Bool {
        for item in items {
            switch item {
            case .range(let lo, let hi): if lo <= v && v <= hi { return true }
            case .digit(let yes): if CharacterClass.isDigit(v) == yes { return true }
            case .word(let yes): if CharacterClass.isWord(v) == yes { return true }
            case .space(let yes): if CharacterClass.isSpace(v) == yes { return true }
            }
        }
        return false
    }
}

/// Python 3's Unicode classes for str patterns.
enum CharacterClass {
    static func isDigit(_ v: UInt32) -> Bool {
        if v < 128 { return v >= 48 && v <= 57 }
        return Unicode.Scalar(v)?.properties.generalCategory == .decimalNumber
    }

    static func isWord(_ v: UInt32) -> Bool {
        if v < 128 { return (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95 }
        guard let p = Unicode.Scalar(v)?.properties else { return false }
        return p.isAlphabetic || p.numericType != nil
    }

    static func isSpace(_ v: UInt32) -> Bool {
        if v < 128 { return v == 32 || (v >= 9 && v <= 13) || (v >= 28 && v <= 31) }
        return Unicode.Scalar(v)?.properties.isWhitespace ?? false
    }
}

/// Simple case folding, as `re.IGNORECASE` compares: a scalar and its one-scalar lower and
/// upper case forms.
enum CaseFold {
    static func variants(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
        if c.value < 128 {
            if c.value >= 65 && c.value <= 90 { return [Unicode.Scalar(c.value + 32)!] }
            if c.value >= 97 && c.value <= 122 { return [Unicode.Scalar(c.value - 32)!] }
            return []
        }
        var out: [Unicode.Scalar] = []
        for mapped in [c.properties.lowercaseMapping, c.properties.uppercaseMapping] {
            let scalars = mapped.unicodeScalars
            if scalars.count == 1, let s = scalars.first, s != c { out.append(s) }
        }
        return out
    }

    static func equal(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a == b || variants(a).contains(b)
    }
}

/// The parser: recursive descent over the pattern's scalars, nesting bounded.
struct RegexParser {
    struct Flags {
        var ignoreCase = false, multiline = false, dotAll = false, verbose = false
    }

    static let maxNesting = 100
    static let maxCount = 65_535

    private var chars: [Unicode.Scalar]
    private var at = 0
    private var flags: Flags
    private var depth = 0
    private(set) var groupCount = 0
    private(set) var names: [String: Int] = [:]
    private var closedGroups: Set<Int> = []

    init(_ pattern: String, flags: Flags) {
        chars = Array(pattern.unicodeScalars)
        self.flags = flags
    }

    static func parse(_ pattern: String, flags: Flags) throws(RegexSyntaxError) -> (RegexNode, groups: Int, names: [String: Int]) {
        var parser = RegexParser(pattern, flags: flags)
        parser.readGlobalFlags()
        let node = try parser.alternation()
        if parser.at < parser.chars.count { throw parser.error("unbalanced parenthesis") }
        return (node, parser.groupCount, parser.names)
    }

    private func error(_ message: String) -> RegexSyntaxError {
        RegexSyntaxError(message: "\(message) at position \(at)")
    }

    private var peek: Unicode.Scalar? { at < chars.count ? chars[at] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard at < chars.count else { return nil }
        defer { at += 1 }
        return chars[at]
    }

    /// `(?imsx)` anywhere at the top applies to the whole pattern (Python reads them first).
    private mutating func readGlobalFlags() {
        var i = 0
        while i + 2 < chars.count {
            if chars[i] == "\\" {
                i += 2
                continue
            }
            if chars[i] == "(", chars[i + 1] == "?" {
                var j = i + 2
                var found = Flags()
                found = flags
                var ok = false
                while j < chars.count, "aiLmsux".unicodeScalars.contains(chars[j]) {
                    switch chars[j] {
                    case "i": found.ignoreCase = true
                    case "m": found.multiline = true
                    case "s": found.dotAll = true
                    case "x": found.verbose = true
                    default: break
                    }
                    j += 1
                    ok = true
                }
                if ok, j < chars.count, chars[j] == ")" { flags = found }
            }
            i += 1
        }
    }

    private mutating func alternation() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try sequence()]
        while peek == "|" {
            at += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            if flags.verbose {
                if c.properties.isWhitespace {
                    at += 1
                    continue
                }
                if c == "#" {
                    while let d = peek, d != "\n" { at += 1 }
                    continue
                }
            }
            var atom = try self.atom()
            atom = try quantified(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
    }

    private mutating func quantified(_ atom: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var node = atom
        while let c = peek {
            var bounds: (Int, Int?)
            switch c {
            case "*": bounds = (0, nil)
            case "+": bounds = (1, nil)
            case "?": bounds = (0, 1)
            case "{":
                guard let counted = try countedRepeat() else { return node }
                bounds = counted
            default: return node
            }
            if c != "{" { at += 1 }
            if case .repetition = node { throw error("multiple repeat") }
            if case .assertion = node { throw error("nothing to repeat") }
            if case .empty = node { throw error("nothing to repeat") }
            var lazy = false
            if peek == "?" {
                lazy = true
                at += 1
            } else if peek == "+" {
                throw error("possessive repeats are not supported")
            }
            node = .repetition(node, min: bounds.0, max: bounds.1, lazy: lazy)
        }
        return node
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}`; anything else is a literal `{` as in Python.
    private mutating func countedRepeat() throws(RegexSyntaxError) -> (Int, Int?)? {
        var i = at + 1
        func number() -> Int?? {
            var n = 0, digits = 0
            while i < chars.count, ("0"..."9").contains(chars[i]) {
                n = Swift.min(n * 10 + Int(chars[i].value - 48), Int(Int32.max))
                digits += 1
                i += 1
            }
            return digits == 0 ? .some(nil) : .some(n)
        }
        guard let low = number() else { return nil }
        var high: Int?? = low
        if i < chars.count, chars[i] == "," {
            i += 1
            high = number()
        }
        guard i < chars.count, chars[i] == "}", low != nil || high != nil else { return nil }
        at = i + 1
        let min = low ?? 0
        let max = high ?? nil
        guard min <= Self.maxCount, (max ?? 0) <= Self.maxCount else { throw error("a repeat count over \(Self.maxCount)") }
        if let max, max < min { throw error("min repeat greater than max repeat") }
        return (min, max)
    }

    private mutating func atom() throws(RegexSyntaxError) -> RegexNode {
        guard let c = next() else { throw error("unexpected end of pattern") }
        switch c {
        case ".": return .any(dotAll: flags.dotAll)
        case "^": return .assertion(.lineStart(multiline: flags.multiline))
        case "$": return .assertion(.lineEnd(multiline: flags.multiline))
        case "[": return .set(try set())
        case "(": return try group()
        case "\\": return try escape(inSet: false).node(fold: flags.ignoreCase)
        case "*", "+", "?": throw error("nothing to repeat")
        default: return .scalar(c, fold: flags.ignoreCase)
        }
    }

    private mutating func group() throws(RegexSyntaxError) -> RegexNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxNesting else { throw error("groups nested more than \(Self.maxNesting) deep") }
        var capture = true
        var name: String?
        var look: (ahead: Bool, negated: Bool)?
        let saved = flags
        defer { flags = saved }
        if peek == "?" {
            at += 1
            guard let kind = next() else { throw error("unexpected end of pattern") }
            switch kind {
            case ":": capture = false
            case "P":
                if peek == "<" {
                    at += 1
                    name = try groupName(until: ">")
                } else if peek == "=" {
                    at += 1
                    let reference = try groupName(until: ")")
                    guard let index = names[reference] else { throw error("unknown group name '\(reference)'") }
                    return .backreference(index, fold: flags.ignoreCase)
                } else {
                    throw error("unknown extension ?P")
                }
            case "=": look = (true, false)
            case "!": look = (true, true)
            case "<":
                if peek == "=" { look = (false, false) } else if peek == "!" { look = (false, true) } else { throw error("unknown extension ?<") }
                at += 1
            case "#":
                while let d = next(), d != ")" {}
                return .empty
            default:
                // Inline flags: global ones were read before parsing; scoped ones `(?i:…)`.
                at -= 1
                var on = flags
                var turningOff = false
                while let f = peek, "aiLmsux-".unicodeScalars.contains(f) {
                    at += 1
                    switch f {
                    case "-": turningOff = true
                    case "i": on.ignoreCase = !turningOff
                    case "m": on.multiline = !turningOff
                    case "s": on.dotAll = !turningOff
                    case "x": on.verbose = !turningOff
                    default: break
                    }
                }
                if peek == ")" {
                    at += 1
                    return .empty
                }
                guard peek == ":" else { throw error("unknown extension") }
                at += 1
                flags = on
                capture = false
            }
        }
        var index: Int?
        if capture, look == nil {
            groupCount += 1
            index = groupCount
            if let name {
                guard names[name] == nil else { throw error("redefinition of group name '\(name)'") }
                names[name] = groupCount
            }
        }
        let body = try alternation()
        guard next() == ")" else { throw error("missing ), unterminated subpattern") }
        if let index { closedGroups.insert(index) }
        if let look { return .look(body, ahead: look.ahead, negated: look.negated) }
        return .group(body, index: index)
    }

    private mutating func groupName(until end: Unicode.Scalar) throws(RegexSyntaxError) -> String {
        var name = ""
        while let c = next(), c != end { name.unicodeScalars.append(c) }
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ CharacterClass.isWord($0.value) }), !CharacterClass.isDigit(name.unicodeScalars.first!.value) else {
            throw error("bad character in group name '\(name)'")
        }
        return name
    }

    /// What a backslash stands for, in a class or outside one.
    enum Escape {
        case scalar(Unicode.Scalar)
        case item(ScalarSet.Item)
        case assertion(RegexAssertion)
        case backreference(Int)

        func node(fold: Bool) -> RegexNode {
            switch self {
            case .scalar(let c): .scalar(c, fold: fold)
            case .item(let item): .set(ScalarSet(items: [item], negated: false, fold: fold))
            case .assertion(let a): .assertion(a)
            case .backreference(let n): .backreference(n, fold: fold)
            }
        }
    }

    private mutating func escape(inSet: Bool) throws(RegexSyntaxError) -> Escape {
        guard let c = next() else { throw error("bad escape (end of pattern)") }
        switch c {
        case "d": return .item(.digit(true))
        case "D": return .item(.digit(false))
        case "w": return .item(.word(true))
        case "W": return .item(.word(false))
        case "s": return .item(.space(true))
        case "S": return .item(.space(false))
        case "n": return .scalar("\n")
        case "t": return .scalar("\t")
        case "r": return .scalar("\r")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "a": return .scalar("\u{07}")
        case "b": return inSet ? .scalar("\u{08}") : .assertion(.wordBoundary)
        case "B" where !inSet: return .assertion(.notWordBoundary)
        case "A" where !inSet: return .assertion(.textStart)
        case "Z" where !inSet: return .assertion(.textEnd)
        case "x": return .scalar(try hex(2))
        case "u": return .scalar(try hex(4))
        case "U": return .scalar(try hex(8))
        case "0":
            var value: UInt32 = 0
            var count = 0
            while count < 2, let d = peek, ("0"..."7").contains(d) {
                value = value * 8 + d.value - 48
                at += 1
                count += 1
            }
            return .scalar(Unicode.Scalar(value)!)
        default:
            if ("1"..."9").contains(c) {
                var digits = String(c)
                if let d = peek, ("0"..."9").contains(d) {
                    digits.unicodeScalars.append(d)
                    at += 1
                }
                let n = Int(digits)!
                if inSet { throw error("bad escape \\\(digits)") }
                guard closedGroups.contains(n) else { throw error("invalid group reference \(n)") }
                return .backreference(n)
            }
            if c.isASCII, c.properties.isAlphabetic { throw error("bad escape \\\(c)") }
            return .scalar(c)
        }
    }

    private mutating func hex(_ count: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = next(), let d = Int(String(c), radix: 16) else { throw error("incomplete escape") }
            value = value * 16 + UInt32(d)
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("bad escape (not a character)") }
        return scalar
    }

    private mutating func set() throws(RegexSyntaxError) -> ScalarSet {
        var set = ScalarSet()
        set.fold = flags.ignoreCase
        if peek == "^" {
            set.negated = true
            at += 1
        }
        var first = true
        while true {
            guard let c = next() else { throw error("unterminated character set") }
            if c == "]", !first { break }
            first = false
            var low: UInt32
            if c == "\\" {
                switch try escape(inSet: true) {
                case .scalar(let s): low = s.value
                case .item(let item):
                    set.items.append(item)
                    continue
                default: throw error("bad escape in character set")
                }
            } else {
                low = c.value
            }
            if peek == "-", at + 1 < chars.count, chars[at + 1] != "]" {
                at += 1
                guard let h = next() else { throw error("unterminated character set") }
                var high = h.value
                if h == "\\" {
                    guard case .scalar(let s) = try escape(inSet: true) else { throw error("bad character range") }
                    high = s.value
                }
                guard low <= high else { throw error("bad character range") }
                set.items.append(.range(low, high))
            } else {
                set.items.append(.range(low, low))
            }
        }
        return set
    }
}

struct RegexSyntaxError: Error {
    var message: String
}
