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
    ] + MoreFilters.names

    static func apply(_ name: String, _ input: Value, _ args: [Value], _ kwargs: [String: Value], maxSize: Int, line: Int) throws(TemplateError) -> Value {
        func arg(_ i: Int, _ key: String) -> Value? { kwargs[key] ?? (i < args.count ? args[i] : nil) }
        func text(_ v: Value?, _ what: String) throws(TemplateError) -> String {
            guard case .string(let s)? = v else { throw TemplateError("\(name): \(what) must be a string", line: line) }
            return s
        }
        /// `str(v)`, bounded: a list may reference one big string a million times.
        func str(_ v: Value) throws(TemplateError) -> String { try v.boundedString(maxSize, line: line) }
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
            let separator = try str(arg(0, "d") ?? .string(""))
            return .string(try Strings.join(items, separator: separator, maxSize: maxSize, line: line, text: str))
        case "length", "count":
            switch input {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            default: throw TemplateError("object of type '\(input.typeName)' has no len()", line: line)
            }
        case "lower": return .string(try str(input).lowercased())
        case "upper": return .string(try str(input).uppercased())
        case "capitalize": return .string(Strings.capitalize(try str(input)))
        case "title": return .string(Strings.title(try str(input)))
        case "trim":
            if let chars = arg(0, "chars")?.string { return .string(Strings.strip(try str(input), Set(chars), leading: true, trailing: true)) }
            return .string(Strings.strip(try str(input), nil, leading: true, trailing: true))
        case "replace":
            var count = -1
            if case .int(let n)? = arg(2, "count") { count = n }
            let old = try text(arg(0, "old"), "old"), new = try str(arg(1, "new") ?? .string(""))
            return .string(try Strings.replace(try str(input), old, new, count: count, maxSize: maxSize, line: line))
        case "int": return try Conversions.int(input, default: arg(0, "default") ?? .int(0), base: arg(1, "base"), line: line)
        case "float": return Conversions.float(input, default: arg(0, "default") ?? .float(0))
        case "string": return .string(try str(input))
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
            // Ansible flattens nothing at levels below 1.
            if case .int(let n)? = arg(0, "levels") { levels = max(0, n) }
            let skipNulls = kwargs["skip_nulls"]?.truthy ?? true
            return .list(try flatten(try list(), levels: levels, skipNulls: skipNulls, maxSize: maxSize, line: line))
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
            return .string(
                try JSON.encode(
                    input, indent: indent, sortKeys: kwargs["sort_keys"]?.truthy ?? false, asciiOnly: kwargs["ensure_ascii"]?.truthy ?? true, maxSize: maxSize,
                    line: line))
        case "to_nice_json":
            var indent = 4
            if case .int(let n)? = arg(0, "indent") { indent = n }
            return .string(
                try JSON.encode(
                    input, indent: indent, sortKeys: kwargs["sort_keys"]?.truthy ?? true, asciiOnly: kwargs["ensure_ascii"]?.truthy ?? true, maxSize: maxSize,
                    line: line))
        case "from_json":
            return try JSON.decode(try str(input), line: line)
        case "regex_replace":
            let regex = try PythonRegex(
                try text(arg(0, "pattern") ?? .string(""), "pattern"), ignoreCase: kwargs["ignorecase"]?.truthy ?? false,
                multiline: kwargs["multiline"]?.truthy ?? false, line: line)
            var count = 0
            if case .int(let n)? = kwargs["count"] { count = n }
            return .string(try regex.replace(try str(input), with: arg(1, "replacement")?.pythonString ?? "", count: count, line: line))
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
            guard let match = try regex.firstMatch(try str(input), line: line) else { return .none }
            if keys.isEmpty { return .string(String(match.group(0) ?? "")) }
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
            return .list(try regex.findAll(try str(input), line: line))
        case "basename": return .string(Paths.basename(try str(input)))
        case "dirname": return .string(Paths.dirname(try str(input)))
        case "splitext":
            let (root, ext) = Paths.splitext(try str(input))
            return .list([.string(root), .string(ext)])
        case "b64encode": return .string(Base64.encode(Array(try str(input).utf8)))
        case "b64decode":
            guard let bytes = Base64.decode(try str(input)) else { throw TemplateError("b64decode: not valid base64", line: line) }
            return .string(String(decoding: bytes, as: UTF8.self))
        case "quote": return .string(Paths.shellQuote(try str(input)))
        case "indent":
            var width = 4
            if case .int(let n)? = arg(0, "width") { width = n }
            // Python's " " * width: nothing for a negative width.
            let prefix: String =
                if case .string(let s)? = arg(0, "width") { s } else { String(repeating: " ", count: try Checked.size(width, maxSize, "indent: a width", line: line)) }
            let first = arg(1, "first")?.truthy ?? false, blank = arg(2, "blank")?.truthy ?? false
            let text = try str(input)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let indented = lines.indices.filter { ($0 > 0 || first) && (blank || !lines[$0].isEmpty) }
            _ = try Checked.size(Checked.sum(text.utf8.count, Checked.product(indented.count, prefix.utf8.count) ?? .max), maxSize, "indent: a string", line: line)
            for i in indented { lines[i] = prefix + lines[i] }
            return .string(lines.joined(separator: "\n"))
        case "abs":
            switch input {
            case .int(let i):
                guard i != .min else { throw TemplateError("integer result too large", line: line) }
                return .int(abs(i))
            case .float(let d): return .float(abs(d))
            default: throw TemplateError("bad operand type for abs(): '\(input.typeName)'", line: line)
            }
        case "round":
            var precision = 0
            if case .int(let n)? = arg(0, "precision") { precision = n }
            return try Rounding.round(input, precision: precision, method: arg(1, "method")?.pythonString ?? "common", line: line)
        case "split":
            var limit: Int?
            // Python: a negative maxsplit splits at every separator.
            if case .int(let n)? = arg(1, "maxsplit"), n >= 0 { limit = n }
            let separator = arg(0, "sep")?.string
            var parts = Strings.split(try str(input), separator: separator, limit: limit, fromRight: false)
            if separator == nil { parts = parts.filter { !$0.isEmpty } }
            return .list(parts.map { .string($0) })
        case "type_debug": return .string(input.typeName)
        case "format":
            return .string(try PythonFormat.printf(try str(input), .list(args), maxSize: maxSize, line: line))
        case "wordcount":
            return .int(try str(input).split(whereSeparator: { $0.isWhitespace }).count)
        case "dictsort":
            guard case .dict(let d) = input else { throw TemplateError("dictsort expects a dictionary", line: line) }
            let byValue = arg(1, "by")?.string == "value"
            let pairs = d.pairs.sorted { a, b in
                let x = byValue ? a.value : a.key, y = byValue ? b.value : b.key
                return ((try? Operators.ordering(x, y, line: line)) ?? 0) < 0
            }
            return .list(pairs.map { .list([$0.key, $0.value]) })
        case "batch":
            guard case .int(let size)? = arg(0, "linecount") else { throw TemplateError("batch needs an integer size", line: line) }
            // Jinja's loop as written: a size of 0 gives an empty first batch, a negative one
            // a single batch; only the padding of the last batch builds anything of `size`.
            var out: [Value] = []
            var chunk: [Value] = []
            for item in try list() {
                if chunk.count == size {
                    out.append(.list(chunk))
                    chunk = []
                }
                chunk.append(item)
            }
            if !chunk.isEmpty {
                if let fill = arg(1, "fill_with"), fill != .none, chunk.count < size {
                    _ = try Checked.size(size, maxSize, "batch: a batch", line: line)
                    chunk += Array(repeating: fill, count: size - chunk.count)
                }
                out.append(.list(chunk))
            }
            return .list(out)
        case "center":
            var width = 80
            if case .int(let n)? = arg(0, "width") { width = n }
            let s = try str(input)
            guard width > s.count else { return .string(s) }
            let pad = try Checked.size(width - s.count, maxSize, "center: a string", line: line)
            let left = pad / 2 + (pad % 2 == 1 && width % 2 == 1 ? 1 : 0)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        default:
            return try MoreFilters.apply(name, input, args, kwargs, maxSize: maxSize, line: line)
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

    /// Ansible's `flatten`: nulls (None, and the strings 'None' and 'null') are skipped;
    /// the result is bounded like any list a template builds.
    static func flatten(_ items: [Value], levels: Int?, skipNulls: Bool, maxSize: Int, line: Int) throws(TemplateError) -> [Value] {
        var out: [Value] = []
        func add(_ items: [Value], _ levels: Int?) throws(TemplateError) {
            for item in items {
                switch item {
                case .none where skipNulls, .string("None") where skipNulls, .string("null") where skipNulls:
                    continue
                case .list(let inner) where levels != 0:
                    try add(inner, levels.map { $0 - 1 })
                default:
                    guard out.count < maxSize else { throw TemplateError("flatten: a list over \(maxSize) items", line: line) }
                    out.append(item)
                }
            }
        }
        try add(items, levels)
        return out
    }
}
