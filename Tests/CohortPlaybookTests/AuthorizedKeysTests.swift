import CohortPlaybook
import Testing

/// `AuthorizedKeys` against ansible.posix's own functions (`parseoptions`, `parsekeys` and
/// `serialize` of its authorized_key module, collection 12.3.0): each row is what they gave.
@Suite struct AuthorizedKeysTests {
    @Test(arguments: [
        ("from=\"127.0.0.1,::1\",no-pty", [("from", "\"127.0.0.1,::1\""), ("no-pty", nil)]),
        ("no-pty,,permitopen=\"a,b\"", [("no-pty", nil), (",,", nil), ("permitopen", "\"a,b\"")]),
        ("command=\"echo 'hi'\",x=1,y", [("command", "\"echo 'hi'\""), ("x", "1"), ("y", nil)]),
        ("\"unbalanced,z", [("unbalanced", nil), ("z", nil)]),
        ("a=1,a=2", [("a", "1"), ("a", "2")]),
    ] as [(String, [(String, String?)])])
    func optionsSplitAsAnsible(_ text: String, _ expected: [(String, String?)]) {
        let got = AuthorizedKeys.options(text).items
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == expected.map(\.1))
    }

    /// The same key twice keeps the later line (and its place); blank lines collapse into
    /// the last; lines with no key stay as they are.
    @Test func aFileIsWrittenBackAsAnsibleWritesIt() {
        let text = "# managed by hand\n\ncommand=\"ls -l\",no-pty ssh-ed25519 AAA old\nssh-rsa BBB bob\n\nssh-ed25519 AAA again\nnot a key\n"
        #expect(AuthorizedKeys.serialize(AuthorizedKeys.keys(text)) == "# managed by hand\nssh-rsa BBB bob\n\nssh-ed25519 AAA again\nnot a key\n")
    }

    /// enforce_state's edits, by its rules (the oracle rootfs/authorized_key.yml checks them
    /// against the module itself).
    @Test func editsAddReplaceRemoveAndExclude() throws {
        let start = "ssh-rsa BBB bob\n"
        #expect(try AuthorizedKeys.edit(existing: start, key: "ssh-rsa BBB bob", present: true, keyOptions: nil, comment: nil, exclusive: false) == nil)
        #expect(try AuthorizedKeys.edit(existing: start, key: "ssh-ed25519 AAA", present: true, keyOptions: nil, comment: nil, exclusive: false)
            == "ssh-rsa BBB bob\nssh-ed25519 AAA \n")
        #expect(try AuthorizedKeys.edit(existing: start, key: "ssh-rsa BBB bob", present: true, keyOptions: "no-pty", comment: nil, exclusive: false)
            == "no-pty ssh-rsa BBB bob\n")
        #expect(try AuthorizedKeys.edit(existing: start, key: "ssh-rsa BBB other", present: false, keyOptions: nil, comment: nil, exclusive: false) == "")
        #expect(try AuthorizedKeys.edit(existing: "# c\n" + start, key: "ssh-ed25519 AAA x", present: true, keyOptions: nil, comment: nil, exclusive: true)
            == "ssh-ed25519 AAA x\n")
        #expect(throws: AuthorizedKeys.EditError.invalidKey("not a key")) {
            try AuthorizedKeys.edit(existing: start, key: "not a key", present: true, keyOptions: nil, comment: nil, exclusive: false)
        }
    }
}
