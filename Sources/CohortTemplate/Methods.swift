/// The Python methods people call in templates: `x.split(',')`, `d.get('k', 0)`, `d.items()`.
enum Methods {
    static func call(_ object: Value, _ name: String, _ args: [Value], _ kwargs: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> Value {
        func arg(_ i: Int) -> Value? { i < args.count ? args[i] : nil }
        func text(_ i: Int, _ what: String) throws(TemplateError) -> String {
            guard case .string(let s)? = arg(i) else { throw TemplateError("\(name)() argument \(i + 1) must be str (\(what))", line: line) }
            return s
        }
        if case .temporal(let t) = object, let result = try t.method(name, args, kwargs, line: line) { return result }
        switch (object, name) {
        case (.string(let s), "split"), (.string(let s), "rsplit"):
            let limit: Int? = if case .int(let n)? = arg(1) ?? kwargs["maxsplit"], n >= 0 { n } else { nil }
            let separator: String? = if case .string(let sep)? = arg(0) ?? kwargs["sep"] { sep } else { nil }
            if let separator, separator.isEmpty { throw TemplateError("empty separator", line: line) }
            var parts = Strings.split(s, separator: separator, limit: limit, fromRight: name == "rsplit")
            if separator == nil { parts = parts.filter { !$0.isEmpty } }
            return .list(parts.map { .string($0) })
        case (.string(let s), "splitlines"):
            return .list(Strings.lines(s).map { .string($0) })
        case (.string(let s), "strip"), (.string(let s), "lstrip"), (.string(let s), "rstrip"):
            let set: Set<Character>? = if case .string(let chars)? = arg(0) { Set(chars) } else { nil }
            return .string(Strings.strip(s, set, leading: name != "rstrip", trailing: name != "lstrip"))
        case (.string(let s), "startswith"), (.string(let s), "endswith"):
            var prefixes: [String] = []
            switch arg(0) {
            case .string(let p)?: prefixes = [p]
            case .list(let l)?: prefixes = l.compactMap(\.string)
            default: throw TemplateError("\(name) first arg must be str or a tuple of str", line: line)
            }
            return .bool(prefixes.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        case (.string(let s), "replace"):
            let old = try text(0, "old"), new = try text(1, "new")
            var count = -1
            if case .int(let n)? = arg(2) { count = n }
            return .string(try Strings.replace(s, old, new, count: count, maxSize: maxSize, line: line))
        case (.string(let s), "lower"): return .string(s.lowercased())
        case (.string(let s), "upper"): return .string(s.uppercased())
        case (.string(let s), "capitalize"): return .string(Strings.capitalize(s))
        case (.string(let s), "title"): return .string(Strings.title(s))
        case (.string(let s), "join"):
            guard let items = try arg(0)?.elements() else { throw TemplateError("join() takes exactly one argument", line: line) }
            return .string(
                try Strings.join(items, separator: s, maxSize: maxSize, line: line) { item throws(TemplateError) in
                    guard case .string(let piece) = item else { throw TemplateError("sequence item: expected str instance, \(item.typeName) found", line: line) }
                    return piece
                })
        case (.string(let s), "find"):
            let needle = try text(0, "sub")
            guard let range = s.firstRange(of: needle) else { return .int(-1) }
            return .int(s.distance(from: s.startIndex, to: range.lowerBound))
        case (.string(let s), "count"):
            let needle = try text(0, "sub")
            return .int(Strings.split(s, separator: needle, limit: nil, fromRight: false).count - 1)
        case (.string(let s), "isdigit"): return .bool(!s.isEmpty && s.allSatisfy { $0.isNumber })
        case (.string(let s), "isalpha"): return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter })
        case (.string(let s), "format"):
            var out = ""
            var rest = args[...]
            var chars = Array(s)[...]
            while let c = chars.popFirst() {
                if c == "{", chars.first == "}" {
                    chars.removeFirst()
                    out += try rest.popFirst()?.boundedString(maxSize, line: line) ?? ""
                    guard out.utf8.count <= maxSize else { throw TemplateError("format: a string over \(maxSize) bytes", line: line) }
                } else {
                    out.append(c)
                }
            }
            return .string(out)
        case (.list(let l), "index"):
            guard let target = arg(0), let at = l.firstIndex(of: target) else { throw TemplateError("value is not in list", line: line) }
            return .int(at)
        case (.list(let l), "count"):
            return .int(l.filter { $0 == arg(0) ?? .none }.count)
        case (.dict(let d), "keys"): return .list(d.keys)
        case (.dict(let d), "values"): return .list(d.values)
        case (.dict(let d), "items"): return .list(d.pairs.map { .list([$0.key, $0.value]) })
        case (.dict(let d), "get"):
            guard let key = arg(0) else { throw TemplateError("get expected at least 1 argument", line: line) }
            return d[key] ?? arg(1) ?? .none
        default:
            throw TemplateError("'\(Access.objectName(object))' has no method '\(name)'", line: line)
        }
    }
}
