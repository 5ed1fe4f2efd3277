@testable import Cohort
import CohortPlaybook
import Testing

/// `assemble`'s delimiter as Python 3.11's `codecs.escape_decode` reads it (rows from Python).
struct EscapeDecodeTests {
    @Test func pythonsRows() {
        let rows: [(String, [UInt8]?)] = [
            (#"a\nb"#, Array("a\nb".utf8)), (#"\x41\101\q"#, Array(#"AA\q"#.utf8)), (#"\\n"#, Array(#"\n"#.utf8)),
            (#"\777"#, [0xFF]), (#"end\"#, nil), (#"\x4"#, nil), ("plain", Array("plain".utf8)),
        ]
        for (input, expected) in rows { #expect(EscapeDecode.bytes(Array(input.utf8)) == expected, "\(input)") }
    }
}
