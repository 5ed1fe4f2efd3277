import CohortCore
import Testing

@Suite struct NodeSetTests {
    @Test func foldsNumberedHostsIntoRanges() {
        #expect(NodeSet.fold(["web01", "web02", "web03", "web07"]) == "web[01-03,07]")
        #expect(NodeSet.fold(["h1", "h2", "h3", "h10"]) == "h[1-3,10]")
        #expect(NodeSet.fold(["db", "h2", "h1"]) == "db,h[1-2]")
        // Folds on the last number, as one-dimensional ClusterShell folding does.
        #expect(NodeSet.fold(["n1.dc1", "n2.dc1", "n1.dc2"]) == "n1.dc[1-2],n2.dc1")
        #expect(NodeSet.fold(["solo7"]) == "solo7")
        #expect(NodeSet.fold(["a", "a"]) == "a")
    }
}

@Suite struct ShellQuoteTests {
    @Test func quotesWordsThatTheShellWouldInterpret() {
        #expect(ShellQuote.quote("plain-word_1.txt") == "plain-word_1.txt")
        #expect(ShellQuote.quote("") == "''")
        #expect(ShellQuote.quote("a b") == "'a b'")
        #expect(ShellQuote.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuote.quote("$(rm -rf /)") == "'$(rm -rf /)'")
    }

    @Test func oneWordIsACommandLineSeveralAreAnArgv() {
        #expect(ShellQuote.commandLine(["echo $HOME | wc -c"]) == "echo $HOME | wc -c")
        #expect(ShellQuote.commandLine(["printf", "%s\\n", "a b", ";reboot"]) == #"printf '%s\n' 'a b' ';reboot'"#)
    }
}

@Suite struct ExitCodeTests {
    @Test func eachErrorKindHasOneExitCode() {
        #expect(CohortExitCode(for: CohortError(.invalidInput, "")) == .invalidInput)
        #expect(CohortExitCode(for: CohortError(.noHostsMatched, "")) == .invalidInput)
        #expect(CohortExitCode(for: CohortError(.hostKeyUnknown, "")) == .securityRefused)
        #expect(CohortExitCode(for: CohortError(.hostKeyChanged, "")) == .securityRefused)
        #expect(CohortExitCode(for: CohortError(.authenticationFailed, "")) == .securityRefused)
        for code in [CohortError.Code.dnsFailure, .connectionRefused, .connectTimeout, .noSSHBanner, .transportLost, .noExitStatus] {
            #expect(CohortExitCode(for: CohortError(code, "")) == .unreachable)
        }
    }

    @Test func errorsReadAsFileLineOrHost() {
        #expect(CohortError(.invalidInput, "bad", file: "inv.ini", line: 3).description == "inv.ini:3: bad")
        #expect(CohortError(.transportLost, "gone", host: "web1").description == "web1: gone")
    }
}

extension CohortError.Code {
    /// A code a library user (or a later Cohort module) adds.
    static let exampleAdded = CohortError.Code("exampleAdded")
}

@Suite struct ErrorCodeTests {
    @Test func codesAreGrowableAndKeepTheirNames() {
        let error = CohortError(.exampleAdded, "new kind of failure")
        #expect(error.code == .exampleAdded)
        #expect(error.code != .invalidInput)
        #expect(CohortError.Code.transportLost.rawValue == "transportLost")
        let kind: String
        switch error.code {
        case .invalidInput: kind = "input"
        case .exampleAdded: kind = "added"
        default: kind = "other"
        }
        #expect(kind == "added")
        #expect(CohortExitCode(for: error) == .commandFailed)
    }
}

@Suite struct PrintableTests {
    @Test func controlsAndNameBytesAreEscapedAndTheRestIsKept() {
        #expect(Printable.escaped("web1") == "web1")
        #expect(Printable.escaped("a\nb\tc\u{1b}[2J") == "a\\nb\\tc\\x1b[2J")
        #expect(Printable.escaped("line\u{2028}sep") == "line\\u{2028}sep")
        #expect(Printable.escaped("café 日本") == "café 日本")
        // U+10FFE9 stands for the byte 0xE9 of a name that is not UTF-8 (CohortWire's OSName).
        #expect(Printable.escaped("caf\u{10FFE9}") == "caf\\xe9")
        #expect(Printable.nameBytesEscaped("caf\u{10FFE9}\n") == "caf\\xe9\n")
    }
}
