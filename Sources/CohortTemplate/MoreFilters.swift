/// Ansible's filters that playbooks reach for beyond Jinja's: sizes (`human_readable`,
/// `human_to_bytes`), `regex_escape`, `extract`, and the itertools ones (`product`,
/// `permutations`, `combinations`, `zip_longest`). Pure; bounded like every filter.
enum MoreFilters {
    static let names = [
        "human_readable", "human_to_bytes", "regex_escape", "extract", "product", "permutations", "combinations", "zip_longest", "comment",
        "to_datetime",
    ]

    /// Ansible's SIZE_RANGES, largest first.
    static let sizeRanges: [(Character, Double)] = [
        ("Y", 0x1p80), ("Z", 0x1p70), ("E", 0x1p60), ("P", 0x1p50), ("T", 0x1p40), ("G", 0x1p30), ("M", 0x1p20), ("K", 0x1p10), ("B", 1),
    ]

    /// The most results an itertools filter may build.
    static let maxItems = 1_000_000

    static func apply(_ name: String, _ input: Value, _ args: [Value], _ kwargs: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> Value {
        func arg(_ i: Int, _ key: String) -> Value? { kwargs[key] ?? (i < args.count ? args[i] : nil) }
        switch name {
        case "human_readable":
            let size: Double
            switch input {
            case .int(let n): size = Double(n)
            case .float(let d): size = d
            default: throw TemplateError("human_readable() can't interpret following string: \(input.pythonString)", line: line)
            }
            let isbits = arg(0, "isbits")?.truthy ?? false
            let unit = arg(1, "unit").flatMap { $0 == .none ? nil : $0.pythonString }
            let base = isbits ? "bits" : "Bytes"
            var chosen = sizeRanges[sizeRanges.count - 1]
            for range in sizeRanges {
                chosen = range
                if let unit { if unit.uppercased().first == range.0 { break } } else if size >= range.1 { break }
            }
            let suffix = chosen.1 != 1 ? String(chosen.0) + String(base.first!) : base
            return .string(PythonFormat.cFormat("%.2f", size / chosen.1, capacity: 400) + " " + suffix)
        case "human_to_bytes":
            return try humanToBytes(input, defaultUnit: arg(0, "default_unit"), isbits: arg(1, "isbits")?.truthy ?? false, line: line)
        case "to_datetime":
            guard case .string(let text) = input else { throw TemplateError("strptime() argument 1 must be str, not \(input.typeName)", line: line) }
            let format = arg(0, "format") ?? .string("%Y-%m-%d %H:%M:%S")
            guard case .string(let pattern) = format else { throw TemplateError("strptime() argument 2 must be str, not \(format.typeName)", line: line) }
            return .temporal(try Strptime.parse(text, pattern, line: line))
        case "regex_escape":
            return .string(PythonRegex.escape(input.pythonString))
        case "extract":
            guard let container = arg(0, "container") else { throw TemplateError("extract needs a container", line: line) }
            var value = try Access.item(container, input, line: line)
            if let more = arg(1, "morekeys"), more != .none {
                let keys: [Value] = if case .list(let l) = more { l } else { [more] }
                for key in keys {
                    if value.isUndefined { break }
                    value = try Access.item(value, key, line: line)
                }
            }
            return value
        case "product":
            var pools = [try input.elements()]
            for other in args { pools.append(try other.elements()) }
            let repeatCount = kwargs["repeat"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 1
            guard repeatCount >= 0, repeatCount <= 64 else { throw TemplateError("product: repeat must be from 0 to 64", line: line) }
            pools = Array((0..<repeatCount).map { _ in pools }.joined())
            var result: [[Value]] = [[]]
            for pool in pools {
                let (count, overflow) = result.count.multipliedReportingOverflow(by: pool.count)
                guard !overflow, count <= maxItems else { throw TemplateError("product: more than \(maxItems) results", line: line) }
                result = result.flatMap { prefix in pool.map { prefix + [$0] } }
            }
            return .list(result.map { .list($0) })
        case "permutations", "combinations":
            let pool = try input.elements()
            var r = pool.count
            if let given = arg(0, "r"), given != .none {
                guard case .int(let n) = given else { throw TemplateError("\(name): r must be an integer", line: line) }
                guard n >= 0 else { throw TemplateError("r must be non-negative", line: line) }
                r = n
            } else if name == "combinations" {
                throw TemplateError("combinations() missing required argument 'r' (pos 2)", line: line)
            }
            guard r <= pool.count else { return .list([]) }
            var out: [Value] = []
            var chosen: [Int] = []
            var used = [Bool](repeating: false, count: pool.count)
            // Python's itertools order: lexicographic in the pool's positions.
            func build(_ start: Int) throws(TemplateError) {
                if chosen.count == r {
                    guard out.count < maxItems else { throw TemplateError("\(name): more than \(maxItems) results", line: line) }
                    out.append(.list(chosen.map { pool[$0] }))
                    return
                }
                for i in (name == "combinations" ? start : 0)..<pool.count where name == "combinations" || !used[i] {
                    chosen.append(i)
                    used[i] = true
                    try build(i + 1)
                    used[i] = false
                    chosen.removeLast()
                }
            }
            try build(0)
            return .list(out)
        case "zip_longest":
            var columns = [try input.elements()]
            for other in args { columns.append(try other.elements()) }
            let fill = kwargs["fillvalue"] ?? .none
            let count = columns.map(\.count).max() ?? 0
            return .list((0..<count).map { i in .list(columns.map { i < $0.count ? $0[i] : fill }) })
        case "comment":
            return .string(try comment(input.pythonString, style: arg(0, "style")?.pythonString ?? "plain", kwargs, maxSize: maxSize, line: line))
        default:
            throw TemplateError("no filter named '\(name)'", line: line)
        }
    }

    /// Ansible's `comment` filter: the text as a comment block in one of its styles, every
    /// part overridable (`decoration`, `prefix`, `prefix_count`, `postfix`, `newline`…).
    static func comment(_ text: String, style: String, _ kw: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> String {
        let styles: [String: [String: String]] = [
            "plain": ["decoration": "# "], "erlang": ["decoration": "% "], "c": ["decoration": "// "],
            "cblock": ["beginning": "/*", "decoration": " * ", "end": " */"], "xml": ["beginning": "<!--", "decoration": " - ", "end": "-->"],
        ]
        guard let styleParams = styles[style] else { throw TemplateError("Invalid style '\(style)'.", line: line) }
        let prepostfix = kw["decoration"]?.pythonString ?? styleParams["decoration"]!
        func rstrip(_ s: String) -> String {
            var out = s
            while let last = out.last, last.isWhitespace { out.removeLast() }
            return out
        }
        var p: [String: String] = [
            "newline": "\n", "beginning": "", "prefix": rstrip(prepostfix), "decoration": "", "postfix": rstrip(prepostfix), "end": "",
        ]
        var counts = ["prefix_count": 1, "postfix_count": 1]
        for (k, v) in styleParams { p[k] = v }
        for (k, v) in kw where k != "style" {
            if counts[k] != nil {
                let n: Int? = if case .int(let i) = v { i } else { Int(v.pythonString) }
                guard let n, n >= 0, n <= 10_000 else { throw TemplateError("comment: \(k) must be a count from 0 to 10000", line: line) }
                counts[k] = n
            } else {
                p[k] = v.pythonString
            }
        }
        let newline = p["newline"]!
        var out = ""
        if !p["beginning"]!.isEmpty { out += p["beginning"]! + newline }
        if let prefix = p["prefix"], !prefix.isEmpty {
            let piece = prefix != newline ? prefix + newline : newline
            out += String(repeating: piece, count: counts["prefix_count"]!)
        }
        let decoration = p["decoration"]!
        // Each line decorated; a decoration alone on its line loses its trailing blanks.
        let decorated = decoration + split(text, by: newline).joined(separator: newline + decoration)
        out += newline.isEmpty ? decorated : split(decorated, by: decoration + newline).joined(separator: rstrip(decoration) + newline)
        out += ([""] + Array(repeating: p["postfix"]!, count: counts["postfix_count"]!)).joined(separator: newline)
        if !p["end"]!.isEmpty { out += newline + p["end"]! }
        guard out.utf8.count <= maxSize else { throw TemplateError("comment: the text would pass \(maxSize) bytes", line: line) }
        return out
    }

    /// Python's str.split(separator) for a non-empty separator; the text whole otherwise.
    static func split(_ text: String, by separator: String) -> [String] {
        guard !separator.isEmpty else { return [text] }
        var parts: [String] = []
        var rest = Substring(text)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    /// Ansible's human_to_bytes: a number and an optional unit (`10 MB`, `1.5G`, `2 KiB`
    /// is refused as Ansible refuses it); a result past Int is an error (Python's would be a
    /// big integer).
    static func humanToBytes(_ input: Value, defaultUnit: Value?, isbits: Bool, line: Int) throws(TemplateError) -> Value {
        let text = input.pythonString
        let fail = TemplateError("human_to_bytes() can't interpret following string: \(text)", line: line)
        // ^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$
        var rest = Substring(text)
        let numberPart = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        rest = rest.dropFirst(numberPart.count)
        guard !numberPart.isEmpty, numberPart.last != ".", numberPart.filter({ $0 == "." }).count <= 1, let number = Double(numberPart) else { throw fail }
        let blank = rest.prefix { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        rest = rest.dropFirst(blank.count)
        let unitPart = rest.prefix { $0.isASCII && $0.isLetter }
        rest = rest.dropFirst(unitPart.count)
        guard rest.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }), !(unitPart.isEmpty && !blank.isEmpty && !rest.isEmpty) else { throw fail }
        var unit = unitPart.isEmpty ? nil : String(unitPart)
        if unit == nil, let defaultUnit, defaultUnit != .none { unit = defaultUnit.pythonString }
        func rounded(_ value: Double) throws(TemplateError) -> Value {
            let r = value.rounded(.toNearestOrEven)
            guard r.isFinite, r > -0x1p63, r < 0x1p63 else { throw TemplateError("human_to_bytes: \(text) is past the largest whole number", line: line) }
            return .int(Int(r))
        }
        guard let unit, let first = unit.first else { return try rounded(number) }
        let key = Character(first.uppercased())
        guard let limit = sizeRanges.first(where: { $0.0 == key })?.1 else {
            throw TemplateError("human_to_bytes() failed to convert \(text) (unit = \(unit)). The suffix must be one of Y, Z, E, P, T, G, M, K, B", line: line)
        }
        let (unitClass, unitName) = isbits ? ("b", "bit") : ("B", "byte")
        // Ansible's VALID_UNITS: the unit's word (`megabyte`) or its symbol (`MB`), exactly.
        let words: [Character: String] = ["B": "", "K": "kilo", "M": "mega", "G": "giga", "T": "tera", "P": "peta", "E": "exa", "Z": "zeta", "Y": "yotta"]
        let word = words[key, default: ""] + unitName
        let symbol = key == "B" ? unitClass : String(key) + unitClass
        if unit.count > 1, unit.lowercased() != word, unit != symbol {
            let expect = key == "B" ? "expect \(unitClass) or \(unitName)" : "expect \(key)\(unitClass) or \(key)"
            throw TemplateError("human_to_bytes() failed to convert \(text). Value is not a valid string (\(expect))", line: line)
        }
        return try rounded(number * limit)
    }
}
