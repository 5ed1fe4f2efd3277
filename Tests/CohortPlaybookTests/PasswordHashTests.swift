import CohortTemplate
@testable import CohortPlaybook
import Testing

/// SHA-crypt against passlib 1.7.4's output for the same inputs (the specification's own
/// "Hello world!" vectors among them); the template oracle checks the filter against
/// ansible-core itself.
@Suite struct PasswordHashTests {
    static func hashed(_ secret: String, _ args: [Value], _ kwargs: [String: Value] = [:]) throws -> String {
        try PasswordHash.filter(.string(secret), args, kwargs).pythonString
    }

    @Test func hashesAreWhatPasslibWrites() throws {
        #expect(try Self.hashed("Hello world!", ["sha256", "saltstring"], ["rounds": 5000]) == "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")
        #expect(try Self.hashed("Hello world!", ["sha512", "saltstring"], ["rounds": 5000])
            == "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1")
        #expect(try Self.hashed(String(repeating: "a", count: 200), ["sha512", "toolongsaltstrin"], ["rounds": 1000])
            == "$6$rounds=1000$toolongsaltstrin$/DJcCKrlDM1ZQM6247B3RE6nq61hB9Eurgrz1CpMe4fBVKDJ1KeD9BaKvfZmXc46JLzux4p1pgnjjtx.5zDcb.")
    }

    /// Rounds from a template are bounded: passlib's range, and a cap that keeps a hostile
    /// value from holding the coordinator for minutes.
    @Test func roundsAndSaltsAreChecked() {
        #expect(throws: TemplateError.self) { try Self.hashed("s", ["sha512", "ok"], ["rounds": 999]) }
        #expect(throws: TemplateError.self) { try Self.hashed("s", ["sha512", "ok"], ["rounds": .int(Int.max)]) }
        #expect(throws: TemplateError.self) { try Self.hashed("s", ["sha512", "ok"], ["rounds": 50_000_000]) }
        #expect(throws: TemplateError.self) { try Self.hashed("s", ["sha512", "bad!"]) }
        #expect(throws: TemplateError.self) { try Self.hashed("s", ["md5", "ok"]) }
        #expect(throws: TemplateError.self) { try PasswordHash.filter(.int(1), ["sha512", "ok"], [:]) }
    }
}
