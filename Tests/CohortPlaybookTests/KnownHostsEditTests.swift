import CohortPlaybook
import Foundation
import Testing

/// `KnownHostsEdit` against ansible-core 2.19's `known_hosts` module: each expectation is what
/// its `search_for_host_key` (given the same recorded `ssh-keygen -F` answer) and
/// `compute_diff` returned for the same input.
struct KnownHostsEditTests {
    static let a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJlEufWKP96WGPTsmHtl7d2Lclk2sinfDMdDnBLRp6J4"
    static let b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICb7Rs3vQksRoPALaRk/l0HuOHrauFuM7ZL9PEDP5oI1"
    static let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC"

    @Test func searchingSshKeygensAnswer() throws {
        let (a, b) = (Self.a, Self.b)
        let rows: [(String, String, KnownHostsEdit.Search)] = [
            ("# Host git.test found: line 2\ngit.test \(a)\n", "git.test \(a) cmt\n", .init(found: true, replaceOrAdd: false, foundLine: 2)),
            ("# Host git.test found: line 2\ngit.test \(a)\n", "git.test \(b)\n", .init(found: true, replaceOrAdd: true, foundLine: 2)),
            ("# Host git.test found: line 1\ngit.test,1.2.3.4 \(a)\n", "git.test \(a)\n", .init(found: true, replaceOrAdd: true, foundLine: 1)),
            ("# Host git.test found: line 3\ngit.test \(Self.rsa)\n", "git.test \(a)\n", .init(found: true, replaceOrAdd: true, foundLine: nil)),
            ("# Host git.test found: line 1\n|1|abc=|def= \(a)\n", "|1|zzz=|yyy= \(a)\n", .init(found: true, replaceOrAdd: false, foundLine: 1)),
            (
                "# Host git.test found: line 4\n@cert-authority git.test \(a)\n# Host git.test found: line 5\ngit.test \(b)\n", "git.test \(b)\n",
                .init(found: true, replaceOrAdd: false, foundLine: 5)
            ),
            ("# Host git.test found: line 4\n@cert-authority git.test \(a)\n", "@cert-authority git.test \(a)\n", .init(found: true, replaceOrAdd: false, foundLine: 4)),
        ]
        for (output, key, expected) in rows {
            #expect(try KnownHostsEdit.search(keygenOutput: output, key: key) == expected, "\(output)")
        }
        #expect(throws: KnownHostsEdit.Failure.self) { try KnownHostsEdit.search(keygenOutput: "# Host x\nx \(a)\n", key: "x \(a)") }
        #expect(throws: KnownHostsEdit.Failure.self) { try KnownHostsEdit.search(keygenOutput: "", key: "justone") }
    }

    @Test func theTextAfter() {
        let before = "a \(Self.a)\nb \(Self.b)\nc \(Self.a)"
        let found = { (line: Int?, replace: Bool) in KnownHostsEdit.Search(found: true, replaceOrAdd: replace, foundLine: line) }
        #expect(KnownHostsEdit.after(before, found(2, true), present: true, key: "b new\n") == "a \(Self.a)\nc \(Self.a)b new\n")
        #expect(KnownHostsEdit.after(before, found(nil, false), present: true, key: "z k\n") == "a \(Self.a)\nb \(Self.b)\nc \(Self.a)z k\n")
        #expect(KnownHostsEdit.after(before, found(3, false), present: false, key: "c x\n") == "a \(Self.a)\nb \(Self.b)\n")
        #expect(KnownHostsEdit.after(before, found(9, true), present: true, key: "q\n") == before + "q\n")
        #expect(KnownHostsEdit.after("", KnownHostsEdit.Search(found: false, replaceOrAdd: false, foundLine: nil), present: true, key: "k\n") == "k\n")
        #expect(KnownHostsEdit.after("", found(1, true), present: false, key: nil) == "")
    }

    @Test func hashingAndNames() {
        let salt = [UInt8](repeating: 7, count: 20)
        let hashed = KnownHostsEdit.hashed(host: "git.test", key: "git.test  \(Self.a)  c\n", salt: salt)
        // Python: hmac.new(b'\x07' * 20, b'git.test', hashlib.sha1), base64 of both.
        #expect(hashed == "|1|BwcHBwcHBwcHBwcHBwcHBwcHBwc=|niWio3y5tj7kF2UwkpieJacNVi8= \(Self.a) c")
        #expect(KnownHostsEdit.hashed(host: "h", key: "@revoke h \(Self.a)", salt: salt).hasPrefix("@revoke |1|"))
        #expect(KnownHostsEdit.namesSeveralHosts("a.test, b.test") && KnownHostsEdit.namesSeveralHosts("a,b"))
        #expect(!KnownHostsEdit.namesSeveralHosts("[10.0.0.7]:2222") && !KnownHostsEdit.namesSeveralHosts(",a"))
    }
}
