/// A parsed Jinja2 template, rendered as Ansible 2.19 renders it: a template that is one
/// `{{ expression }}` and nothing else gives that expression's own value (`"{{ 3 }}"` is the
/// integer 3), anything else gives text.
public struct Template: Sendable {
    let nodes: [Node]
    public let source: String

    /// One newline at the very end is set aside before parsing (Jinja's default) and put back
    /// on a text result (Ansible's): `"{{ n }}\n"` is still the integer, text keeps its newline.
    let trailingNewline: Bool

    /// `keepTrailingNewline` parses the source whole, as the `template` module does (a final
    /// newline right after a block tag is then eaten by `trim_blocks`).
    public init(_ source: String, keepTrailingNewline: Bool = false) throws(TemplateError) {
        self.source = source
        trailingNewline = !keepTrailingNewline && source.hasSuffix("\n")
        nodes = try Parser.parse(trailingNewline ? String(source.dropLast()) : source)
    }

    /// Whether `text` holds any template syntax at all (Ansible leaves other strings alone).
    public static func isTemplate(_ text: String) -> Bool {
        text.contains("{{") || text.contains("{%") || text.contains("{#")
    }

    public func render(_ variables: @escaping @Sendable (String) -> Value?, in environment: Environment = Environment()) throws(TemplateError) -> Value {
        var renderer = Renderer(environment: environment, globals: variables)
        var out = Renderer.Output()
        try renderer.run(nodes, into: &out)
        let value: Value
        switch out.pieces.count {
        case 0: value = .none
        case 1: value = out.pieces[0]
        default: value = .string(out.text)
        }
        if trailingNewline, case .string(let text) = value { return .string(text + "\n") }
        return value
    }

    public func render(_ variables: [String: Value], in environment: Environment = Environment()) throws(TemplateError) -> Value {
        try render({ variables[$0] }, in: environment)
    }
}

/// An expression on its own, as `when:`, `changed_when:`, `failed_when:` and `that:` hold.
public struct Expression: Sendable {
    let expr: Expr
    public let source: String

    public init(_ source: String) throws(TemplateError) {
        self.source = source
        expr = try Parser.parseExpression(source)
    }

    public func evaluate(_ variables: @escaping @Sendable (String) -> Value?, in environment: Environment = Environment()) throws(TemplateError) -> Value {
        var renderer = Renderer(environment: environment, globals: variables)
        return try renderer.evaluate(expr)
    }

    /// A conditional: Ansible 2.19 wants a boolean and says so otherwise.
    public func condition(_ variables: @escaping @Sendable (String) -> Value?, in environment: Environment = Environment()) throws(TemplateError) -> Bool {
        let value = try evaluate(variables, in: environment)
        switch value {
        case .bool(let b): return b
        case .undefined(let why): throw TemplateError(why)
        default:
            throw TemplateError(
                "Conditional result (\(value.truthy ? "True" : "False")) was derived from value of type '\(value.typeName)' at '\(source)'. Conditionals must have a boolean result.")
        }
    }
}

/// What a template may call beyond the built-in filters and tests: filters that need IO or
/// libraries the pure core does not link (YAML, hashes), `lookup()` plugins, and the bound on
/// work per render.
public struct Environment: Sendable {
    /// A filter or lookup may throw anything; a `TemplateError` keeps its words, any other
    /// error is described.
    public typealias Filter = @Sendable (_ input: Value, _ args: [Value], _ kwargs: [String: Value]) throws -> Value
    public typealias Lookup = @Sendable (_ args: [Value], _ kwargs: [String: Value]) throws -> Value

    public var filters: [String: Filter] = [:]
    public var lookups: [String: Lookup] = [:]
    /// Evaluation steps one render may take: a hostile template cannot spin forever.
    public var fuel = 5_000_000
    /// The longest list or string one operation may build.
    public var maxSize = 10_000_000

    public init() {}
}
