/// Jinja's and Ansible's filters that need nothing outside the template engine. Filters that
/// need a library (YAML, hashes) are added by the caller through `Environment.filters`.
enum Filters {
    static let names = [
        "default", "d", "join", "length", "count", "lower", "upper", "capitalize", "title", "trim", "replace", "int", "float",
        "string", "bool", "list", "first", "last", "min", "max", "sum", "sort", "unique", "reverse", "select", "reject",
        "selectattr", "rejectattr", "map", "dict2items", "items2dict", "combine", "union", "difference", "intersect",
        "symmetric_difference", "flatten", "zip", "ternary", "to_json", "to_nice_json", "from_json", "regex_replace",
        "regex_search", "regex_findall", "basename", "dirname", "b64encode", "b64decode", "quote", "mandatory", "indent",
        "abs", "round", "split", "type_debug", "format", "wordcount", "dictsort", "batch", "center", "items", "splitext",
    ]

    static func apply(_ name: String, _ input: Value, _ args: [Value], _ kwargs: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> Value {
        func arg(_ i: Int, _ key: String) -> Value? { kwargs[key] ?? (i < args.count ? args[i] : nil) }
        func text(_ v: Value?, _ what: String) throws(TemplateError) -> String {
            guard case .string(let s)? = v else { throw TemplateError("\(name): \(what) must be a string", line: line) }
            return s
        }
        func list() throws(TemplateError) -> [Value] {
            if case .undefined(let why) = input { throw TemplateError(why, line: line) }
            return try input.elements()
        }
        switch name {
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            if input.isUndefined { return fallback }
            if arg(1, "boolean")?.truthy == true, !input.truthy { return fallback }
            return input
        case "mandatory":
            if input.isUndefined {
                let message = arg(0, "msg")?.pythonString ?? "Mandatory variable has not been overridden"
                throw TemplateError(message, line: line)
            }
            return input
        default: break
        }
        if case .undefined(let why) = input { throw TemplateError(why, line: line) }
        switch name {
        case "join":
            var items = try list()
            if let attribute = kwargs["attribute"]?.string { items = try items.map { v throws(TemplateError) in try Access.path(v, attribute, line: line) } }
            return .string(items.map(\.pythonString).joined(separator: arg(0, "d")?.pythonString ?? ""))
        case "length", "count":
            switch input {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            default: throw TemplateError("object of type '\(input.typeName)' has no len()", line: line)
            }
        case "lower": return .string(input.pythonString.lowercased())
        case "upper": return .string(input.pythonString.uppercased())
        case "capitalize": return .string(Strings.capitalize(input.pythonString))
        case "title": return .string(Strings.title(input.pythonString))
        case "trim":
            if let chars = arg(0, "chars")?.string { return .string(Strings.strip(input.pythonString, Set(chars), leading: true, trailing: true)) }
            return .string(Strings.strip(input.pythonString, nil, leading: true, trailing: true))
        case "replace":
            var count = -1
            if case .int(let n)? = arg(2, "count") { count = n }
            return .string(Strings.replace(input.pythonString, try text(arg(0, "old"), "old"), arg(1, "new")?.pythonString ?? "", count: count))
        case "int": return Conversions.int(input, default: arg(0, "default") ?? .int(0), base: arg(1, "base"))
        case "float": return Conversions.float(input, default: arg(0, "default") ?? .float(0))
        case "string": return .string(input.pythonString)
        case "bool": return Conversions.bool(input)
        case "list": return .list(try list())
        case "items":
            guard case .dict(let d) = input else { throw TemplateError("items expects a dictionary", line: line) }
            return .list(d.pairs.map { .list([$0.key, $0.value]) })
        case "first": return try list().first ?? .undefined(why: "No first item, sequence was empty.")
        case "last": return try list().last ?? .undefined(why: "No last item, sequence was empty.")
        case "min", "max":
            var best: Value?
            let attribute = kwargs["attribute"]?.string
            for item in try list() {
                let key = try attribute.map { a throws(TemplateError) in try Access.path(item, a, line: line) } ?? item
                if let current = best {
                    let currentKey = try attribute.map { a throws(TemplateError) in try Access.path(current, a, line: line) } ?? current
                    let order = try Operators.ordering(key, currentKey, line: line)
                    if name == "min" ? order < 0 : order > 0 { best = item }
                } else {
                    best = item
                }
            }
            return best ?? .undefined(why: "\(name)() arg is an empty sequence")
        case "sum":
            var total = arg(1, "start") ?? .int(0)
            let attribute = kwargs["attribute"]?.string ?? (args.first?.string)
            for item in try list() {
                let value = try attribute.map { a throws(TemplateError) in try Access.path(item, a, line: line) } ?? item
                total = try Operators.binary("+", total, value, maxSize: maxSize, line: line)
            }
            return total
        case "sort":
            let reverse = arg(0, "reverse")?.truthy ?? false
            let caseSensitive = arg(1, "case_sensitive")?.truthy ?? false
            let attribute = arg(2, "attribute")?.string
            let items = try list()
            var keyed: [(Value, Value)] = []
            for item in items {
                var key = try attribute.map { a throws(TemplateError) in try Access.path(item, a, line: line) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                keyed.append((key, item))
            }
            var failure: TemplateError?
            // A stable sort, as Python's.
            let sorted = keyed.enumerated().sorted { a, b in
                do {
                    let order = try Operators.ordering(a.element.0, b.element.0, line: line)
                    if order == 0 { return a.offset < b.offset }
                    return reverse ? order > 0 : order < 0
                } catch {
                    failure = error as? TemplateError
                    return false
                }
            }
            if let failure { throw failure }
            return .list(sorted.map(\.element.1))
        case "unique":
            var seen: [Value] = []
            for item in try list() where !seen.contains(item) { seen.append(item) }
            return .list(seen)
        case "reverse":
            if case .string(let s) = input { return .string(String(s.reversed())) }
            return .list(try list().reversed())
        case "dict2items":
            guard case .dict(let d) = input else { throw TemplateError("dict2items requires a dictionary, got \(input.typeName) instead.", line: line) }
            let keyName = arg(0, "key_name")?.pythonString ?? "key", valueName = arg(1, "value_name")?.pythonString ?? "value"
            return .list(d.pairs.map { .dict(Dict(strings: [(keyName, $0.key), (valueName, $0.value)])) })
        case "items2dict":
            let keyName = arg(0, "key_name")?.pythonString ?? "key", valueName = arg(1, "value_name")?.pythonString ?? "value"
            var out = Dict()
            for item in try list() {
                guard case .dict(let d) = item, let key = d[keyName], let value = d[valueName] else {
                    throw TemplateError("items2dict requires a list of dictionaries with '\(keyName)' and '\(valueName)'", line: line)
                }
                out[key] = value
            }
            return .dict(out)
        case "combine":
            guard case .dict(var result) = input else { throw TemplateError("combine expects dictionaries, got \(input.typeName)", line: line) }
            let recursive = kwargs["recursive"]?.truthy ?? false
            var others = args
            if others.count == 1, case .list(let many) = others[0] { others = many }
            for other in others {
                guard case .dict(let d) = other else { throw TemplateError("combine expects dictionaries, got \(other.typeName)", line: line) }
                result = merge(result, d, recursive: recursive)
            }
            return .dict(result)
        case "union", "difference", "intersect", "symmetric_difference":
            let a = try list(), b = try (arg(0, "b") ?? .list([])).elements()
            var out: [Value] = []
            func add(_ v: Value) { if !out.contains(v) { out.append(v) } }
            switch name {
            case "union": (a + b).forEach(add)
            case "difference": a.filter { !b.contains($0) }.forEach(add)
            case "intersect": a.filter { b.contains($0) }.forEach(add)
            default: (a.filter { !b.contains($0) } + b.filter { !a.contains($0) }).forEach(add)
            }
            return .list(out)
        case "flatten":
            var levels: Int?
            if case .int(let n)? = arg(0, "levels") { levels = n }
            let skipNulls = kwargs["skip_nulls"]?.truthy ?? true
            return .list(flatten(try list(), levels: levels, skipNulls: skipNulls))
        case "zip":
            var columns = [try list()]
            for other in args { columns.append(try other.elements()) }
            let count = columns.map(\.count).min() ?? 0
            return .list((0..<count).map { i in .list(columns.map { $0[i] }) })
        case "ternary":
            if input == .none, !Operators.isNumber(input), let none = arg(2, "none_val") { return none }
            return input.truthy ? (arg(0, "true_val") ?? .bool(true)) : (arg(1, "false_val") ?? .bool(false))
        case "to_json":
            var indent: Int?
            if case .int(let n)? = kwargs["indent"] { indent = n }
            return .string(try JSON.encode(input, indent: indent, sortKeys: kwargs["sort_keys"]?.truthy ?? false, asciiOnly: kwargs["ensure_ascii"]?.truthy ?? true, line: line))
        case "to_nice_json":
            var indent = 4
            if case .int(let n)? = arg(0, "indent") { indent = n }
            return .string(try JSON.encode(input, indent: indent, sortKeys: kwargs["sort_keys"]?.truthy ?? true, asciiOnly: kwargs["ensure_ascii"]?.truthy ?? true, line: line))
        case "from_json":
            return try JSON.decode(input.pythonString, line: line)
        case "regex_replace":
            let regex = try PythonRegex(
                try text(arg(0, "pattern") ?? .string(""), "pattern"), ignoreCase: kwargs["ignorecase"]?.truthy ?? false,
                multiline: kwargs["multiline"]?.truthy ?? false, line: line)
            var count = 0
            if case .int(let n)? = kwargs["count"] { count = n }
            return .string(try regex.replace(input.pythonString, with: arg(1, "replacement")?.pythonString ?? "", count: count, line: line))
        case "regex_search":
            let regex = try PythonRegex(
                try text(args.first, "pattern"), ignoreCase: kwargs["ignorecase"]?.truthy ?? false, multiline: kwargs["multiline"]?.truthy ?? false,
                line: line)
            // The group references are read first, as Ansible does: a bad one fails even
            // when nothing matches.
            var keys: [String] = []
            for reference in args.dropFirst().map(\.pythonString) {
                if reference.hasPrefix("\\g") {
                    guard reference.hasPrefix("\\g<"), reference.hasSuffix(">"), reference.count > 4 else {
                        throw TemplateError("regex_search: bad group reference '\(reference)'", line: line)
                    }
                    keys.append(String(reference.dropFirst(3).dropLast()))
                } else if reference.hasPrefix("\\"), reference.count > 1, reference.dropFirst().allSatisfy(\.isNumber) {
                    keys.append(String(reference.dropFirst()))
                } else {
                    throw TemplateError("regex_search: bad group reference '\(reference)'", line: line)
                }
            }
            guard let match = regex.firstMatch(input.pythonString) else { return .none }
            if keys.isEmpty { return .string(String(match.output[0].substring ?? "")) }
            var values: [Value] = []
            for key in keys {
                guard let group = PythonRegex.group(match, key) else { throw TemplateError("regex_search: no such group \(key)", line: line) }
                values.append(.string(group))
            }
            return .list(values)
        case "regex_findall":
            let regex = try PythonRegex(
                try text(args.first, "pattern"), ignoreCase: kwargs["ignorecase"]?.truthy ?? false, multiline: kwargs["multiline"]?.truthy ?? false,
                line: line)
            return .list(regex.findAll(input.pythonString))
        case "basename": return .string(Paths.basename(input.pythonString))
        case "dirname": return .string(Paths.dirname(input.pythonString))
        case "splitext":
            let (root, ext) = Paths.splitext(input.pythonString)
            return .list([.string(root), .string(ext)])
        case "b64encode": return .string(Base64.encode(Array(input.pythonString.utf8)))
        case "b64decode":
            guard let bytes = Base64.decode(input.pythonString) else { throw TemplateError("b64decode: not valid base64", line: line) }
            return .string(String(decoding: bytes, as: UTF8.self))
        case "quote": return .string(Paths.shellQuote(input.pythonString))
        case "indent":
            var width = 4
            if case .int(let n)? = arg(0, "width") { width = n }
            let prefix: String = if case .string(let s)? = arg(0, "width") { s } else { String(repeating: " ", count: width) }
            let first = arg(1, "first")?.truthy ?? false, blank = arg(2, "blank")?.truthy ?? false
            var lines = input.pythonString.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for i in lines.indices where (i > 0 || first) && (blank || !lines[i].isEmpty) { lines[i] = prefix + lines[i] }
            return .string(lines.joined(separator: "\n"))
        case "abs":
            switch input {
            case .int(let i): return .int(abs(i))
            case .float(let d): return .float(abs(d))
            default: throw TemplateError("bad operand type for abs(): '\(input.typeName)'", line: line)
            }
        case "round":
            var precision = 0
            if case .int(let n)? = arg(0, "precision") { precision = n }
            let method = arg(1, "method")?.pythonString ?? "common"
            guard let number = input.number else { throw TemplateError("round needs a number", line: line) }
            var scale = 1.0
            for _ in 0..<precision { scale *= 10 }
            // Python's round(): half to even.
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
            return .float((number * scale).rounded(rule) / scale)
        case "split":
            var limit: Int?
            if case .int(let n)? = arg(1, "maxsplit") { limit = n }
            let separator = arg(0, "sep")?.string
            var parts = Strings.split(input.pythonString, separator: separator, limit: limit, fromRight: false)
            if separator == nil { parts = parts.filter { !$0.isEmpty } }
            return .list(parts.map { .string($0) })
        case "type_debug": return .string(input.typeName)
        case "format":
            return .string(try Operators.printf(input.pythonString, .list(args), line: line))
        case "wordcount":
            return .int(input.pythonString.split(whereSeparator: { $0.isWhitespace }).count)
        case "dictsort":
            guard case .dict(let d) = input else { throw TemplateError("dictsort expects a dictionary", line: line) }
            let byValue = arg(1, "by")?.string == "value"
            let pairs = d.pairs.sorted { a, b in
                let x = byValue ? a.value : a.key, y = byValue ? b.value : b.key
                return ((try? Operators.ordering(x, y, line: line)) ?? 0) < 0
            }
            return .list(pairs.map { .list([$0.key, $0.value]) })
        case "batch":
            guard case .int(let size)? = arg(0, "linecount"), size > 0 else { throw TemplateError("batch needs a positive size", line: line) }
            let items = try list()
            var out: [Value] = []
            var start = 0
            while start < items.count {
                var chunk = Array(items[start..<min(items.count, start + size)])
                if let fill = arg(1, "fill_with") { while chunk.count < size { chunk.append(fill) } }
                out.append(.list(chunk))
                start += size
            }
            return .list(out)
        case "center":
            var width = 80
            if case .int(let n)? = arg(0, "width") { width = n }
            let s = input.pythonString
            let pad = max(0, width - s.count)
            let left = pad / 2 + (pad % 2 == 1 && width % 2 == 1 ? 1 : 0)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        default:
            throw TemplateError("no filter named '\(name)'", line: line)
        }
    }

    /// `combine`: later keys win; with `recursive`, dicts under the same key merge too.
    static func merge(_ a: Dict, _ b: Dict, recursive: Bool) -> Dict {
        var out = a
        for (key, value) in b.pairs {
            if recursive, case .dict(let inner)? = out[key], case .dict(let other) = value {
                out[key] = .dict(merge(inner, other, recursive: true))
            } else {
                out[key] = value
            }
        }
        return out
    }

    static func flatten(_ items: [Value], levels: Int?, skipNulls: Bool) -> [Value] {
        var out: [Value] = []
        for item in items {
            switch item {
            case .list(let inner) where levels != 0:
                out += flatten(inner, levels: levels.map { $0 - 1 }, skipNulls: skipNulls)
            case .none where skipNulls:
                continue
            default:
                out.append(item)
            }
        }
        return out
    }
}
