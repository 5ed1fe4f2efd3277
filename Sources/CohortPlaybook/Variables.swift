import CohortTemplate

/// One host's variables, in Ansible's precedence (lowest first): inventory group and host
/// vars, facts, play `vars`, `vars_files`, block vars, task vars, loop variables, `set_fact`
/// and registered results, extra vars. Variables written by people (inventory, play, block,
/// task and extra vars) are templated when used, lazily and recursively, as in Ansible;
/// facts and registered results are data and never templated.
public struct HostVariables: Sendable {
    /// Every role's `defaults/` in the play: the lowest of all.
    public var roleDefaults: [String: Value] = [:]
    public var inventory: [String: Value] = [:]
    public var facts = Dict()
    public var play: [String: Value] = [:]
    public var setFacts: [String: Value] = [:]
    /// `include_vars`: templates like play vars, above task vars, below `set_fact`.
    public var included: [String: Value] = [:]
    public var extra: [String: Value] = [:]
    /// `inventory_hostname`, `groups`, `ansible_check_mode`…: set by the runner.
    public var magic: [String: Value] = [:]

    public init() {}

    /// A view for one task: its blocks' and its own `vars`, innermost last, and loop variables;
    /// `defaults`, its roles' `defaults/` (outermost first), above the play's role defaults and
    /// below the inventory.
    public func scope(
        task layers: [[(String, Value)]] = [], defaults: [[(String, Value)]] = [], loop: [String: Value] = [:], environment: Environment,
        hostvars: (@Sendable () -> Value)? = nil
    ) -> Scope {
        var templated: [String: Value] = roleDefaults
        for layer in defaults { for (key, value) in layer { templated[key] = value } }
        for (key, value) in inventory { templated[key] = value }
        for (key, value) in play { templated[key] = value }
        for layer in layers { for (key, value) in layer { templated[key] = value } }
        for (key, value) in included { templated[key] = value }
        var data: [String: Value] = [:]
        data["ansible_facts"] = .dict(facts)
        for (key, value) in facts.pairs { data["ansible_" + key.pythonString] = value }
        // One budget for everything this task evaluates, its loop items and nested variables too.
        var environment = environment
        environment.sharedFuel = Fuel(environment.fuel)
        return Scope(
            templated: templated, data: data, loop: loop, facts: setFacts, extra: extra, magic: magic, environment: environment,
            hostvars: hostvars)
    }
}

/// The variables one template sees; `render` resolves a value's templates with them.
public struct Scope: Sendable {
    let templated: [String: Value]
    let data: [String: Value]
    let loop: [String: Value]
    let facts: [String: Value]
    let extra: [String: Value]
    let magic: [String: Value]
    public let environment: Environment
    let hostvars: (@Sendable () -> Value)?

    /// How deep variables may use variables (Ansible's bound is Python's recursion limit).
    static let maxDepth = 32

    /// The lookup a template uses: each variable found rendered first (at `depth`).
    public func lookup(depth: Int) -> @Sendable (String) -> Value? {
        lookup(resolving: [])
    }

    /// `resolving` holds the variables whose values are being rendered, outermost first: one
    /// met again is a recursive loop, an error of the whole evaluation as in Ansible (never a
    /// value that `default` could replace).
    func lookup(resolving: [String]) -> @Sendable (String) -> Value? {
        let scope = self
        return { name in
            if let value = scope.extra[name] { return scope.resolved(name, value, resolving) }
            if let value = scope.facts[name] { return value }
            if let value = scope.loop[name] { return value }
            if let value = scope.templated[name] { return scope.resolved(name, value, resolving) }
            if let value = scope.data[name] { return value }
            if let value = scope.magic[name] { return value }
            if name == "hostvars", let hostvars = scope.hostvars { return hostvars() }
            return nil
        }
    }

    private func resolved(_ name: String, _ value: Value, _ resolving: [String]) -> Value {
        guard Self.holdsTemplate(value) else { return value }
        if resolving.contains(name) || resolving.count >= Self.maxDepth {
            let chain = (resolving + [name]).joined(separator: " -> ")
            let message = resolving.contains(name) ? "Recursive loop detected in template: \(chain)" : "variables nested more than \(Self.maxDepth) deep: \(chain)"
            environment.sharedFuel?.fail(TemplateError(message))
            return .undefined(why: message)
        }
        do { return try render(value, resolving: resolving + [name]) } catch { return .undefined(why: error.message) }
    }

    static func holdsTemplate(_ value: Value) -> Bool {
        switch value {
        case .string(let text): Template.isTemplate(text)
        case .list(let items): items.contains(where: holdsTemplate)
        case .dict(let dict): dict.keys.contains(where: holdsTemplate) || dict.values.contains(where: holdsTemplate)
        default: false
        }
    }

    /// `value` with every string in it rendered as a template (lists and dicts deeply).
    public func render(_ value: Value) throws(TemplateError) -> Value {
        try render(value, resolving: [])
    }

    func render(_ value: Value, resolving: [String]) throws(TemplateError) -> Value {
        switch value {
        case .string(let text):
            guard Template.isTemplate(text) else { return value }
            return try Template.parsed(text).render(lookup(resolving: resolving), in: environment)
        case .list(let items):
            var out: [Value] = []
            for item in items { out.append(try render(item, resolving: resolving)) }
            return .list(out)
        case .dict(let dict):
            var out = Dict()
            for (key, item) in dict.pairs { out[try render(key, resolving: resolving)] = try render(item, resolving: resolving) }
            return .dict(out)
        default:
            return value
        }
    }

    /// A text argument, rendered and read as text.
    public func text(_ value: Value) throws(TemplateError) -> String {
        try render(value).pythonString
    }

    /// A `when:` list: all must hold (each a bare expression, braces allowed).
    public func conditions(_ list: [String]) throws(TemplateError) -> Bool {
        for condition in list where try !self.condition(condition) { return false }
        return true
    }

    public func condition(_ source: String) throws(TemplateError) -> Bool {
        var text = source.trimmed
        // `when: "{{ x }}"` is allowed (and warned about) by Ansible: the braces go.
        if text.hasPrefix("{{"), text.hasSuffix("}}"), !text.dropFirst(2).contains("{{") {
            text = String(text.dropFirst(2).dropLast(2))
        }
        switch text {
        case "True", "true": return true
        case "False", "false": return false
        default: return try Expression.parsed(text).condition(lookup(depth: 0), in: environment)
        }
    }

    /// The scope with more loop variables (`item`, the index) or registered results.
    public func adding(loop more: [String: Value]) -> Scope {
        Scope(
            templated: templated, data: data, loop: loop.merging(more) { $1 }, facts: facts, extra: extra, magic: magic, environment: environment,
            hostvars: hostvars)
    }

    public func adding(facts more: [String: Value]) -> Scope {
        Scope(
            templated: templated, data: data, loop: loop, facts: facts.merging(more) { $1 }, extra: extra, magic: magic, environment: environment,
            hostvars: hostvars)
    }
}
