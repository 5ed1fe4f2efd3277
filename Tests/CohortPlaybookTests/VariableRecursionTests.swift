import CohortTemplate
import Testing

@testable import CohortPlaybook

/// Variables that use themselves, or each other exponentially: Ansible's "Recursive loop
/// detected in template", and one fuel budget for a task's whole evaluation (issue 21).
@Suite struct VariableRecursionTests {
    /// A task's scope; a smaller budget than the default keeps the debug build's test short.
    static func scope(play: [String: Value] = [:], extra: [String: Value] = [:], fuel: Int = 200_000) -> Scope {
        var variables = HostVariables()
        variables.play = play
        variables.extra = extra
        var environment = Environment()
        environment.fuel = fuel
        return variables.scope(environment: environment)
    }

    @Test func aVariableUsingItselfIsARecursiveLoopNotAValue() throws {
        let scope = Self.scope(play: ["n": "{{ n + 1 }}"])
        let error = #expect(throws: TemplateError.self) { try scope.render("{{ n }}") }
        #expect(error?.message.hasPrefix("Recursive loop detected in template") == true, "\(String(describing: error))")
        // default cannot hide it, as in Ansible.
        let again = Self.scope(play: ["m": "{{ m }}{{ m }}"])
        let hidden = #expect(throws: TemplateError.self) { try again.render("{{ m | default('d') }}") }
        #expect(hidden?.message.hasPrefix("Recursive loop detected in template") == true, "\(String(describing: hidden))")
        // Two variables using each other.
        let pair = Self.scope(play: ["a": "{{ b }}", "b": "x{{ a }}"])
        #expect(throws: TemplateError.self) { try pair.render("{{ a }}") }
    }

    @Test func aChainThatDoublesAtEveryStepRunsOutOfFuelQuickly() throws {
        // 30 deep (under the nesting bound): 2^30 renders unless one budget covers them all.
        var extra: [String: Value] = ["v0": "x"]
        for i in 1...40 { extra["v\(i)"] = .string("{{ v\(i - 1) }}{{ v\(i - 1) }}") }
        let error = #expect(throws: TemplateError.self) { try Self.scope(extra: extra).render("{{ v30 | length }}") }
        #expect(error?.message.hasPrefix("the template took more than") == true, "\(String(describing: error))")
        // 40 deep: past the nesting bound, said as such.
        let deep = #expect(throws: TemplateError.self) { try Self.scope(extra: extra).render("{{ v40 | length }}") }
        #expect(deep?.message.hasPrefix("variables nested more than 32 deep") == true, "\(String(describing: deep))")
        // A chain that is long but not recursive still renders.
        var chain: [String: Value] = ["c0": "end"]
        for i in 1...20 { chain["c\(i)"] = .string("{{ c\(i - 1) }}") }
        #expect(try Self.scope(play: chain).render("{{ c20 }}") == "end")
    }

    @Test func anUndefinedInsideAVariableStillGivesWayToDefault() throws {
        let scope = Self.scope(play: ["x": "{{ missing }}"])
        #expect(try scope.render("{{ x | default('d') }}") == "d")
    }
}

/// `!unsafe` values (in a playbook, `vars_files`, `-e @file`) are data: never templated.
@Suite struct UnsafeValueTests {
    @Test func anUnsafeValueIsItsTextAndNeverATemplate() throws {
        let yaml = """
            secret: !unsafe "{{ lookup('env', 'HOME') }}"
            nested: {list: [!unsafe "{% for x in y %}{#", "{{ 1 + 1 }}"]}
            edge: !unsafe "{{{{ '{' }}\\n{"
            plain: !unsafe no braces
            """
        let vars = try ExtraVars.parse("@vars.yml", read: { _ in yaml })
        var variables = HostVariables()
        for (key, value) in vars { variables.extra[key] = value }
        let scope = variables.scope(environment: Environment())
        #expect(try scope.render("{{ secret }}") == "{{ lookup('env', 'HOME') }}")
        #expect(try scope.render("{{ nested.list }}") == ["{% for x in y %}{#", 2])
        #expect(try scope.render("{{ edge }}") == "{{{{ '{' }}\n{")
        #expect(try scope.render("{{ plain }}") == "no braces")
        #expect(try scope.render("{{ secret | length }}") == .int(27))
    }
}
