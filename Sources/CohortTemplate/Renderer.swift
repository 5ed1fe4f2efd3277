/// Walks the nodes of one render: scopes for `for` and `set`, the caller's variables below
/// them, and the fuel that bounds the work.
struct Renderer {
    let environment: Environment
    let globals: @Sendable (String) -> Value?
    private var scopes: [[String: Value]] = [[:]]
    /// The evaluation's budget: the caller's when it shares one across renders.
    private let fuel: Fuel
    /// Whether an operator made a timedelta: only then may the result hold one (variables
    /// never do, Ansible stores none), so only then is it searched for one.
    private(set) var madeSpan = false

    init(environment: Environment, globals: @escaping @Sendable (String) -> Value?) {
        self.environment = environment
        self.globals = globals
        fuel = environment.sharedFuel ?? Fuel(environment.fuel)
    }

    func burn(_ line: Int?) throws(TemplateError) {
        try fuel.burn(line)
    }

    /// A variable; a render inside the caller's lookup that failed for good (fuel gone, a
    /// recursive variable) fails this one too, though the lookup itself saw only undefined.
    func lookup(_ name: String, line: Int? = nil) throws(TemplateError) -> Value {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        let value = globals(name)
        if let failure = fuel.failure { throw failure }
        return value ?? .undefined(why: "'\(name)' is undefined")
    }

    /// Ansible's `vars` lookup: variables by (computed) name, each rendered as the name would
    /// be; `default=` for one that is not defined, else an undefined value naming it.
    func varsLookup(_ function: String, _ terms: [Value], _ kwargs: [String: Value], line: Int) throws(TemplateError) -> Value {
        var values: [Value] = []
        for term in terms {
            guard case .string(let variable) = term else {
                throw TemplateError("Variable name must be 'str' not '\(term.typeName)'.", line: line)
            }
            let value = try lookup(variable, line: line)
            if case .undefined = value {
                // Undefined, not an error yet: `| default(…)` after the lookup still applies.
                values.append(kwargs["default"].flatMap { $0 == .none ? nil : $0 } ?? .undefined(why: "No variable named '\(variable)' was found."))
            } else {
                values.append(value)
            }
        }
        return Globals.lookupResult(function, values, kwargs)
    }

    /// What a render printed: each piece as it came, so that a template whose only piece is
    /// one expression can give that expression's own value (Jinja's native mode).
    struct Output {
        var pieces: [Value] = []
        var size = 0

        /// The pieces as text: None prints nothing there, as in Ansible.
        var text: String {
            var out = ""
            for piece in pieces {
                if case .none = piece { continue }
                out += piece.pythonString
            }
            return out
        }
    }

    mutating func run(_ nodes: [Node], into out: inout Output) throws(TemplateError) {
        for node in nodes {
            try burn(nil)
            switch node {
            case .text(let text):
                out.pieces.append(.string(text))
                out.size += text.utf8.count
                if out.size > environment.maxSize { throw TemplateError("the template's output is over \(environment.maxSize) bytes") }
            case .output(let expr):
                let value = try evaluate(expr)
                if case .undefined(let why) = value { throw TemplateError(why, line: line(of: expr)) }
                out.pieces.append(value)
                // What printing it builds, not what it references.
                out.size += value.reprSize(limit: environment.maxSize)
                if out.size > environment.maxSize { throw TemplateError("the template's output is over \(environment.maxSize) bytes") }
            case .ifChain(let branches, let otherwise):
                var taken = false
                for branch in branches where try test(branch.condition) {
                    try run(branch.body, into: &out)
                    taken = true
                    break
                }
                if !taken { try run(otherwise, into: &out) }
            case .forLoop(let targets, let iterable, let filter, let body, let otherwise, let line):
                try loop(targets, iterable, filter, body, otherwise, line: line, into: &out)
            case .set(let targets, let value):
                try assign(targets, try evaluate(value), line: line(of: value))
            case .setBlock(let target, let body):
                var captured = Output()
                try run(body, into: &captured)
                scopes[scopes.count - 1][target] = .string(captured.text)
            }
        }
    }

    /// A condition inside a template (`{% if %}`, `x if c`, `and`, `or`, `not`): Python's
    /// truthiness; an undefined value is an error there, as with Ansible's strict undefined.
    private mutating func test(_ expr: Expr) throws(TemplateError) -> Bool {
        try Self.truth(try evaluate(expr), line: line(of: expr))
    }

    static func truth(_ value: Value, line: Int?) throws(TemplateError) -> Bool {
        if case .undefined(let why) = value { throw TemplateError(why, line: line) }
        return value.truthy
    }

    private mutating func assign(_ targets: [String], _ value: Value, line: Int?) throws(TemplateError) {
        if targets.count == 1 {
            scopes[scopes.count - 1][targets[0]] = value
            return
        }
        let parts = try value.elements()
        guard parts.count == targets.count else {
            throw TemplateError("cannot unpack \(parts.count) values into \(targets.count) names", line: line)
        }
        for (name, part) in zip(targets, parts) { scopes[scopes.count - 1][name] = part }
    }

    private mutating func loop(
        _ targets: [String], _ iterable: Expr, _ filter: Expr?, _ body: [Node], _ otherwise: [Node], line: Int, into out: inout Output
    ) throws(TemplateError) {
        let source = try evaluate(iterable)
        if case .undefined(let why) = source { throw TemplateError(why, line: line) }
        var items = try source.elements()
        if let filter {
            var kept: [Value] = []
            for item in items {
                scopes.append([:])
                try assign(targets, item, line: line)
                let keep = try test(filter)
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try run(otherwise, into: &out) }
        for (index, item) in items.enumerated() {
            var loop = Dict()
            loop["index"] = .int(index + 1)
            loop["index0"] = .int(index)
            loop["revindex"] = .int(items.count - index)
            loop["revindex0"] = .int(items.count - index - 1)
            loop["first"] = .bool(index == 0)
            loop["last"] = .bool(index == items.count - 1)
            loop["length"] = .int(items.count)
            loop["previtem"] = index > 0 ? items[index - 1] : .undefined(why: "there is no previous item")
            loop["nextitem"] = index + 1 < items.count ? items[index + 1] : .undefined(why: "there is no next item")
            scopes.append(["loop": .dict(loop)])
            try assign(targets, item, line: line)
            try run(body, into: &out)
            scopes.removeLast()
        }
    }

    func line(of expr: Expr) -> Int? {
        switch expr {
        case .name(_, let line), .attribute(_, _, let line), .item(_, _, let line), .slice(_, _, _, _, let line),
            .call(_, _, _, let line), .filter(_, _, _, _, let line), .test(_, _, _, _, let line), .unary(_, _, let line),
            .binary(_, _, _, let line), .compare(_, _, let line):
            line
        case .and(let a, _), .or(let a, _), .not(let a), .conditional(let a, _, _): self.line(of: a)
        default: nil
        }
    }

    private mutating func noteSpan(_ value: Value) -> Value {
        if case .temporal(.timedelta) = value { madeSpan = true }
        return value
    }

    mutating func evaluate(_ expr: Expr) throws(TemplateError) -> Value {
        try burn(line(of: expr))
        switch expr {
        case .literal(let value): return value
        case .name(let name, let line): return try lookup(name, line: line)
        case .list(let items), .tuple(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item)) }
            return .list(values)
        case .dict(let pairs):
            var dict = Dict()
            for (key, value) in pairs { dict[try evaluate(key)] = try evaluate(value) }
            return .dict(dict)
        case .attribute(let base, let name, let line):
            return try Access.attribute(try evaluate(base), name, line: line)
        case .item(let base, let index, let line):
            return try Access.item(try evaluate(base), try evaluate(index), line: line)
        case .slice(let base, let start, let stop, let step, let line):
            return try Access.slice(
                try evaluate(base), try start.map { e throws(TemplateError) in try evaluate(e) },
                try stop.map { e throws(TemplateError) in try evaluate(e) }, try step.map { e throws(TemplateError) in try evaluate(e) }, line: line)
        case .call(let callee, let args, let kwargs, let line):
            let (positional, named) = try arguments(args, kwargs)
            if case .attribute(let base, let name, _) = callee {
                let object = try evaluate(base)
                if case .undefined(let why) = object { throw TemplateError(why, line: line) }
                return try Methods.call(object, name, positional, named, maxSize: environment.maxSize, line: line)
            }
            guard case .name(let name, _) = callee else { throw TemplateError("this value cannot be called", line: line) }
            if ["lookup", "query", "q"].contains(name), positional.first == .string("vars") || positional.first == .string("ansible.builtin.vars") {
                return try varsLookup(name, Array(positional.dropFirst()), named, line: line)
            }
            if ["lookup", "query", "q"].contains(name), case .string(let plugin)? = positional.first,
                let lookup = environment.variableLookups[plugin.hasPrefix("ansible.builtin.") ? String(plugin.dropFirst(16)) : plugin]
            {
                var inner = environment
                inner.renderDepth += 1
                guard inner.renderDepth <= Environment.maxRenderDepth else {
                    throw TemplateError("lookup('\(plugin)') nested more than \(Environment.maxRenderDepth) deep", line: line)
                }
                let values: [Value]
                do { values = try lookup(Array(positional.dropFirst()), named, globals, inner) } catch let error as TemplateError {
                    throw TemplateError(error.message, line: error.line ?? line)
                } catch {
                    throw TemplateError("\(error)", line: line)
                }
                return Globals.lookupResult(name, values, named)
            }
            return try Globals.call(name, positional, named, environment: environment, line: line)
        case .filter(let base, let name, let args, let kwargs, let line):
            let input = try evaluate(base)
            let (positional, named) = try arguments(args, kwargs)
            return try applyFilter(name, input, positional, named, line: line)
        case .test(let base, let name, let args, let negated, let line):
            let input = try evaluate(base)
            var positional: [Value] = []
            for arg in args { positional.append(try evaluate(arg)) }
            let result = try TestFunctions.apply(name, input, positional, line: line)
            return .bool(result != negated)
        case .unary(let op, let operand, let line):
            return noteSpan(try Operators.unary(op, try evaluate(operand), line: line))
        case .binary(let op, let left, let right, let line):
            return noteSpan(try Operators.binary(op, try evaluate(left), try evaluate(right), maxSize: environment.maxSize, line: line))
        case .and(let left, let right):
            let l = try evaluate(left)
            return try Self.truth(l, line: line(of: left)) ? try evaluate(right) : l
        case .or(let left, let right):
            let l = try evaluate(left)
            return try Self.truth(l, line: line(of: left)) ? l : try evaluate(right)
        case .not(let operand):
            return .bool(!(try test(operand)))
        case .compare(let first, let rest, let line):
            var left = try evaluate(first)
            for (op, next) in rest {
                let right = try evaluate(next)
                guard try Operators.compare(op, left, right, line: line) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let value, let condition, let otherwise):
            if try test(condition) { return try evaluate(value) }
            return try otherwise.map { e throws(TemplateError) in try evaluate(e) } ?? .undefined(why: "the inline if's condition was false and it has no else")
        }
    }

    private mutating func arguments(_ args: [Expr], _ kwargs: [(String, Expr)]) throws(TemplateError) -> ([Value], [String: Value]) {
        var positional: [Value] = []
        for arg in args { positional.append(try evaluate(arg)) }
        var named: [String: Value] = [:]
        for (name, arg) in kwargs { named[name] = try evaluate(arg) }
        return (positional, named)
    }

    /// The filters that take a filter or test by name (`map('upper')`, `select('match', …)`)
    /// are run here, where the others can be looked up; the rest go to `Filters`.
    private mutating func applyFilter(_ name: String, _ input: Value, _ args: [Value], _ kwargs: [String: Value], line: Int) throws(TemplateError) -> Value {
        if let custom = environment.filters[name] {
            do { return try custom(input, args, kwargs) } catch let error as TemplateError {
                throw TemplateError(error.message, line: error.line ?? line)
            } catch {
                throw TemplateError("\(error)", line: line)
            }
        }
        switch name {
        case "map":
            if case .undefined(let why) = input { throw TemplateError(why, line: line) }
            let items = try input.elements()
            if let attribute = kwargs["attribute"]?.string {
                let fallback = kwargs["default"]
                return .list(try items.map { item throws(TemplateError) in
                    let value = try Access.path(item, attribute, line: line)
                    if value.isUndefined, let fallback { return fallback }
                    return value
                })
            }
            guard let filter = args.first?.string else { throw TemplateError("map needs a filter name or attribute=", line: line) }
            var out: [Value] = []
            for item in items { out.append(try applyFilter(filter, item, Array(args.dropFirst()), kwargs, line: line)) }
            return .list(out)
        case "select", "reject", "selectattr", "rejectattr":
            if case .undefined(let why) = input { throw TemplateError(why, line: line) }
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var rest = args
            var attribute: String?
            if byAttribute {
                guard let first = rest.first?.string else { throw TemplateError("\(name) needs an attribute name", line: line) }
                attribute = first
                rest.removeFirst()
            }
            let testName = rest.first?.string
            let testArgs = Array(rest.dropFirst())
            var out: [Value] = []
            for item in try input.elements() {
                let subject = try attribute.map { a throws(TemplateError) in try Access.path(item, a, line: line) } ?? item
                let passed: Bool
                if let testName {
                    passed = try TestFunctions.apply(testName, subject, testArgs, line: line)
                } else {
                    passed = try Self.truth(subject, line: line)
                }
                if passed == keep { out.append(item) }
            }
            return .list(out)
        default:
            return try Filters.apply(name, input, args, kwargs, maxSize: environment.maxSize, line: line)
        }
    }
}
