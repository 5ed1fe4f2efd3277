/// The filters and tests a template names, so that a caller can refuse, before anything runs,
/// one that no engine here provides (a playbook's Python `filter_plugins/`).
public struct UsedNames: Sendable, Equatable {
    /// Each name with the template line it is used on (the first use).
    public var filters: [(name: String, line: Int)] = []
    public var tests: [(name: String, line: Int)] = []

    public static func == (a: UsedNames, b: UsedNames) -> Bool {
        a.filters.map(\.name) == b.filters.map(\.name) && a.tests.map(\.name) == b.tests.map(\.name)
    }

    /// Jinja's and Ansible's filters and tests that the engine itself provides.
    public static let builtinFilters = Set(Filters.names)
    public static let builtinTests = Set(TestFunctions.names)

    mutating func visit(_ nodes: [Node]) {
        for node in nodes {
            switch node {
            case .text: break
            case .output(let e): visit(e)
            case .ifChain(let chain, let otherwise):
                for (condition, body) in chain {
                    visit(condition)
                    visit(body)
                }
                visit(otherwise)
            case .forLoop(_, let iterable, let filter, let body, let otherwise, _):
                visit(iterable)
                if let filter { visit(filter) }
                visit(body)
                visit(otherwise)
            case .set(_, let value): visit(value)
            case .setBlock(_, let body): visit(body)
            }
        }
    }

    mutating func visit(_ expr: Expr) {
        switch expr {
        case .literal, .name: break
        case .list(let items), .tuple(let items): items.forEach { visit($0) }
        case .dict(let pairs): for (k, v) in pairs { visit(k); visit(v) }
        case .attribute(let e, _, _): visit(e)
        case .item(let e, let i, _): visit(e); visit(i)
        case .slice(let e, let a, let b, let c, _): visit(e); [a, b, c].compactMap { $0 }.forEach { visit($0) }
        case .call(let e, let args, let kwargs, _): visit(e); args.forEach { visit($0) }; kwargs.forEach { visit($0.1) }
        case .filter(let e, let name, let args, let kwargs, let line):
            if !filters.contains(where: { $0.name == name }) { filters.append((name, line)) }
            visit(e); args.forEach { visit($0) }; kwargs.forEach { visit($0.1) }
        case .test(let e, let name, let args, _, let line):
            if !tests.contains(where: { $0.name == name }) { tests.append((name, line)) }
            visit(e); args.forEach { visit($0) }
        case .unary(_, let e, _), .not(let e): visit(e)
        case .binary(_, let a, let b, _), .and(let a, let b), .or(let a, let b): visit(a); visit(b)
        case .compare(let e, let rest, _): visit(e); rest.forEach { visit($0.1) }
        case .conditional(let e, let c, let o): visit(e); visit(c); if let o { visit(o) }
        }
    }
}

extension Template {
    /// The filters and tests this template names.
    public var usedNames: UsedNames {
        var names = UsedNames()
        names.visit(nodes)
        return names
    }
}

extension Expression {
    public var usedNames: UsedNames {
        var names = UsedNames()
        names.visit(expr)
        return names
    }
}
