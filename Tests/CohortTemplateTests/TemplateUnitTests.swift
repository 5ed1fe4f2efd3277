import CohortTestSupport
import Testing

@testable import CohortTemplate

/// The engine's own promises, without the oracle: errors say where, hostile templates stop,
/// and no input crashes it.
@Suite struct TemplateUnitTests {
    static func render(_ source: String, _ variables: [String: Value] = [:]) throws -> Value {
        try Template(source).render(variables)
    }

    @Test func anUndefinedVariableIsNamedWithItsLine() throws {
        #expect(throws: TemplateError("'missing' is undefined", line: 3)) { try Self.render("a\nb\n{{ missing }}") }
        #expect(throws: TemplateError("'dict object' has no attribute 'port'", line: 1)) { try Self.render("{{ d.port }}", ["d": ["host": "x"]]) }
        #expect(try Self.render("{{ missing | default('x') }}") == "x")
        #expect(try Expression("missing is defined").condition { _ in nil } == false)
    }

    @Test func syntaxErrorsSayWhatAndWhere() {
        #expect(throws: TemplateError("unexpected end of template: expected one of 'else', 'endfor'", line: 2)) {
            try Template("{% for x in y %}\n{{ x }}")
        }
        #expect(throws: TemplateError("unsupported tag 'macro' (supported: if, for, set, raw)", line: 1)) { try Template("{% macro m() %}{% endmacro %}") }
        #expect(throws: TemplateError("unterminated string", line: 1)) { try Template("{{ 'abc }}") }
        #expect(throws: TemplateError("unexpected end of template: }} expected", line: 1)) { try Template("{{ 1 + ") }
        #expect(throws: TemplateError("no filter named 'shout'", line: 1)) { try Self.render("{{ 1 | shout }}") }
    }

    @Test func aConditionMustBeABoolean() throws {
        #expect(try Expression("n > 1").condition { _ in .int(3) })
        #expect(throws: TemplateError(
            "Conditional result (True) was derived from value of type 'int' at 'n'. Conditionals must have a boolean result.")) {
            try Expression("n").condition { _ in .int(3) }
        }
    }

    @Test func aHostileTemplateRunsOutOfFuelOrRoom() {
        var small = Environment()
        small.fuel = 10_000
        #expect(throws: TemplateError.self) {
            try Template("{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}").render([:], in: small)
        }
        #expect(throws: TemplateError.self) { try Self.render("{{ 'x' * 100000000000 }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ range(100000000000) | list }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ 2 ** 100000 }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ 9223372036854775807 + 1 }}") }
    }

    /// The output bound counts what printing builds: a list of a million items is not 8 bytes.
    @Test func printingABigValueManyTimesIsBounded() throws {
        let source = "{% set l = range(1000000) | list %}" + String(repeating: "{{ l }}", count: 400)
        #expect(throws: TemplateError("the template's output is over 10000000 bytes")) { try Self.render(source) }
        let shared = "{% set big = ['x' * 1000000] * 1000 %}{{ big | length }}"
        #expect(try Self.render(shared) == .int(1000))
        #expect(throws: TemplateError.self) { try Self.render("{% set big = ['x' * 1000000] * 1000 %}{{ big }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ [[['x'] * 5000000] * 5000000] | flatten | length }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ (['x' * 1000000] * 100) | to_json }}") }
    }

    /// One budget for a whole evaluation: renders nested inside a variable's lookup draw from
    /// it, and once it is gone every render of that evaluation fails.
    @Test func aSharedBudgetBoundsNestedRenders() throws {
        var environment = Environment()
        environment.fuel = 1000
        environment.sharedFuel = Fuel(1000)
        let inner = try Template("{% for i in range(100) %}{{ i }}{% endfor %}")
        let env = environment
        let lookup: @Sendable (String) -> Value? = { name in
            // Each lookup renders a template of ~300 steps; errors become undefined as a
            // variable's lookup does, but the budget stays spent.
            name == "v" ? ((try? inner.render([:], in: env)) ?? .undefined(why: "failed")) : nil
        }
        let error = #expect(throws: TemplateError.self) { try Template("{{ v }}{{ v }}{{ v }}{{ v }}{{ v }}").render(lookup, in: environment) }
        #expect(error?.message == "the template took more than 1000 steps")
        // Without the shared budget each render has its own and all five succeed.
        #expect(try Template("{{ v }}{{ v }}{{ v }}{{ v }}{{ v }}").render({ $0 == "v" ? try? inner.render([:]) : nil }).string?.count == 5 * 190)
    }

    /// Catastrophic backtracking (Python would run for hours) stops on the step budget; a
    /// simple pattern over a large text is never refused.
    @Test func aRegexThatBacktracksForeverRunsOutOfSteps() throws {
        let error = #expect(throws: TemplateError.self) { try Self.render("{{ ('a' * 34 + '!') | regex_search('(a+)+$') }}") }
        #expect(error?.message.contains("catastrophic backtracking") == true, "\(String(describing: error))")
        #expect(throws: TemplateError.self) { try Self.render("{{ ('a' * 40) | regex_replace('(a|aa)*b', 'x') }}") }
        #expect(throws: TemplateError.self) { try Self.render("{{ ('a' * 30) is match('(a*)*b') }}") }
        let big = String(repeating: "word ", count: 200_000) + "needle"
        #expect(try Self.render("{{ t | regex_search('need\\w+') }}", ["t": .string(big)]) == "needle")
        #expect(try Self.render("{{ t | regex_findall('o') | length }}", ["t": .string(big)]) == .int(200_000))
        #expect(throws: TemplateError.self) { try PythonRegex("(" + String(repeating: "a{65535}", count: 3) + ")") }
        #expect(throws: TemplateError.self) { try PythonRegex(String(repeating: "(", count: 200) + String(repeating: ")", count: 200)) }
        #expect(throws: TemplateError.self) { try PythonRegex("a{99999999999999999999}") }
    }

    @Test func nestingTooDeepIsAnErrorNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: TemplateError.self) { try Self.render("{{ \(deep) }}") }
        #expect(throws: TemplateError.self) { try JSON.decode(deep, line: nil) }
        let chain = Array(repeating: "1", count: 5000).joined(separator: " + ")
        #expect(throws: TemplateError("expression too long (over 400 parts)", line: 1)) { try Self.render("{{ \(chain) }}") }
        let nots = String(repeating: "not ", count: 10_000) + "x"
        #expect(throws: TemplateError.self) { try Self.render("{{ \(nots) }}") }
        let ifs = String(repeating: "{% if true %}", count: 10_000)
        #expect(throws: TemplateError.self) { try Self.render(ifs) }
        // Just under the bounds: it evaluates (and is freed) without trouble.
        let longest = Array(repeating: "1", count: 399).joined(separator: " + ")
        #expect(try Self.render("{{ \(longest) }}") == .int(399))
        let nested = String(repeating: "(", count: 45) + "1" + String(repeating: ")", count: 45)
        #expect(try Self.render("{{ \(nested) }}") == .int(1))
    }

    @Test func customFiltersAndLookupsComeFromTheEnvironment() throws {
        var environment = Environment()
        environment.filters["shout"] = { input, _, _ in .string(input.pythonString.uppercased() + "!") }
        environment.lookups["env"] = { args, _ in .string("value-of-" + (args.first?.pythonString ?? "")) }
        #expect(try Template("{{ 'hi' | shout }}").render([:], in: environment) == "HI!")
        #expect(try Template("{{ lookup('env', 'HOME') }}").render([:], in: environment) == "value-of-HOME")
        #expect(throws: TemplateError("lookup plugin 'pipe' is not supported (supported: env)", line: 1)) {
            try Template("{{ lookup('pipe', 'id') }}").render([:], in: environment)
        }
    }

    /// Random bytes from the template alphabet: every one renders or fails with a TemplateError
    /// that says something (no crash, no other error); both happen many times, so the
    /// generator really reaches the parser's and the renderer's paths.
    @Test func noInputCrashesTheEngine() {
        let alphabet = Array("{}%#-+*/()[]'\"|.,: \n abcxyz019ifelsefornotinis~=<>!\\")
        var generator = SplitMix(seed: 2026)
        var (rendered, refused, other) = (0, 0, [String]())
        func outcome(_ body: () throws -> Value) {
            do {
                _ = try body()
                rendered += 1
            } catch let error as TemplateError {
                if error.message.isEmpty { other.append("an empty message") } else { refused += 1 }
            } catch {
                other.append("\(error)")
            }
        }
        for _ in 0..<3000 {
            let length = Int(generator.next() % 40)
            let source = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            outcome { try Template(source).render(["a": 1, "b": [1, 2], "c": ["k": "v"]]) }
            outcome { try Expression(source).evaluate { _ in .int(1) } }
        }
        #expect(other.isEmpty, "\(other.prefix(5))")
        #expect(rendered > 500 && refused > 500, "rendered \(rendered), refused \(refused)")
    }

    /// Parsed templates are kept by source text, within a bound: many distinct texts never
    /// grow the cache past its entries or bytes, and a cached parse renders as a fresh one.
    @Test func theParseCacheIsBounded() throws {
        for n in 0..<(ParseCache.maxEntries + 500) { _ = try Template.parsed("{{ \(n) + x }}") }
        let big = String(repeating: "y", count: 1 << 20)
        for n in 0..<20 { _ = try Template.parsed("{{ \(n) }}" + big) }
        #expect(ParseCache.size.entries <= ParseCache.maxEntries)
        #expect(ParseCache.size.bytes <= ParseCache.maxBytes)
        let source = "{{ x * 2 }} and {{ 'a' | upper }}"
        #expect(try Template.parsed(source).render(["x": 21]) == (try Template(source).render(["x": 21])))
        #expect(try Template.parsed(source).render(["x": 1]) == "2 and A")
    }
}

/// Lookups that render with the caller's variables (`template`): they see the variables, and
/// a template that looks itself up ends in an error at a bounded depth, not a stack overflow.
@Suite struct VariableLookupTests {
    static func environment(source: String) -> Environment {
        var environment = Environment()
        environment.variableLookups["template"] = { terms, _, variables, environment in
            try terms.map { _ in try Template(source).render(variables, in: environment) }
        }
        return environment
    }

    @Test func aLookupRendersWithTheCallersVariables() throws {
        let environment = Self.environment(source: "hello {{ who }}")
        let out = try Template("{{ lookup('template', 'x') }}|{{ query('ansible.builtin.template', 'x', 'y') | length }}")
            .render(["who": "world"], in: environment)
        #expect(out == .string("hello world|2"))
    }

    @Test func aTemplateThatLooksItselfUpIsAnError() {
        let environment = Self.environment(source: "{{ lookup('template', 'self') }}")
        let error = #expect(throws: TemplateError.self) { try Template("{{ lookup('template', 'self') }}").render([:], in: environment) }
        #expect(error?.message.contains("nested more than 20 deep") == true, "\(String(describing: error))")
    }
}
