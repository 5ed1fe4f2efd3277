/// Jinja's and Ansible's tests: `x is defined`, `r is changed`, `v is version('2.0', '>=')`.
enum TestFunctions {
    static let names = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "boolean",
        "true", "false", "match", "search", "regex", "in", "contains", "version", "version_compare", "succeeded", "success",
        "failed", "failure", "changed", "change", "skipped", "skip", "finished", "started", "equalto", "eq", "==", "ne", "!=", "lt", "<", "le", "<=",
        "gt", ">", "ge", ">=", "divisibleby", "even", "odd", "lower", "upper", "sameas", "subset", "superset", "abs",
    ]

    static func apply(_ name: String, _ value: Value, _ args: [Value], line: Int) throws(TemplateError) -> Bool {
        func arg(_ i: Int) throws(TemplateError) -> Value {
            guard i < args.count else { throw TemplateError("test '\(name)' needs an argument", line: line) }
            return args[i]
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        default: break
        }
        if case .undefined(let why) = value { throw TemplateError(why, line: line) }
        switch name {
        case "abs":
            // Ansible's `os.path.isabs`: a path that starts with a slash.
            guard case .string(let path) = value else { throw TemplateError("test 'abs' needs a path (a string), not \(value.typeName)", line: line) }
            return path.hasPrefix("/")
        case "none": return value == .none && !Operators.isNumber(value)
        case "string": if case .string = value { return true } else { return false }
        case "number": if case .int = value { return true } else if case .float = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .float = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": return value == .bool(true) && isBool(value)
        case "false": return value == .bool(false) && isBool(value)
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable": return (try? value.elements()) != nil
        case "sequence":
            switch value {
            case .list, .string, .dict: return true
            default: return false
            }
        case "lower": return value.string.map { $0 == $0.lowercased() } ?? false
        case "upper": return value.string.map { $0 == $0.uppercased() } ?? false
        case "match", "search", "regex":
            guard case .string(let text) = value, case .string(let pattern) = try arg(0) else {
                throw TemplateError("\(name) test needs a string and a pattern", line: line)
            }
            let regex = try PythonRegex(pattern, ignoreCase: args.count > 1 && args[1].truthy, line: line)
            return name == "match" ? try regex.matchesStart(text, line: line) : try regex.firstMatch(text, line: line) != nil
        case "in": return try Operators.contains(try arg(0), value, line: line)
        case "contains": return try Operators.contains(value, try arg(0), line: line)
        case "version", "version_compare":
            guard case .string(let other) = try arg(0) else { throw TemplateError("version test needs a version string", line: line) }
            let op = args.count > 1 ? args[1].pythonString : "eq"
            return try Versions.compare(value.pythonString, other, op: op, line: line)
        case "succeeded", "success": return !(try taskFlag(value, "failed", name, line))
        case "failed", "failure": return try taskFlag(value, "failed", name, line)
        case "changed", "change": return try taskFlag(value, "changed", name, line)
        case "skipped", "skip": return try taskFlag(value, "skipped", name, line)
        case "finished", "started":
            // Async results: the flag equal to 1 (True); any other result counts as done.
            guard case .dict(let result) = value else { throw TemplateError("The '\(name)' test expects a dictionary", line: line) }
            guard let flag = result[.string(name)] else { return true }
            return flag == .int(1) || flag == .bool(true) || flag == .float(1)
        case "equalto", "eq", "==": return value == (try arg(0))
        case "ne", "!=": return value != (try arg(0))
        case "lt", "<": return try Operators.compare("<", value, try arg(0), line: line)
        case "le", "<=": return try Operators.compare("<=", value, try arg(0), line: line)
        case "gt", ">": return try Operators.compare(">", value, try arg(0), line: line)
        case "ge", ">=": return try Operators.compare(">=", value, try arg(0), line: line)
        case "divisibleby":
            guard case .int(let n) = value, case .int(let d) = try arg(0), d != 0 else { throw TemplateError("divisibleby needs integers", line: line) }
            return d == -1 || n % d == 0
        case "even", "odd":
            guard case .int(let n) = value else { throw TemplateError("\(name) needs an integer", line: line) }
            return (n % 2 == 0) == (name == "even")
        case "sameas":
            let other = try arg(0)
            return value == other && isBool(value) == isBool(other) && value.typeName == other.typeName
        case "subset", "superset":
            let mine = try value.elements(), theirs = try arg(0).elements()
            return name == "subset" ? mine.allSatisfy(theirs.contains) : theirs.allSatisfy(mine.contains)
        default:
            throw TemplateError("no test named '\(name)'", line: line)
        }
    }

    private static func isBool(_ v: Value) -> Bool {
        if case .bool = v { return true }
        return false
    }

    /// A registered task result's flag (`failed`, `changed`, `skipped`), as Ansible's tests read it.
    private static func taskFlag(_ value: Value, _ key: String, _ test: String, _ line: Int) throws(TemplateError) -> Bool {
        guard case .dict(let result) = value else {
            throw TemplateError("The '\(test)' test expects a dictionary", line: line)
        }
        if key == "failed", result["failed"] == nil, let rc = result["rc"], case .int(let code) = rc { return code != 0 }
        return result[key]?.truthy ?? false
    }
}

/// Version comparison as Ansible's `version` test does it by default (LooseVersion): numbers
/// compare as numbers, other parts as text.
enum Versions {
    static func compare(_ a: String, _ b: String, op: String, line: Int) throws(TemplateError) -> Bool {
        let order = ordering(parts(a), parts(b))
        switch op {
        case "==", "=", "eq": return order == 0
        case "!=", "<>", "ne": return order != 0
        case "<", "lt": return order < 0
        case "<=", "le": return order <= 0
        case ">", "gt": return order > 0
        case ">=", "ge": return order >= 0
        default: throw TemplateError("Invalid operator type (\(op))", line: line)
        }
    }

    enum Part: Equatable {
        case number(Int)
        case text(String)
    }

    static func parts(_ version: String) -> [Part] {
        var out: [Part] = []
        var current = ""
        var digits = false
        func flush() {
            if current.isEmpty { return }
            out.append(digits ? .number(Int(current) ?? 0) : .text(current))
            current = ""
        }
        for c in version {
            if c == "." {
                flush()
                continue
            }
            let isDigit = c.isASCII && c.isNumber
            if !current.isEmpty, isDigit != digits { flush() }
            digits = isDigit
            current.append(c)
        }
        flush()
        return out
    }

    static func ordering(_ a: [Part], _ b: [Part]) -> Int {
        for (x, y) in zip(a, b) where x != y {
            switch (x, y) {
            case (.number(let m), .number(let n)): return m < n ? -1 : 1
            case (.text(let s), .text(let t)): return s < t ? -1 : 1
            // LooseVersion in Python 3 cannot order int against str; ints first is the usual outcome.
            case (.number, .text): return -1
            case (.text, .number): return 1
            }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}
