/// Tokens to nodes, with Jinja2's grammar and precedence: `x if c else y` < `or` < `and` <
/// `not` < comparisons (`in`, `not in`, `==`…) < `+ -` < `~` < `* / // %` < `**` < unary
/// minus < filters and tests (`x | f`, `x is t`) < postfix (`.a`, `[i]`, calls).
struct Parser {
    private var tokens: [Token]
    private var position = 0
    /// Bounds on one tag's expression and on nesting, so that no template can build a tree
    /// deep enough to overflow the stack when it is evaluated or freed.
    private var nodesInTag = 0
    private var nesting = 0
    static let maxNodesPerTag = 400
    static let maxNesting = 50

    init(_ tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws(TemplateError) -> [Node] {
        var parser = Parser(try Lexer.tokens(source))
        let (nodes, end) = try parser.nodes(until: [])
        if let end { throw TemplateError("unexpected '\(end)'", line: parser.lastLine) }
        return nodes
    }

    static func parseExpression(_ source: String) throws(TemplateError) -> Expr {
        var parser = Parser(try Lexer.tokens("{{" + source + "}}"))
        guard parser.next()?.kind == .variableBegin else { throw TemplateError("empty expression") }
        let expr = try parser.expression()
        guard parser.next()?.kind == .variableEnd, parser.peek == nil else {
            throw TemplateError("unexpected \(parser.describe(parser.tokens[max(0, parser.position - 1)])) in expression", line: parser.lastLine)
        }
        return expr
    }

    private var peek: Token? { position < tokens.count ? tokens[position] : nil }
    private var lastLine: Int { peek?.line ?? tokens.last?.line ?? 1 }

    private mutating func made(_ expr: Expr) throws(TemplateError) -> Expr {
        nodesInTag += 1
        if nodesInTag > Self.maxNodesPerTag { throw TemplateError("expression too long (over \(Self.maxNodesPerTag) parts)", line: lastLine) }
        return expr
    }

    private mutating func enter() throws(TemplateError) {
        nesting += 1
        if nesting > Self.maxNesting { throw TemplateError("nested too deeply (over \(Self.maxNesting) levels)", line: lastLine) }
    }

    private mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .text: "text"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .name(let n): "'\(n)'"
        case .string(let s): "string \(Value.quoted(s))"
        case .int(let i): "\(i)"
        case .float(let d): "\(d)"
        case .op(let o): "'\(o)'"
        }
    }

    private func isOp(_ op: String) -> Bool { peek?.kind == .op(op) }
    private func isName(_ name: String) -> Bool { peek?.kind == .name(name) }

    private mutating func expect(_ op: String) throws(TemplateError) {
        guard isOp(op) else { throw unexpected("'\(op)'") }
        position += 1
    }

    private mutating func expectName(_ name: String) throws(TemplateError) {
        guard isName(name) else { throw unexpected("'\(name)'") }
        position += 1
    }

    private func unexpected(_ wanted: String) -> TemplateError {
        guard let token = peek else { return TemplateError("unexpected end of template, expected \(wanted)", line: lastLine) }
        return TemplateError("expected \(wanted), got \(describe(token))", line: token.line)
    }

    private mutating func identifier() throws(TemplateError) -> String {
        guard case .name(let name)? = peek?.kind else { throw unexpected("a name") }
        position += 1
        return name
    }

    // MARK: statements

    /// Nodes up to a block tag whose keyword is in `ends`; returns that keyword (the tag's
    /// `{% keyword` consumed, the rest of it not).
    private mutating func nodes(until ends: Set<String>) throws(TemplateError) -> ([Node], String?) {
        var nodes: [Node] = []
        while let token = next() {
            switch token.kind {
            case .text(let text): nodes.append(.text(text))
            case .variableBegin:
                nodesInTag = 0
                nodes.append(.output(try expression()))
                guard next()?.kind == .variableEnd else { throw TemplateError("expected '}}'", line: token.line) }
            case .blockBegin:
                nodesInTag = 0
                let keyword = try identifier()
                if ends.contains(keyword) { return (nodes, keyword) }
                try enter()
                nodes.append(try statement(keyword, line: token.line))
                nesting -= 1
            default:
                throw TemplateError("unexpected \(describe(token))", line: token.line)
            }
        }
        if !ends.isEmpty {
            throw TemplateError("unexpected end of template: expected one of \(ends.sorted().map { "'\($0)'" }.joined(separator: ", "))", line: lastLine)
        }
        return (nodes, nil)
    }

    private mutating func endTag() throws(TemplateError) {
        guard next()?.kind == .blockEnd else { throw TemplateError("expected '%}'", line: lastLine) }
    }

    private mutating func statement(_ keyword: String, line: Int) throws(TemplateError) -> Node {
        switch keyword {
        case "if":
            var branches: [(Expr, [Node])] = []
            var condition = try expression()
            while true {
                try endTag()
                let (body, end) = try nodes(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                switch end {
                case "elif": condition = try expression()
                case "else":
                    try endTag()
                    let (otherwise, _) = try nodes(until: ["endif"])
                    try endTag()
                    return .ifChain(branches, otherwise: otherwise)
                default:
                    try endTag()
                    return .ifChain(branches, otherwise: [])
                }
            }
        case "for":
            var targets = [try identifier()]
            while isOp(",") {
                position += 1
                targets.append(try identifier())
            }
            try expectName("in")
            let iterable = try orExpression()
            var filter: Expr?
            if isName("if") {
                position += 1
                filter = try expression()
            }
            try endTag()
            let (body, end) = try nodes(until: ["else", "endfor"])
            var otherwise: [Node] = []
            try endTag()
            if end == "else" {
                (otherwise, _) = try nodes(until: ["endfor"])
                try endTag()
            }
            return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
        case "set":
            var targets = [try identifier()]
            while isOp(",") {
                position += 1
                targets.append(try identifier())
            }
            if peek?.kind == .blockEnd, targets.count == 1 {
                try endTag()
                let (body, _) = try nodes(until: ["endset"])
                try endTag()
                return .setBlock(target: targets[0], body: body)
            }
            try expect("=")
            let value = try expression()
            try endTag()
            return .set(targets: targets, value: value)
        default:
            throw TemplateError("unsupported tag '\(keyword)' (supported: if, for, set, raw)", line: line)
        }
    }

    // MARK: expressions

    mutating func expression() throws(TemplateError) -> Expr {
        try enter()
        defer { nesting -= 1 }
        let first = try orExpression()
        if isName("if") {
            position += 1
            let condition = try orExpression()
            var otherwise: Expr?
            if isName("else") {
                position += 1
                otherwise = try expression()
            }
            return try made(.conditional(first, condition: condition, otherwise: otherwise))
        }
        // A bare tuple `a, b` is only read where a statement allows it; here it ends the expression.
        return first
    }

    private mutating func orExpression() throws(TemplateError) -> Expr {
        var left = try andExpression()
        while isName("or") {
            position += 1
            left = try made(.or(left, try andExpression()))
        }
        return left
    }

    private mutating func andExpression() throws(TemplateError) -> Expr {
        var left = try notExpression()
        while isName("and") {
            position += 1
            left = try made(.and(left, try notExpression()))
        }
        return left
    }

    private mutating func notExpression() throws(TemplateError) -> Expr {
        if isName("not") {
            position += 1
            try enter()
            defer { nesting -= 1 }
            return try made(.not(try notExpression()))
        }
        return try comparison()
    }

    private mutating func comparison() throws(TemplateError) -> Expr {
        let line = lastLine
        let left = try sum()
        var rest: [(String, Expr)] = []
        while let token = peek {
            if case .op(let op) = token.kind, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                position += 1
                rest.append((op, try sum()))
            } else if token.kind == .name("in") {
                position += 1
                rest.append(("in", try sum()))
            } else if token.kind == .name("not"), position + 1 < tokens.count, tokens[position + 1].kind == .name("in") {
                position += 2
                rest.append(("not in", try sum()))
            } else {
                break
            }
        }
        return rest.isEmpty ? left : try made(.compare(left, rest, line: line))
    }

    private mutating func sum() throws(TemplateError) -> Expr {
        var left = try concat()
        while let token = peek, token.kind == .op("+") || token.kind == .op("-") {
            position += 1
            guard case .op(let op) = token.kind else { break }
            left = try made(.binary(op, left, try concat(), line: token.line))
        }
        return left
    }

    private mutating func concat() throws(TemplateError) -> Expr {
        var left = try product()
        while let token = peek, token.kind == .op("~") {
            position += 1
            left = try made(.binary("~", left, try product(), line: token.line))
        }
        return left
    }

    private mutating func product() throws(TemplateError) -> Expr {
        var left = try power()
        while let token = peek, case .op(let op) = token.kind, ["*", "/", "//", "%"].contains(op) {
            position += 1
            left = try made(.binary(op, left, try power(), line: token.line))
        }
        return left
    }

    private mutating func power() throws(TemplateError) -> Expr {
        var left = try unary()
        while let token = peek, token.kind == .op("**") {
            position += 1
            left = try made(.binary("**", left, try unary(), line: token.line))
        }
        return left
    }

    private mutating func unary() throws(TemplateError) -> Expr {
        if let token = peek, token.kind == .op("-") || token.kind == .op("+") {
            position += 1
            guard case .op(let op) = token.kind else { throw unexpected("an expression") }
            try enter()
            defer { nesting -= 1 }
            return try filtersAndTests(try made(.unary(op, try unary(withFilters: false), line: token.line)))
        }
        return try unary(withFilters: true)
    }

    private mutating func unary(withFilters: Bool) throws(TemplateError) -> Expr {
        if let token = peek, token.kind == .op("-") || token.kind == .op("+") {
            position += 1
            guard case .op(let op) = token.kind else { throw unexpected("an expression") }
            try enter()
            defer { nesting -= 1 }
            return try made(.unary(op, try unary(withFilters: false), line: token.line))
        }
        let node = try postfix(try primary())
        return withFilters ? try filtersAndTests(node) : node
    }

    private mutating func filtersAndTests(_ start: Expr) throws(TemplateError) -> Expr {
        var node = start
        while true {
            if isOp("|") {
                let line = lastLine
                position += 1
                let name = try dottedName()
                var (args, kwargs): ([Expr], [(String, Expr)]) = ([], [])
                if isOp("(") { (args, kwargs) = try arguments() }
                node = try made(.filter(node, name: name, args: args, kwargs: kwargs, line: line))
            } else if isName("is") {
                let line = lastLine
                position += 1
                var negated = false
                if isName("not") {
                    position += 1
                    negated = true
                }
                let name = try dottedName()
                var args: [Expr] = []
                if isOp("(") {
                    args = try arguments().0
                } else if let token = peek, Self.startsTestArgument(token.kind) {
                    // `x is divisibleby 3`, `v is version '2.0', '>='`: one bare argument.
                    args = [try primary()]
                }
                node = try made(.test(node, name: name, args: args, negated: negated, line: line))
            } else {
                return node
            }
        }
    }

    /// Whether a token can start a test's bare argument (`is sameas false`).
    private static func startsTestArgument(_ kind: Token.Kind) -> Bool {
        switch kind {
        case .string, .int, .float: true
        case .name(let n): !["and", "or", "if", "else", "not", "in", "is"].contains(n)
        case .op(let o): o == "[" || o == "{"
        default: false
        }
    }

    /// `ansible.builtin.to_json` is `to_json`.
    private mutating func dottedName() throws(TemplateError) -> String {
        var name = try identifier()
        while isOp("."), position + 1 < tokens.count, case .name = tokens[position + 1].kind {
            position += 1
            name = try identifier()
        }
        return name
    }

    private mutating func arguments() throws(TemplateError) -> ([Expr], [(String, Expr)]) {
        try expect("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if case .name(let name)? = peek?.kind, position + 1 < tokens.count, tokens[position + 1].kind == .op("=") {
                position += 2
                kwargs.append((name, try expression()))
            } else {
                guard kwargs.isEmpty else { throw TemplateError("positional argument after keyword argument", line: lastLine) }
                args.append(try expression())
            }
            if isOp(",") { position += 1 } else { break }
        }
        try expect(")")
        return (args, kwargs)
    }

    private mutating func primary() throws(TemplateError) -> Expr {
        guard let token = next() else { throw TemplateError("unexpected end of template, expected an expression", line: lastLine) }
        switch token.kind {
        case .string(var s):
            // Adjacent literals join, as in Python.
            while case .string(let more)? = peek?.kind {
                s += more
                position += 1
            }
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .float(let d): return .literal(.float(d))
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name, line: token.line)
            }
        case .op("("):
            if isOp(")") {
                position += 1
                return .tuple([])
            }
            let first = try expression()
            if isOp(",") {
                var items = [first]
                while isOp(",") {
                    position += 1
                    if isOp(")") { break }
                    items.append(try expression())
                }
                try expect(")")
                return .tuple(items)
            }
            try expect(")")
            return first
        case .op("["):
            var items: [Expr] = []
            while !isOp("]") {
                items.append(try expression())
                if isOp(",") { position += 1 } else { break }
            }
            try expect("]")
            return .list(items)
        case .op("{"):
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                let key = try expression()
                try expect(":")
                pairs.append((key, try expression()))
                if isOp(",") { position += 1 } else { break }
            }
            try expect("}")
            return .dict(pairs)
        default:
            throw TemplateError("unexpected \(describe(token)), expected an expression", line: token.line)
        }
    }

    private mutating func postfix(_ start: Expr) throws(TemplateError) -> Expr {
        var node = start
        while let token = peek {
            if token.kind == .op(".") {
                position += 1
                guard let next = next() else { throw unexpected("a name") }
                switch next.kind {
                case .name(let name): node = try made(.attribute(node, name, line: token.line))
                case .int(let i): node = try made(.item(node, .literal(.int(i)), line: token.line))
                default: throw TemplateError("expected a name after '.', got \(describe(next))", line: token.line)
                }
            } else if token.kind == .op("[") {
                position += 1
                var start: Expr?
                if !isOp(":") { start = try expression() }
                if isOp(":") {
                    position += 1
                    var stop: Expr?
                    var step: Expr?
                    if !isOp("]"), !isOp(":") { stop = try expression() }
                    if isOp(":") {
                        position += 1
                        if !isOp("]") { step = try expression() }
                    }
                    try expect("]")
                    node = try made(.slice(node, start: start, stop: stop, step: step, line: token.line))
                } else {
                    try expect("]")
                    guard let start else { throw unexpected("an index") }
                    node = try made(.item(node, start, line: token.line))
                }
            } else if token.kind == .op("(") {
                let (args, kwargs) = try arguments()
                node = try made(.call(node, args: args, kwargs: kwargs, line: token.line))
            } else {
                return node
            }
        }
        return node
    }
}
