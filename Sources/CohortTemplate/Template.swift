/// A parsed Jinja2 template, rendered as Ansible 2.19 renders it: a template that is one
/// `{{ expression }}` and nothing else gives that expression's own value (`"{{ 3 }}"` is the
/// integer 3), anything else gives text.
public struct Template: Sendable {
    let nodes: [Node]
    public let source: String

    /// One newline at the very end is set aside before parsing (Jinja's default); a text
    /// result then gets back as many final newlines as it lacks against the source (Ansible's
    /// `preserve_trailing_newlines`): `"{{ n }}\n"` is still the integer 3.
    let trailingNewlines: Int

    public init(_ source: String) throws(TemplateError) {
        self.source = source
        trailingNewlines = source.reversed().prefix { $0 == "\n" }.count
        nodes = try Parser.parse(trailingNewlines > 0 ? String(source.dropLast()) : source)
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
        // Searched only when this render made a timedelta: a big list or hostvars is not
        // walked again on every render.
        if renderer.madeSpan, value.storedSpan != nil { throw TemplateError("Type 'timedelta' is unsupported for variable storage.") }
        if trailingNewlines > 0, case .string(let text) = value {
            let have = text.reversed().prefix { $0 == "\n" }.count
            if have < trailingNewlines { return .string(text + String(repeating: "\n", count: trailingNewlines - have)) }
        }
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

    /// A lookup that renders with the caller's variables (`template`): its terms and options,
    /// the variables the render sees, and the environment to render in; it gives its list.
    public typealias VariableLookup = @Sendable (
        _ terms: [Value], _ kwargs: [String: Value], _ variables: @escaping @Sendable (String) -> Value?, _ environment: Environment
    ) throws -> [Value]

    public var filters: [String: Filter] = [:]
    public var lookups: [String: Lookup] = [:]
    public var variableLookups: [String: VariableLookup] = [:]
    /// Renders nested in this one through a `VariableLookup`: bounded (`maxRenderDepth`), so
    /// a template that looks itself up is an error, not a stack overflow.
    public var renderDepth = 0
    public static let maxRenderDepth = 20
    /// Evaluation steps one render may take: a hostile template cannot spin forever.
    public var fuel = 5_000_000
    /// A budget shared by every render that uses this environment (one task's whole
    /// evaluation); nil gives each render `fuel` steps of its own.
    public var sharedFuel: Fuel?
    /// The longest list or string one operation may build.
    public var maxSize = 10_000_000

    public init() {}
}
