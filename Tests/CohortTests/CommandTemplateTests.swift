import CohortCore
import CohortTestSupport
import Foundation
import Testing

@testable import Cohort

/// Every replacement string, in every shell position, against values built to break out: the
/// rendered line is run by a real /bin/sh and must print each value exactly, and run nothing.
@Suite struct CommandTemplateTests {
    static let hostile = [
        "$(touch pwned)", "`touch pwned`", "a'b", "\"a b\"", #"a\b\\c"#, ";touch pwned;", "x\ny", "$HOME", "*",
        "dir/sub.tar.gz", "'$(touch pwned)'", "\"$(touch pwned)\"", "\\", "!", "{}", " lead", "", "a)b", "a(b", "'", "\"",
        "${IFS}x", "it's \"$(touch pwned)\" `touch pwned`",
    ]
    static let strings = ["{}", "{.}", "{/}", "{//}", "{/.}", "{1}", "{1/.}", "{1//}"]

    /// Positions: bare, single-quoted, double-quoted, glued to text, inside $(…) and backquotes.
    static let positions: [(name: String, wrap: @Sendable (String) -> String, stripsNewlines: Bool)] = [
        ("bare", { $0 }, false),
        ("single", { "'\($0)'" }, false),
        ("double", { "\"\($0)\"" }, false),
        ("glued bare", { "x\($0)y" }, false),
        ("glued single", { "'x\($0)y'" }, false),
        ("glued double", { "\"x\($0)y\"" }, false),
        ("substitution", { "\"$(printf '%s' \($0))\"" }, true),
        ("substitution double", { "\"$(printf '%s' \"\($0)\")\"" }, true),
        ("backquote", { "\"`printf '%s' \($0)`\"" }, true),
    ]

    @Test(arguments: 0..<positions.count)
    func valuesStayLiteralInEveryPosition(position: Int) async throws {
        let (name, wrap, strips) = Self.positions[position]
        let dir = NSTemporaryDirectory() + "cohort-template-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let template = CommandTemplate(["cd", ShellQuote.quote(dir), "&&", "printf", "'%s\\0'"] + Self.strings.map(wrap))
        var script = ""
        var expected: [String] = []
        for value in Self.hostile {
            script += template.render(inputs: [value], sequence: 1, slot: 1) + "\n"
            for string in Self.strings {
                let inner = String(string.dropFirst().dropLast())
                let transform = String(inner.drop { $0.isNumber })
                var literal = CommandTemplate.apply(transform, value)
                if strips { while literal.hasSuffix("\n") { literal.removeLast() } }
                switch name {
                case "glued bare", "glued single", "glued double": literal = "x" + literal + "y"
                default: break
                }
                expected.append(literal)
            }
        }
        let result = try await Shell.run("/bin/sh", ["-c", script])
        #expect(result.status == 0, "\(name): \(result.stderr)")
        var printed = result.stdoutBytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if printed.last == "" { printed.removeLast() }
        #expect(printed == expected, "\(name)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"), "\(name): a value ran as a command")
    }

    @Test func aTemplateWithoutReplacementStringsGetsTheInputsQuoted() {
        let template = CommandTemplate(["echo"])
        #expect(template.render(inputs: ["$(x)", "a b"], sequence: 1, slot: 1) == "echo '$(x)' 'a b'")
    }

    @Test func severalInputsInsideQuotesStayOneString() {
        let template = CommandTemplate(["echo", "\"{}\""])
        #expect(template.render(inputs: ["a", "$b"], sequence: 1, slot: 1) == #"echo "a \$b""#)
    }

    @Test func sequenceAndSlotAreNumbers() {
        let template = CommandTemplate(["echo", "'{#}'", "{%}"])
        #expect(template.render(inputs: ["a"], sequence: 7, slot: 3) == "echo '7' 3")
    }
}
