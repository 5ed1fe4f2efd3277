import CohortCore
import CohortTemplate

/// The `with_*` loops that need nothing outside the playbook, as Ansible's lookup plugins
/// make their items from the rendered terms: pure, so that each is checked against Ansible's
/// semantics without a host.
public enum LoopLookups {
    /// Lookups Cohort runs itself (`with_items`, `with_list` and `with_dict` are the loader's).
    /// ansible-core's (`cartesian` and `flattened` are community.general's, not loaded here).
    public static let pure: Set<String> = ["nested", "together", "indexed_items", "subelements", "sequence"]
    /// Lookups that read the coordinator's files (the runner's).
    public static let files: Set<String> = ["fileglob", "first_found"]

    /// A sequence longer than this is an error, not a list that fills the coordinator's memory.
    public static let maxItems = 1_000_000

    /// The terms a `with_X` lookup receives: the rendered value, a list (a lone value is a
    /// one-term list).
    public static func terms(_ rendered: Value) -> [Value] {
        if case .list(let list) = rendered { return list }
        return [rendered]
    }

    public static func items(_ lookup: String, _ rendered: Value) throws(TemplateError) -> [Value] {
        let terms = terms(rendered)
        switch lookup {
        case "nested":
            guard let first = terms.first else { throw TemplateError("with_\(lookup) requires at least one element in the nested list") }
            var result = try elements(first)
            for term in terms.dropFirst() {
                let next = try elements(term)
                let (count, overflow) = result.count.multipliedReportingOverflow(by: next.count)
                guard !overflow, count <= maxItems else { throw TemplateError("with_\(lookup): more than \(maxItems) combinations") }
                var combined: [Value] = []
                combined.reserveCapacity(count)
                for x in result { for y in next { combined.append(.list(flattenOne([x, y]))) } }
                result = combined
            }
            return result.map { .list(flattenOne([$0])) }
        case "together":
            guard !terms.isEmpty else { throw TemplateError("with_together requires at least one element in each list") }
            let lists = try terms.map { t throws(TemplateError) in try elements(t) }
            let length = lists.map(\.count).max() ?? 0
            return (0..<length).map { i in .list(flattenOne(lists.map { i < $0.count ? $0[i] : .none })) }
        case "indexed_items":
            return flattenOne(terms).enumerated().map { .list([.int($0.offset), $0.element]) }
        case "subelements":
            return try subelements(terms)
        case "sequence":
            var out: [Value] = []
            for term in terms { out += try Sequence(term.pythonString).items(limit: maxItems - out.count) }
            return out
        default:
            throw TemplateError("with_\(lookup) is not supported by cohort play yet")
        }
    }

    /// A list's elements; a string or other value is one element, as Python iterates a
    /// lookup's term (a string would be its characters; Ansible's terms are lists here).
    static func elements(_ value: Value) throws(TemplateError) -> [Value] {
        if case .undefined(let why) = value { throw TemplateError(why) }
        if case .list(let list) = value { return list }
        return [value]
    }

    /// LookupBase._flatten: one level.
    static func flattenOne(_ terms: [Value]) -> [Value] {
        terms.flatMap { term -> [Value] in if case .list(let inner) = term { inner } else { [term] } }
    }

    static func subelements(_ terms: [Value]) throws(TemplateError) -> [Value] {
        let prefix = "subelements lookup expects a list of two or three items, "
        guard (2...3).contains(terms.count) else { throw TemplateError(prefix) }
        guard case .string(let path) = terms[1] else { throw TemplateError(prefix + "first a dict or a list, second a string pointing to the subkey") }
        let list: [Value]
        switch terms[0] {
        case .list(let l): list = l
        case .dict(let d):
            if let skipped = d["skipped"], skipped != .bool(false) { return [] }
            list = d.values
        default: throw TemplateError(prefix + "first a dict or a list, second a string pointing to the subkey")
        }
        var skipMissing = false
        if terms.count == 3 {
            guard case .dict(let flags) = terms[2], flags.keys.allSatisfy({ $0 == "skip_missing" }) else {
                throw TemplateError(prefix + "the optional third item must be a dict with flags ('skip_missing',)")
            }
            skipMissing = flags["skip_missing"].flatMap(PlaybookLoader.boolean) ?? false
        }
        let keys = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var out: [Value] = []
        for element in list {
            guard case .dict(var item) = element else { throw TemplateError("subelements lookup expects a dictionary, got '\(element.pythonString)'") }
            if let skipped = item["skipped"], skipped != .bool(false) { continue }
            // Walk to the last key's list; the element keeps everything but that list.
            var sublist: [Value] = []
            var found = true
            func descend(_ dict: inout Dict, _ rest: ArraySlice<String>) throws(TemplateError) {
                let key = rest.first!
                guard let value = dict[.string(key)] else {
                    if skipMissing { found = false; return }
                    throw TemplateError("could not find '\(key)' key in iterated item '\(Value.dict(dict).pythonString)'")
                }
                if rest.count == 1 {
                    guard case .list(let l) = value else { throw TemplateError("the key \(key) should point to a list, got '\(value.pythonString)'") }
                    sublist = l
                    dict[.string(key)] = nil
                } else {
                    guard case .dict(var inner) = value else {
                        if skipMissing { found = false; return }
                        throw TemplateError("the key \(key) should point to a dictionary, got '\(value.pythonString)'")
                    }
                    try descend(&inner, rest.dropFirst())
                    dict[.string(key)] = .dict(inner)
                }
            }
            try descend(&item, keys[...])
            guard found else { continue }
            for sub in sublist { out.append(.list([.dict(item), sub])) }
        }
        return out
    }

    /// `with_sequence`: `[start-]end[/stride][:format]` or `start= end= count= stride= format=`.
    struct Sequence {
        var start = 1
        var end: Int?
        var count: Int?
        var stride = 1
        var format = "%d"

        init(_ term: String) throws(TemplateError) {
            if !Self.shortcut(term, into: &self) {
                let at = Location(file: "with_sequence", line: 1, column: 1)
                let pairs: [(String, Value)]
                do { pairs = try KeyValueArguments.parse(term, freeForm: false, known: [], at: at) } catch {
                    throw TemplateError("unknown error parsing with_sequence arguments: '\(term)'")
                }
                for (key, value) in pairs {
                    switch key {
                    case "start": start = try Self.number(value.pythonString)
                    case "end": end = try Self.number(value.pythonString)
                    case "count": count = try Self.number(value.pythonString)
                    case "stride": stride = try Self.number(value.pythonString)
                    case "format": format = value.pythonString
                    default: throw TemplateError("unrecognized arguments to with_sequence: ['\(key)']")
                    }
                }
            }
        }

        /// An integer as Ansible's sequence reads one: decimal, `0x` hex, `0`-prefixed octal.
        static func number(_ text: String) throws(TemplateError) -> Int {
            let t = text.lowercased()
            let parsed: Int? =
                t.hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16)
                : t.hasPrefix("0o") ? Int(t.dropFirst(2), radix: 8) : (t.count > 1 && t.hasPrefix("0")) ? Int(t.dropFirst(1), radix: 8) : Int(t)
            guard let parsed else { throw TemplateError("can't parse arg \(text) as integer") }
            return parsed
        }

        static func shortcut(_ term: String, into sequence: inout Sequence) -> Bool {
            var rest = Substring(term)
            var format: String?
            if let colon = rest.firstIndex(of: ":") {
                format = String(rest[rest.index(after: colon)...])
                rest = rest[..<colon]
                if format!.isEmpty { return false }
            }
            var stride: String?
            if let slash = rest.firstIndex(of: "/") {
                stride = String(rest[rest.index(after: slash)...])
                rest = rest[..<slash]
            }
            let bounds = rest.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let numeric = { (s: String) in !s.isEmpty && (try? number(s)) != nil }
            guard (1...2).contains(bounds.count), bounds.allSatisfy(numeric), stride.map(numeric) ?? true else { return false }
            if bounds.count == 2 { sequence.start = try! number(bounds[0]) }
            sequence.end = try! number(bounds[bounds.count - 1])
            if let stride { sequence.stride = try! number(stride) }
            if let format { sequence.format = format }
            return true
        }

        func items(limit: Int) throws(TemplateError) -> [Value] {
            var end: Int
            switch (count, self.end) {
            case (nil, nil): throw TemplateError("must specify count or end in with_sequence")
            case (.some, .some): throw TemplateError("can't specify both count and end in with_sequence")
            case (let count?, nil):
                if count == 0 { return [] }
                let (product, overflow) = count.multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = start.addingReportingOverflow(product)
                guard !overflow, !overflow2 else { throw TemplateError("with_sequence: the count is too large") }
                end = sum - 1
            case (nil, let e?): end = e
            }
            if stride > 0, end < start { throw TemplateError("to count backwards make stride negative") }
            if stride < 0, end > start { throw TemplateError("to count forward don't make stride negative") }
            if stride == 0 { return [] }
            guard format.filter({ $0 == "%" }).count == 1 else { throw TemplateError("bad formatting string: \(format)") }
            // How many numbers, without overflow: (end - start) / stride + 1.
            let span = end.subtractingReportingOverflow(start)
            guard !span.overflow, span.partialValue != Int.min else { throw TemplateError("with_sequence: more than \(LoopLookups.maxItems) items") }
            let steps = span.partialValue / stride
            guard steps < limit else { throw TemplateError("with_sequence: more than \(LoopLookups.maxItems) items") }
            let expression = try Expression("f % i")
            var out: [Value] = []
            out.reserveCapacity(steps + 1)
            for index in 0...steps {
                let number = start + index * stride
                let value = try expression.evaluate { $0 == "f" ? .string(format) : $0 == "i" ? .int(number) : nil }
                out.append(.string(value.pythonString))
            }
            return out
        }
    }
}
